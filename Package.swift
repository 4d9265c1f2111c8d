// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "kiln",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kiln", targets: ["kiln"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
    ],
    targets: [
        // C libraries, reached through pkg-config; shim headers cover variadics and macros.
        .systemLibrary(name: "CVips", pkgConfig: "vips", providers: [.apt(["libvips-dev"])]),
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat libavcodec libavfilter libswscale libswresample libavutil",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavfilter-dev", "libswscale-dev", "libswresample-dev", "libavutil-dev"])]
        ),
        // av_log's callback takes a va_list: formatted to plain lines in C.
        .target(name: "CFFmpegShims", dependencies: ["CFFmpeg"]),
        // libjpeg-turbo without libvips' pipeline around it: TurboJPEG's scaled decode, handed to libvips as a
        // memory image with the file's metadata, and small JPEGs written by libjpeg on the calling thread.
        .target(name: "CTurboJPEG", dependencies: ["CVips"], cSettings: [.headerSearchPath("../CVips")], linkerSettings: [.linkedLibrary("turbojpeg"), .linkedLibrary("jpeg")]),
        // The last resize of a shrink-on-load thumbnail, over a plain buffer on the calling thread.
        .target(name: "CResample", dependencies: ["CVips"], cSettings: [.headerSearchPath("../CVips")]),
        .target(name: "VipsBindings", dependencies: ["CVips", "CTurboJPEG", "CResample"]),
        // OpenCV's face detector (C++) behind one plain C function.
        .target(
            name: "CFaceDetect",
            cxxSettings: [.unsafeFlags(["-I/usr/include/opencv4"])],
            linkerSettings: [.linkedLibrary("opencv_objdetect"), .linkedLibrary("opencv_imgproc"), .linkedLibrary("opencv_core")]
        ),
        .target(name: "FFmpegBindings", dependencies: [
            "CFFmpeg", "CFFmpegShims",
            .product(name: "Atomics", package: "swift-atomics"),
        ]),
        .target(name: "PipelineEngine", dependencies: [
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Atomics", package: "swift-atomics"),
        ]),
        // What both stage targets share (error adapters, frame-to-image bridge, bounds, geometry), so neither imports the other.
        .target(name: "StageSupport", dependencies: ["PipelineEngine", "VipsBindings", "FFmpegBindings"]),
        .target(name: "ImageStages", dependencies: ["PipelineEngine", "StageSupport", "VipsBindings", "FFmpegBindings", "CFaceDetect"]),
        .target(name: "VideoStages", dependencies: ["PipelineEngine", "StageSupport", "FFmpegBindings", "VipsBindings", "ImageStages"]),
        // S3: SigV4 (swift-crypto) over async-http-client.
        .target(name: "Storage", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "_NIOFileSystem", package: "swift-nio"),
        ]),
        .target(
            name: "JobStore",
            dependencies: [
                "PipelineEngine",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Migrations")]
        ),
        .target(name: "JobRunner", dependencies: [
            "JobStore", "Storage", "PipelineEngine", "Egress",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // The web console: static HTML, CSS and ES modules, served by HTTPAPI at `/`.
        .target(name: "Console", resources: [.copy("Resources")]),
        .target(
            name: "HTTPAPI",
            dependencies: [
                "JobStore", "Storage", "PipelineEngine", "Console", "Egress",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            resources: [.copy("openapi.json")]
        ),
        // Where Kiln may connect on a tenant's behalf: public addresses only, judged after resolution.
        .target(name: "Egress", dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")]),
        // Wiring: the one place that knows every stage, the configuration and the services.
        .target(name: "KilnApp", dependencies: [
            "HTTPAPI", "JobRunner", "CHeapStats", "CSandbox", "Egress", "JobStore", "Storage", "PipelineEngine",
            "ImageStages", "VideoStages", "VipsBindings", "FFmpegBindings",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // The bindings' workload for `make leakcheck` (valgrind).
        .executableTarget(name: "kiln-leakcheck", dependencies: ["VipsBindings", "FFmpegBindings"]),
        // `make bench`: in-process calls against the vips/ffmpeg CLIs.
        .executableTarget(name: "kiln-bench", dependencies: [
            "KilnApp", "KilnTestSupport", "PipelineEngine", "VipsBindings", "FFmpegBindings", .product(name: "Logging", package: "swift-log"),
        ]),
        // The database path's memory, counted in-process (live heap bytes around a query loop).
        .target(name: "CHeapStats"),
        // What a supervised worker does to itself before it takes work: rlimits, no new privileges, seccomp (Debian's libseccomp).
        .target(name: "CSandbox", linkerSettings: [.linkedLibrary("seccomp")]),
        .executableTarget(name: "kiln-soak", dependencies: ["KilnApp", "JobStore", "CHeapStats"]),
        // `kiln submit / status / watch`: a client of a running server's HTTP API.
        .target(name: "KilnClient", dependencies: [
            "PipelineEngine",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "_NIOFileSystem", package: "swift-nio"),
        ]),
        .executableTarget(name: "kiln", dependencies: [
            "KilnApp", "KilnClient", "HTTPAPI", "JobRunner",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .target(name: "KilnTestSupport", dependencies: ["KilnApp", "JobRunner", "Storage", "VipsBindings", .product(name: "Logging", package: "swift-log")],
                path: "Tests/KilnTestSupport"),
        .testTarget(name: "VipsBindingsTests", dependencies: ["VipsBindings", "CResample", "KilnTestSupport"]),
        .testTarget(name: "ImageStagesTests", dependencies: ["ImageStages", "KilnApp", "VipsBindings", "PipelineEngine", "KilnTestSupport"]),
        .testTarget(name: "VideoStagesTests", dependencies: ["VideoStages", "KilnApp", "VipsBindings", "PipelineEngine", "KilnTestSupport"]),
        // Every operation over the real-media corpus (scripts/corpus.py), outputs decoded and checked.
        .testTarget(name: "ConformanceTests", dependencies: ["KilnApp", "VipsBindings", "PipelineEngine", "KilnTestSupport"]),
        .testTarget(name: "FFmpegBindingsTests", dependencies: ["FFmpegBindings", "KilnTestSupport"]),
        .testTarget(name: "PipelineEngineTests", dependencies: ["PipelineEngine", "KilnApp", "JobStore", "KilnTestSupport"]),
        .testTarget(name: "JobStoreTests", dependencies: ["JobStore", "KilnApp", "KilnTestSupport",
            .product(name: "PostgresNIO", package: "postgres-nio")]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "KilnTestSupport", .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "AsyncHTTPClient", package: "async-http-client")]),
        .testTarget(name: "HTTPAPITests", dependencies: ["HTTPAPI", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "EgressTests", dependencies: ["Egress"]),
        .testTarget(name: "EndToEndTests", dependencies: [
            "KilnApp", "HTTPAPI", "JobStore", "JobRunner", "VipsBindings", "FFmpegBindings", "KilnTestSupport", "KilnClient", "Egress", "Storage",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ]
)
