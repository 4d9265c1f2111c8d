import CVips

/// Animations as libvips holds them: every frame stacked top to bottom in one
/// image, `page-height` rows each, with a delay per frame and a loop count.
extension VipsImage {
    /// Every frame of a GIF or WebP, stacked, through the named loader.
    public static func openAllPages(path: String, loader: String) throws(VipsError) -> VipsImage {
        try Vips.start()
        var failed: Int32 = 0
        guard let image = kiln_vips_load_all_pages(loader, path, &failed), failed == 0 else {
            throw VipsError.fromBuffer(operation: loader)
        }
        return try VipsImage(owning: image).owningProfile()
    }

    /// One frame of a GIF or WebP (0 is the first).
    public static func openPage(path: String, loader: String, page: Int) throws(VipsError) -> VipsImage {
        try Vips.start()
        var failed: Int32 = 0
        guard let image = kiln_vips_load_page(loader, path, Int32(page), &failed), failed == 0 else {
            throw VipsError.fromBuffer(operation: loader)
        }
        return try VipsImage(owning: image).owningProfile()
    }

    /// How many frames the file holds (`n-pages` of its header), 1 for a still.
    public var pageCount: Int { max(1, intField("n-pages") ?? 1) }

    /// Rows per frame of a stacked animation; the height for a still.
    public var pageHeight: Int {
        let rows = intField("page-height") ?? height
        return rows > 0 && height % rows == 0 ? rows : height
    }

    /// Milliseconds each frame shows, as the header says; empty when it says nothing.
    public var frameDelays: [Int] {
        var count: Int32 = 0
        guard let values = kiln_vips_get_int_array(pointer, "delay", &count), count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: values, count: Int(count))).map(Int.init)
    }

    /// How often the animation plays; 0 is for ever.
    public var loopCount: Int { intField("loop") ?? 0 }

    /// The frames of a stacked animation, each its own (lazy) image.
    public func pages() throws(VipsError) -> [VipsImage] {
        let rows = pageHeight
        guard rows < height else { return [self] }
        var frames: [VipsImage] = []
        for top in stride(from: 0, to: height, by: rows) {
            frames.append(try VipsImage.produce("extract_area") {
                kiln_vips_extract_area(pointer, $0, 0, Int32(top), Int32(width), Int32(rows))
            })
        }
        return frames
    }

    /// Frames of one size stacked into an image the GIF and WebP savers write as an animation.
    public static func animation(frames: [VipsImage], delays: [Int], loop: Int) throws(VipsError) -> VipsImage {
        precondition(!frames.isEmpty && frames.count == delays.count, "one delay per frame")
        var pointers: [UnsafeMutablePointer<CVips.VipsImage>?] = frames.map(\.pointer)
        let stacked = try produce("arrayjoin") { out in
            pointers.withUnsafeMutableBufferPointer { kiln_vips_arrayjoin($0.baseAddress, Int32(frames.count), 1, out) }
        }
        let values = delays.map(Int32.init)
        return try produce("copy") { out in
            kiln_vips_as_animation(stacked.pointer, out, Int32(frames[0].height), values, Int32(values.count), Int32(loop))
        }
    }

    /// Where this image's pixels began in the image it was cut from (an
    /// extract or a smart crop records its origin, negated, here).
    public var cropOrigin: (x: Int, y: Int) {
        (-Int(vips_image_get_xoffset(pointer)), -Int(vips_image_get_yoffset(pointer)))
    }
}
