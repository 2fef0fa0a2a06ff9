/// An error in a human-edited file (dialect spec, routing rules, configuration), located by
/// file, line and column so an editor can jump to it.
public struct SpecError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The file's path or name as given to the loader.
    public let file: String
    /// Line, from 1; 0 when the fault concerns the whole file.
    public let line: Int
    /// Column, from 1; 0 when unknown.
    public let column: Int
    /// What is wrong, as one sentence.
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
