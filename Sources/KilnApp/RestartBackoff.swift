/// How long a supervisor waits before starting a child process again: from a
/// quarter second, doubling up to 30 s while children keep dying young, and
/// back to a quarter second once one has run a minute (a one-off crash).
/// Worker slots, render children and the inspector all restart by it.
struct RestartBackoff: Sendable {
    static let first = 0.25
    static let longest = 30.0

    /// The wait the next restart would take.
    private(set) var seconds = Self.first

    /// The wait before starting again after a child that ran `ranFor`; the one after that doubles.
    mutating func next(afterRunning ranFor: Duration) -> Double {
        if ranFor > .seconds(60) { seconds = Self.first }
        defer { seconds = min(seconds * 2, Self.longest) }
        return seconds
    }

    /// Sleeps out `next(afterRunning:)`.
    mutating func wait(afterRunning ranFor: Duration) async {
        try? await Task.sleep(for: .seconds(next(afterRunning: ranFor)))
    }
}
