import Foundation
import KilnApp
import PipelineEngine

/// Runs operations on a fixture (or any file) with the real registry, as `kiln run` does.
public func runLocally(_ input: String, _ request: JSONValue, limits: ProcessingLimits = .init()) async throws -> [String: LocalRun.Output] {
    let directory = NSTemporaryDirectory() + "kiln-local-" + UUID().uuidString
    let path = input.hasPrefix("/") ? input : Fixture.path(input)
    let library = try PipelineLibrary(directory: Fixture.repositoryRoot + "/Pipelines")
    let outputs = try await LocalRun(limits: limits, logger: TestEnvironment.logger()).run(
        input: path, request: request, pipelines: library, directory: directory)
    return Dictionary(uniqueKeysWithValues: outputs.map { ($0.name, $0) })
}

/// The one file of a single-output run of `operations`.
public func runOperations(_ input: String, _ operations: JSONValue, limits: ProcessingLimits = .init()) async throws -> String {
    let outputs = try await runLocally(input, ["operations": operations], limits: limits)
    guard let file = outputs["default"]?.files.first else { throw TestFailure("no file produced") }
    return file.path
}

/// The stage error a run ended with, or nil when it succeeded.
public func stageFailure(_ input: String, _ operations: JSONValue, limits: ProcessingLimits = .init()) async -> StageError? {
    do {
        _ = try await runLocally(input, ["operations": operations], limits: limits)
        return nil
    } catch LocalRun.Failure.failed(_, let error) {
        return error
    } catch {
        return StageError(code: "unexpected", message: "\(error)")
    }
}

/// A test's own failure, with what went wrong.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
