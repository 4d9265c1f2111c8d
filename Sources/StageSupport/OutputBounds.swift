import PipelineEngine

/// Output bounds, checked from arithmetic before a pixel is computed.
public enum OutputBounds {
    public static func check(width: Int, height: Int, limits: ProcessingLimits, operation: String) throws(StageError) {
        if width > limits.maxOutputDimension || height > limits.maxOutputDimension || width * height > limits.maxOutputPixels {
            throw StageError(code: "output_too_large", message:
                "\(operation) would make a \(width)x\(height) image; the limit is \(limits.maxOutputPixels) pixels and \(limits.maxOutputDimension) per side")
        }
    }
}
