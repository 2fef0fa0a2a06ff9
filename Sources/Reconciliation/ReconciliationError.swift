/// A malformed row or an unreadable file, located by file, line and column.
public struct ReconciliationError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The file's path or name as given to the reader.
    public let file: String
    /// Line, from 1; 0 when the fault concerns the whole file.
    public let line: Int
    /// Byte column of the field in the line, from 1; 0 when unknown.
    public let column: Int
    /// What is wrong, as one sentence. Never holds a field value longer than 10 characters, so
    /// never a card number.
    public let message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: error: message`, the form compilers use and editors understand.
    public var description: String { "\(file):\(line):\(column): error: \(message)" }
}
