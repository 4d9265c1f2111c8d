import Foundation
import KilnTestSupport
import Testing

/// The test process shares Swift's cooperative pool among all the tests that
/// run at once, and a test that blocks it stalls in-process Kilns elsewhere
/// (see `OwnThreads`). Every suite of a target that uses the test support
/// must therefore run its tests on threads of their own.
@Suite(.ownThreads) struct TestIsolationTests {
    @Test func everySuiteRunsOnThreadsOfItsOwn() throws {
        let tests = Fixture.repositoryRoot + "/Tests"
        var unprotected: [String] = [], suites = 0
        for target in try FileManager.default.contentsOfDirectory(atPath: tests).sorted() where target != "KilnTestSupport" {
            let files = (FileManager.default.enumerator(atPath: tests + "/" + target)?.allObjects as? [String] ?? [])
                .filter { $0.hasSuffix(".swift") }.map { tests + "/" + target + "/" + $0 }
            let sources = try files.map { ($0, try String(contentsOfFile: $0, encoding: .utf8)) }
            // Targets without the support (pure unit tests of HTTPAPI and Egress) cannot name the trait.
            guard sources.contains(where: { $0.1.contains("import KilnTestSupport") }) else { continue }
            for (path, text) in sources where text.contains("@Test") {
                let lines = text.components(separatedBy: "\n")
                for (index, line) in lines.enumerated() where line.hasPrefix("struct ") || line.hasPrefix("@Suite") && line.contains(" struct ") {
                    suites += 1
                    let declaration = line.hasPrefix("struct ") && index > 0 ? lines[index - 1] + " " + line : line
                    if !declaration.contains("@Suite(") || !declaration.contains(".ownThreads") {
                        unprotected.append("\((path as NSString).lastPathComponent):\(index + 1): \(line)")
                    }
                }
            }
        }
        #expect(suites > 90, "only \(suites) suites found under \(tests)")
        #expect(unprotected.isEmpty, "suites whose tests run on the shared pool; add @Suite(.ownThreads):\n\(unprotected.joined(separator: "\n"))")
    }
}
