internal import SpecFiles

/// An error or warning about a rule file, located by file:line:column.
public struct RoutingDiagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error, warning
    }

    /// What kind of problem, so tools and tests can tell them apart without parsing text.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Not YAML, or not the shape of a rule file (missing or misplaced keys).
        case syntax
        /// A condition names a field routing does not know.
        case unknownField
        /// An action names a channel the file does not declare.
        case unknownChannel
        /// A result or currency code that the code tables do not have.
        case unknownCode
        /// A value of the wrong type or form for its field.
        case wrongType
        /// An operator the field does not support (comparisons on a list field, say).
        case wrongOperator
        /// A split weight that is not a positive whole number.
        case splitWeight
        /// Two rules with the same id.
        case duplicateRule
        /// A BIN table that cannot be read or is malformed.
        case binTable
        /// Conditions on one path that no message can satisfy together.
        case contradiction
        /// A rule that earlier rules keep from ever matching (warning).
        case shadowed
        /// A field no decoder fills for the message kinds the rule can see (warning).
        case unfilledField
    }

    public let severity: Severity
    public let kind: Kind
    public let position: SourcePosition
    public let message: String

    public init(_ severity: Severity, _ kind: Kind, at position: SourcePosition, _ message: String) {
        self.severity = severity
        self.kind = kind
        self.position = position
        self.message = message
    }

    /// An error of `kind` from a ``SpecError`` raised while reading the file.
    init(_ kind: Kind, _ error: SpecError) {
        self.init(.error, kind, at: SourcePosition(file: error.file, line: error.line, column: error.column), error.message)
    }

    /// `file:line:column: error: message [kind]`, the form compilers use and editors understand.
    public var description: String { "\(position): \(severity.rawValue): \(message) [\(kind.rawValue)]" }
}

extension SpecNode {
    /// Where the node was written.
    var position: SourcePosition { SourcePosition(file: file, line: line, column: column) }

    /// A routing diagnostic located at this node.
    func diagnostic(_ kind: RoutingDiagnostic.Kind, _ message: String, severity: RoutingDiagnostic.Severity = .error) -> RoutingDiagnostic {
        RoutingDiagnostic(severity, kind, at: position, message)
    }
}

/// Runs a ``SpecNode`` accessor, reporting its error as a routing diagnostic of `kind`.
func reading<T>(_ kind: RoutingDiagnostic.Kind, _ body: () throws -> T) throws(RoutingDiagnostic) -> T {
    do {
        return try body()
    } catch let error as SpecError {
        throw RoutingDiagnostic(kind, error)
    } catch let error as RoutingDiagnostic {
        throw error
    } catch {
        throw RoutingDiagnostic(.error, kind, at: .none, "\(error)")
    }
}
