import FFmpegBindings
import Foundation
import Logging
import PipelineEngine
import StageSupport

/// Follows an HLS ladder as it writes. Once every rendition has finished a
/// segment, each newly finished segment is published with the EVENT playlists
/// that name it (segments first, the master once); at the end the playlists
/// become VOD and the master is rewritten with the bit rates measured over
/// every segment.
final class HLSOutputWriter {
    let settings: HLSSettings
    let outputName: String
    let publisher: (any ProgressivePublisher)?
    let logger: Logger
    /// Segment and init files already handed to the publisher.
    private var published: Set<String> = []
    private var masterPublished = false

    init(settings: HLSSettings, outputName: String, publisher: (any ProgressivePublisher)?, logger: Logger) {
        self.settings = settings
        self.outputName = outputName
        self.publisher = publisher
        self.logger = logger
    }

    static func contentType(of name: String) -> String {
        switch (name as NSString).pathExtension {
        case "m3u8": "application/vnd.apple.mpegurl"
        case "ts": "video/mp2t"
        default: "video/mp4"
        }
    }

    private func path(_ name: String) -> String { settings.directory + "/" + name }

    private func produced(_ name: String, width: Int? = nil, height: Int? = nil, duration: Double? = nil,
                          publication: Publication = .fixed) -> ProducedFile {
        let size = fileSize(atPath: path(name)) ?? 0
        return ProducedFile(name: name, contentType: Self.contentType(of: name), size: size, width: width, height: height, duration: duration,
                            publication: publication)
    }

    private func renditions(_ facts: HLSLadderFacts) -> [String] {
        settings.rungs.map(\.name) + (facts.audioCodec == nil ? [] : [HLSSettings.audioName])
    }

    /// The rendition's playlist and its files (init section first, then segments in order).
    private func playlist(_ rendition: String, _ list: HLSSegmentList) -> (playlist: MediaPlaylist, files: [String]) {
        let playlist = MediaPlaylist(list, targetDuration: settings.targetDuration, fragmentedMP4: settings.segmentType == .fmp4)
        let files = ([playlist.map].compactMap { $0 } + playlist.segments.map(\.uri)).map { rendition + "/" + $0 }
        return (playlist, files)
    }

    private func rate(_ rendition: String, _ playlist: MediaPlaylist) -> RenditionRate {
        RenditionRate(segments: playlist.segments.map { segment in
            let bytes = fileSize(atPath: path(rendition + "/" + segment.uri)) ?? 0
            return (segment.duration, bytes)
        })
    }

    private func master(_ facts: HLSLadderFacts, playlists: [String: MediaPlaylist]) -> MasterPlaylist {
        let variants = settings.rungs.enumerated().map { index, rung in
            MasterPlaylist.Variant(uri: rung.name + "/" + HLSSettings.playlistName, width: rung.width, height: rung.height,
                                   codec: facts.videoCodecs[index], rate: playlists[rung.name].map { rate(rung.name, $0) } ?? RenditionRate(peak: 0, average: 0))
        }
        let audio = facts.audioCodec.map { codec in
            MasterPlaylist.AudioRendition(uri: HLSSettings.audioName + "/" + HLSSettings.playlistName, codec: codec,
                                          rate: playlists[HLSSettings.audioName].map { rate(HLSSettings.audioName, $0) } ?? RenditionRate(peak: 0, average: 0))
        }
        return MasterPlaylist(variants: variants, audio: audio, frameRate: facts.frameRate, fragmentedMP4: settings.segmentType == .fmp4)
    }

    func segmentsFinished(_ lists: [HLSSegmentList], _ facts: HLSLadderFacts) {
        guard let publisher, !lists.contains(where: \.segments.isEmpty) else { return }
        do {
            var fresh: [ProducedFile] = []
            var playlistFiles: [ProducedFile] = []
            var playlists: [String: MediaPlaylist] = [:]
            for (rendition, list) in zip(renditions(facts), lists) {
                let (playlist, files) = playlist(rendition, list)
                playlists[rendition] = playlist
                try playlist.event.write(toFile: path(rendition + "/" + HLSSettings.playlistName), atomically: true, encoding: .utf8)
                for file in files where !published.contains(file) {
                    fresh.append(produced(file))
                    published.insert(file)
                }
                // Its length so far: a later attempt's playlist replaces it only once it is as long (RunningOutputRecorder).
                playlistFiles.append(produced(rendition + "/" + HLSSettings.playlistName, duration: playlist.seconds,
                                              publication: .livePlaylist))
            }
            var batch = fresh + playlistFiles
            if !masterPublished {
                // Provisional rates from the first segments; the final master replaces it.
                try master(facts, playlists: playlists).text.write(toFile: path(HLS.masterName), atomically: true, encoding: .utf8)
                batch.append(produced(HLS.masterName, publication: .playbackEntry))
                masterPublished = true
            }
            publisher.publish(batch)
        } catch {
            // Not fatal: the output is still published whole when it completes.
            logger.warning("could not publish HLS progress", metadata: ["error": "\(error)"])
        }
    }

    /// Turns the playlists into VOD, writes the master from every segment's
    /// measured size, and lists the files: segments before the playlists that
    /// name them, the master last.
    func finish(_ facts: HLSLadderFacts) throws -> OutputProduct {
        var files: [ProducedFile] = []
        var playlists: [String: MediaPlaylist] = [:]
        var duration = 0.0
        for (rendition, list) in zip(renditions(facts), facts.segmentLists) {
            var (playlist, segmentFiles) = playlist(rendition, list)
            if rendition != HLSSettings.audioName { playlist = playlist.endingAt(videoSeconds: facts.videoSeconds) }
            guard !playlist.segments.isEmpty else { throw StageError.invalidInput("hls: the \(rendition) rendition has no segment") }
            playlists[rendition] = playlist
            let playlistName = rendition + "/" + HLSSettings.playlistName
            try playlist.vod.write(toFile: path(playlistName), atomically: true, encoding: .utf8)
            let seconds = playlist.seconds
            duration = max(duration, seconds)
            let rung = settings.rungs.first { $0.name == rendition }
            files += segmentFiles.map { produced($0) }
            files.append(produced(playlistName, width: rung?.width, height: rung?.height, duration: seconds, publication: .livePlaylist))
        }
        let master = master(facts, playlists: playlists)
        try master.text.write(toFile: path(HLS.masterName), atomically: true, encoding: .utf8)
        files.append(produced(HLS.masterName, width: settings.rungs.first?.width, height: settings.rungs.first?.height, duration: duration,
                              publication: .playbackEntry))
        let renditionResults: [JSONValue] = master.variants.map { variant in
            .object(["playlist": .string(outputName + "/" + variant.uri), "width": .number(Double(variant.width)), "height": .number(Double(variant.height)),
                     "codecs": .string(variant.codec), "bandwidth": .number(Double(variant.rate.peak)), "averageBandwidth": .number(Double(variant.rate.average))])
        }
        return OutputProduct(files: files, results: ["renditions": .array(renditionResults)])
    }
}
