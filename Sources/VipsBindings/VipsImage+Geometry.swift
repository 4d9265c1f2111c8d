import CVips

/// Resampling kernels, as libvips names them.
public enum ResizeKernel: String, Sendable, CaseIterable {
    case nearest, linear, cubic, mitchell, lanczos2, lanczos3

    var vips: VipsKernel {
        switch self {
        case .nearest: VIPS_KERNEL_NEAREST
        case .linear: VIPS_KERNEL_LINEAR
        case .cubic: VIPS_KERNEL_CUBIC
        case .mitchell: VIPS_KERNEL_MITCHELL
        case .lanczos2: VIPS_KERNEL_LANCZOS2
        case .lanczos3: VIPS_KERNEL_LANCZOS3
        }
    }
}

/// Where a smaller region sits inside a larger one: the eight compass points and the centre.
public enum Compass: String, Sendable, CaseIterable {
    case centre, north, northeast, east, southeast, south, southwest, west, northwest

    var vips: VipsCompassDirection {
        switch self {
        case .centre: VIPS_COMPASS_DIRECTION_CENTRE
        case .north: VIPS_COMPASS_DIRECTION_NORTH
        case .northeast: VIPS_COMPASS_DIRECTION_NORTH_EAST
        case .east: VIPS_COMPASS_DIRECTION_EAST
        case .southeast: VIPS_COMPASS_DIRECTION_SOUTH_EAST
        case .south: VIPS_COMPASS_DIRECTION_SOUTH
        case .southwest: VIPS_COMPASS_DIRECTION_SOUTH_WEST
        case .west: VIPS_COMPASS_DIRECTION_WEST
        case .northwest: VIPS_COMPASS_DIRECTION_NORTH_WEST
        }
    }

    /// Top-left corner of a `width` x `height` region placed this way in a
    /// `outerWidth` x `outerHeight` area, `margin` pixels in from the edges it touches.
    public func origin(width: Int, height: Int, in outerWidth: Int, _ outerHeight: Int, margin: Int = 0) -> (x: Int, y: Int) {
        let left = margin, right = outerWidth - width - margin, middleX = (outerWidth - width) / 2
        let top = margin, bottom = outerHeight - height - margin, middleY = (outerHeight - height) / 2
        return switch self {
        case .centre: (middleX, middleY)
        case .north: (middleX, top)
        case .northeast: (right, top)
        case .east: (right, middleY)
        case .southeast: (right, bottom)
        case .south: (middleX, bottom)
        case .southwest: (left, bottom)
        case .west: (left, middleY)
        case .northwest: (left, top)
        }
    }
}

/// libvips' content-aware crop strategies.
public enum Interesting: String, Sendable {
    /// Regions with skin tones, saturated colour and edges.
    case attention
    /// The region with the most information (Shannon entropy).
    case entropy

    var vips: VipsInteresting {
        switch self {
        case .attention: VIPS_INTERESTING_ATTENTION
        case .entropy: VIPS_INTERESTING_ENTROPY
        }
    }
}

extension VipsImage {
    /// Applies the EXIF orientation tag to the pixels and removes the tag.
    public func autoRotated() throws(VipsError) -> VipsImage {
        guard orientation != 1 else { return self }
        // 2 mirrors each row in place and streams; every other orientation reads the source out of order.
        let source = orientation == 2 ? self : try randomAccessible()
        return try VipsImage.produce("autorot") { kiln_vips_autorot(source.pointer, $0) }
    }

    public func resized(xScale: Double, yScale: Double, kernel: ResizeKernel = .lanczos3) throws(VipsError) -> VipsImage {
        try VipsImage.produce("resize") { kiln_vips_resize(pointer, $0, xScale, yScale, kernel.vips) }
    }

    /// Decodes `path` straight to `width` x `height` (aspect ratio not kept),
    /// using shrink-on-load; EXIF orientation applied unless `autoRotate` is false.
    public static func load(path: String, resizedTo width: Int, _ height: Int, autoRotate: Bool) throws(VipsError) -> VipsImage {
        try Vips.start()
        return try produce("thumbnail") { kiln_vips_thumbnail_force(path, $0, Int32(width), Int32(height), autoRotate ? 0 : 1) }.owningProfile()
    }

    public func cropped(x: Int, y: Int, width: Int, height: Int) throws(VipsError) -> VipsImage {
        if x == 0, y == 0, width == self.width, height == self.height { return self }
        return try VipsImage.produce("extract_area") { kiln_vips_extract_area(pointer, $0, Int32(x), Int32(y), Int32(width), Int32(height)) }
    }

    /// Reads the image several times (to score regions), so from a random-access copy.
    public func smartCropped(width: Int, height: Int, interesting: Interesting) throws(VipsError) -> VipsImage {
        let source = try randomAccessible()
        return try VipsImage.produce("smartcrop") { kiln_vips_smartcrop(source.pointer, $0, Int32(width), Int32(height), interesting.vips) }
    }

    /// Places the image on a `width` x `height` canvas filled with `background`
    /// (one value per band of this image).
    public func placed(on width: Int, _ height: Int, at compass: Compass, background: [Double]) throws(VipsError) -> VipsImage {
        try VipsImage.produce("gravity") {
            kiln_vips_gravity(pointer, $0, compass.vips, Int32(width), Int32(height), background, Int32(background.count))
        }
    }

    /// The image with an opaque alpha band added (for transparent padding).
    public func addingAlpha() throws(VipsError) -> VipsImage {
        if hasAlpha { return self }
        return try VipsImage.produce("addalpha") { kiln_vips_addalpha(pointer, $0) }
    }

    /// Rotates by a multiple of 90 degrees clockwise, without resampling.
    public func rotated(quarterTurns: Int) throws(VipsError) -> VipsImage {
        let angle: VipsAngle = switch ((quarterTurns % 4) + 4) % 4 {
        case 1: VIPS_ANGLE_D90
        case 2: VIPS_ANGLE_D180
        case 3: VIPS_ANGLE_D270
        default: VIPS_ANGLE_D0
        }
        if angle == VIPS_ANGLE_D0 { return self }
        let source = try randomAccessible()
        return try VipsImage.produce("rot") { kiln_vips_rot(source.pointer, $0, angle) }
    }

    /// Rotates by any angle clockwise; the corners it uncovers get `background`.
    public func rotated(degrees: Double, background: [Double]) throws(VipsError) -> VipsImage {
        let source = try randomAccessible()
        return try VipsImage.produce("rotate") { kiln_vips_rotate(source.pointer, $0, degrees, background, Int32(background.count)) }
    }

    /// Mirrors left-right (`horizontal`) or top-bottom.
    public func mirrored(horizontal: Bool) throws(VipsError) -> VipsImage {
        // Left-right keeps each row where it is; top-bottom asks for the last row first.
        let source = horizontal ? self : try randomAccessible()
        return try VipsImage.produce("flip") { kiln_vips_flip(source.pointer, $0, horizontal ? VIPS_DIRECTION_HORIZONTAL : VIPS_DIRECTION_VERTICAL) }
    }
}
