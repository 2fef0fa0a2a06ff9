/// Why an ISO 20022 document could not be read or written.
///
/// Every error names what went wrong (`code`), the element path where it is known
/// (`FIToFICstmrCdtTrf/CdtTrfTxInf/IntrBkSttlmAmt`) and the source line where the parser knows it.
public struct ISO20022Error: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The document is larger than the configured limit.
        case documentTooLarge
        /// Elements nest deeper than the configured limit.
        case tooDeep
        /// The document has a DOCTYPE (ISO 20022 never needs one; refusing it stops XXE and entity expansion).
        case doctypeRefused
        /// An entity reference or declaration appeared outside a DOCTYPE.
        case entityRefused
        /// libxml2 found the document not well-formed.
        case notWellFormed
        /// The Document namespace is not an ISO 20022 message namespace.
        case unknownNamespace
        /// An ISO 20022 message this codec does not read or write (yet).
        case unsupportedMessage
        /// An element where the envelope or message does not allow one.
        case unexpectedElement
        /// Character data in an element that holds elements: ISO 20022 has no mixed content, and
        /// text there would otherwise be dropped.
        case unexpectedText
        /// An element the schema allows once (maxOccurs 1) occurs again under the same parent.
        case duplicateElement
        /// A required element is missing.
        case missingElement
        /// An element's value cannot be mapped (unknown currency, too many decimals …).
        case invalidValue
        /// A canonical message cannot be written as ISO 20022.
        case cannotEncode
    }

    public var code: Code
    /// The element path, relative to the Document element, where known.
    public var path: String?
    /// The line in the XML text, where known.
    public var line: Int?
    public var reason: String

    public init(_ code: Code, path: String? = nil, line: Int? = nil, reason: String) {
        self.code = code
        self.path = path
        self.line = line
        self.reason = reason
    }

    public var description: String {
        var text = "ISO 20022 \(code.rawValue)"
        if let line { text += " at line \(line)" }
        if let path { text += " (\(path))" }
        return text + ": " + reason
    }
}

/// A problem found by the business checks the XML schema cannot make.
public struct ISO20022Problem: Sendable, Hashable, CustomStringConvertible {
    /// The element path, relative to the Document element.
    public var path: String
    public var line: Int?
    public var reason: String

    public init(path: String, line: Int? = nil, reason: String) {
        self.path = path
        self.line = line
        self.reason = reason
    }

    public var description: String {
        (line.map { "line \($0): " } ?? "") + path + ": " + reason
    }
}
