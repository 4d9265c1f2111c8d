/// Why a job or operation list was refused; `pointer` names the offending field.
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var pointer: JSONPointer
    public var message: String

    public init(code: String = "invalid_operation", pointer: JSONPointer, message: String) {
        self.code = code
        self.pointer = pointer
        self.message = message
    }

    public var description: String { "\(pointer): \(message)" }
}
