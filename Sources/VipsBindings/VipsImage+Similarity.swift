import CVips

extension VipsImage {
    /// Mean structural similarity (SSIM) of this image and `other`, of one
    /// size, on their luma: 1 is identical, and a JPEG at quality 80 of a
    /// photo scores about 0.97. Renders both images.
    public func structuralSimilarity(to other: VipsImage) throws(VipsError) -> Double {
        guard width == other.width, height == other.height else {
            throw VipsError(operation: "ssim", message: "\(width)x\(height) against \(other.width)x\(other.height): sizes differ")
        }
        var score = 0.0
        guard kiln_vips_ssim(pointer, other.pointer, &score) == 0 else { throw VipsError.fromBuffer(operation: "ssim") }
        return score
    }
}
