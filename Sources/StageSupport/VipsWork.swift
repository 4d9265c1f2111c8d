import PipelineEngine
import VipsBindings

/// A libvips image is what image values are, whichever stage target made it.
extension VipsImage: ImageValue {}

extension VipsError {
    /// A libvips failure while running `operation`, as the job's error.
    public func stageError(_ operation: String) -> StageError {
        StageError.invalidInput("\(operation): \(message)")
    }
}

/// Runs libvips work for `operation`, turning its failures into the job's error.
public func withVips<T>(_ operation: String, _ body: () throws -> T) throws(StageError) -> T {
    do {
        return try body()
    } catch let error as VipsError {
        throw error.stageError(operation)
    } catch let error as StageError {
        throw error
    } catch {
        throw StageError(code: "internal", message: "\(operation): \(error)")
    }
}
