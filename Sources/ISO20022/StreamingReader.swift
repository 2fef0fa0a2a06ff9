@preconcurrency internal import CLibXML2

/// Reads an ISO 20022 document with libxml2's pull parser (xmlTextReader): one pass, no DOM.
///
/// Safety: the parser runs with `XML_PARSE_NONET` (never fetch anything) and without
/// `XML_PARSE_NOENT` (which would turn entity substitution *on*) or any DTD loading. A DOCTYPE is
/// refused as soon as the reader meets it, which stops XXE and "billion laughs" before any entity
/// is used. The document size is checked before parsing and the element depth while reading.
struct StreamingReader {
    var limits: ISO20022Limits

    private static let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)

    /// `xmlInitParser()` once per process, before the first parse.
    private static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    private static let headerNamespacePrefix = ISO20022MessageDefinition.namespacePrefix + "head.001."

    /// One open element.
    private struct Frame {
        var name: String
        var line: Int
        var text = ""
        var attributes: [String: String] = [:]
        var hasChildren = false
        /// The path a leaf is recorded under, built once when the element opens (parent's + name).
        var path = ""
    }

    /// Where the reader is in the envelope.
    private enum Region {
        case outside, header, document, message
    }

    func read(_ bytes: [UInt8]) throws(ISO20022Error) -> ISO20022Document {
        guard bytes.count <= limits.maxDocumentBytes else {
            throw ISO20022Error(.documentTooLarge, reason: "the document has \(bytes.count) bytes; the limit is \(limits.maxDocumentBytes)")
        }
        guard !bytes.isEmpty else { throw ISO20022Error(.notWellFormed, line: 1, reason: "the document is empty") }
        // Refused before libxml2 sees it: the reader parses ahead, so an entity bomb in the internal
        // subset could otherwise fail the parse before the DOCTYPE node is reported.
        if let line = StreamingReader.doctypeLine(bytes) { throw StreamingReader.doctypeRefused(line: line) }
        _ = StreamingReader.initialized
        // xmlReaderForMemory does not copy: the whole read happens while the buffer is pinned.
        let result: Result<ISO20022Document, ISO20022Error> = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                xmlResetLastError()
                guard let reader = xmlReaderForMemory(chars.baseAddress, Int32(chars.count), "message.xml", nil, StreamingReader.options) else {
                    return .failure(ISO20022Error(.notWellFormed, reason: "libxml2 could not start reading the document"))
                }
                defer { xmlFreeTextReader(reader) }
                do throws(ISO20022Error) {
                    return .success(try walk(reader))
                } catch {
                    return .failure(error)
                }
            }
        }
        return try result.get()
    }

    private func walk(_ reader: xmlTextReaderPtr) throws(ISO20022Error) -> ISO20022Document {
        var stack: [Frame] = []
        var region = Region.outside
        var documentDepth = -1
        var headerDepth = -1
        var definition: ISO20022MessageDefinition?
        var messageSeen = false
        var elements: [ISO20022Document.Element] = []
        var header: [ISO20022Document.Element] = []
        var blockCounts: [String: Int] = [:]
        var currentBlock = 0
        var documentNamespace = ""

        func line() -> Int { Int(xmlTextReaderGetParserLineNumber(reader)) }
        /// The line of the current node (the parser's own line runs ahead of the reader).
        func nodeLine() -> Int {
            let node = Int(xmlGetLineNo(xmlTextReaderCurrentNode(reader)))
            return node > 0 ? node : line()
        }
        func path() -> String { stack.map(\.name).joined(separator: "/") }

        /// Closes the top frame: a frame without child elements is a leaf and is recorded.
        func close() {
            let frame = stack.removeLast()
            let depth = stack.count  // depth of the closed element
            switch region {
            case .header where depth > headerDepth:
                if !frame.hasChildren {
                    header.append(.init(path: frame.path, block: 0, text: frame.text,
                                        attributes: frame.attributes, line: frame.line, message: "AppHdr"))
                }
            case .message where depth > documentDepth + 1:
                if !frame.hasChildren, let definition {
                    elements.append(.init(path: frame.path, block: currentBlock, text: frame.text,
                                          attributes: frame.attributes, line: frame.line, message: definition.messageElement))
                }
            default:
                break
            }
            if region == .header, depth == headerDepth { region = .outside }
            if region == .message, depth == documentDepth + 1 { region = .document }
            if region == .document, depth == documentDepth { region = .outside }
        }

        while true {
            let status = xmlTextReaderRead(reader)
            if status == 0 { break }
            if status < 0 { throw StreamingReader.parseError(line: line()) }
            let type = xmlTextReaderNodeType(reader)
            switch UInt32(max(type, 0)) {
            case XML_READER_TYPE_DOCUMENT_TYPE.rawValue:
                throw StreamingReader.doctypeRefused(line: nodeLine())
            case XML_READER_TYPE_ENTITY_REFERENCE.rawValue, XML_READER_TYPE_ENTITY.rawValue:
                throw ISO20022Error(.entityRefused, path: path(), line: nodeLine(), reason: "entity references are not allowed")
            case XML_READER_TYPE_ELEMENT.rawValue:
                let depth = Int(xmlTextReaderDepth(reader))
                let name = StreamingReader.string(xmlTextReaderConstLocalName(reader)) ?? ""
                let namespace = StreamingReader.string(xmlTextReaderConstNamespaceUri(reader)) ?? ""
                let here = nodeLine()
                guard depth < limits.maxDepth else {
                    throw ISO20022Error(.tooDeep, path: path() + "/" + name, line: here,
                                        reason: "elements nest deeper than the limit of \(limits.maxDepth)")
                }
                if !stack.isEmpty { stack[stack.count - 1].hasChildren = true }
                switch region {
                case .outside:
                    if name == "Document" {
                        guard documentDepth < 0, depth <= 1 else {
                            throw ISO20022Error(.unexpectedElement, path: path() + "/" + name, line: here, reason: "a second or nested Document element")
                        }
                        definition = try StreamingReader.definition(namespace: namespace, line: here)
                        documentNamespace = namespace
                        documentDepth = depth
                        region = .document
                    } else if depth == 1, name == "AppHdr" {
                        guard namespace.hasPrefix(StreamingReader.headerNamespacePrefix) else {
                            throw ISO20022Error(.unknownNamespace, path: "AppHdr", line: here,
                                                reason: "AppHdr has namespace '\(namespace)'; a head.001 business application header was expected")
                        }
                        headerDepth = depth
                        region = .header
                    } else if depth != 0 {
                        throw ISO20022Error(.unexpectedElement, path: path() + "/" + name, line: here,
                                            reason: "only AppHdr and Document may appear in the envelope")
                    }
                case .header:
                    break
                case .document:
                    guard !messageSeen, let definition, name == definition.messageElement, namespace == documentNamespace else {
                        throw ISO20022Error(.unexpectedElement, path: "Document/" + name, line: here,
                                            reason: "Document of \(definition?.rawValue ?? "?") must hold exactly one \(definition?.messageElement ?? "message") element")
                    }
                    messageSeen = true
                    region = .message
                case .message:
                    guard namespace == documentNamespace else {
                        throw ISO20022Error(.unexpectedElement, path: path() + "/" + name, line: here,
                                            reason: "element in namespace '\(namespace)' inside a \(definition?.rawValue ?? "") document")
                    }
                    if depth == documentDepth + 2 {
                        currentBlock = blockCounts[name, default: 0]
                        blockCounts[name] = currentBlock + 1
                    }
                }
                var frame = Frame(name: name, line: here)
                // Message paths start below the message element; header paths at AppHdr.
                if region == .message && depth >= documentDepth + 2 {
                    frame.path = depth == documentDepth + 2 ? name : stack[stack.count - 1].path + "/" + name
                } else if region == .header && depth >= headerDepth {
                    frame.path = depth == headerDepth ? name : stack[stack.count - 1].path + "/" + name
                }
                if xmlTextReaderHasAttributes(reader) == 1 {
                    while xmlTextReaderMoveToNextAttribute(reader) == 1 {
                        guard xmlTextReaderIsNamespaceDecl(reader) != 1,
                              let key = StreamingReader.string(xmlTextReaderConstLocalName(reader)) else { continue }
                        frame.attributes[key] = StreamingReader.string(xmlTextReaderConstValue(reader)) ?? ""
                    }
                    xmlTextReaderMoveToElement(reader)
                }
                let empty = xmlTextReaderIsEmptyElement(reader) == 1
                stack.append(frame)
                if empty { close() }
            case XML_READER_TYPE_END_ELEMENT.rawValue:
                close()
            case XML_READER_TYPE_TEXT.rawValue, XML_READER_TYPE_CDATA.rawValue:
                if !stack.isEmpty {
                    stack[stack.count - 1].text += StreamingReader.string(xmlTextReaderConstValue(reader)) ?? ""
                }
            default:
                break  // comments, processing instructions, whitespace
            }
        }
        guard let definition else {
            throw ISO20022Error(.missingElement, path: "Document", reason: "no ISO 20022 Document element")
        }
        guard messageSeen else {
            throw ISO20022Error(.missingElement, path: definition.messageElement, reason: "the Document holds no \(definition.messageElement) element")
        }
        return ISO20022Document(definition: definition, elements: elements, blockCounts: blockCounts, header: header)
    }

    /// The message a Document namespace names, or an error naming the namespace.
    static func definition(namespace: String, line: Int) throws(ISO20022Error) -> ISO20022MessageDefinition {
        if let known = ISO20022MessageDefinition.allCases.first(where: { $0.namespace == namespace }) { return known }
        let supported = ISO20022MessageDefinition.allCases.map(\.rawValue).joined(separator: ", ")
        if namespace.hasPrefix(ISO20022MessageDefinition.namespacePrefix) {
            let id = namespace.dropFirst(ISO20022MessageDefinition.namespacePrefix.count)
            throw ISO20022Error(.unsupportedMessage, path: "Document", line: line,
                                reason: "message \(id) (namespace '\(namespace)') is not supported; supported: \(supported)")
        }
        throw ISO20022Error(.unknownNamespace, path: "Document", line: line,
                            reason: "unknown Document namespace '\(namespace)'; supported: \(supported)")
    }

    private static func doctypeRefused(line: Int) -> ISO20022Error {
        ISO20022Error(.doctypeRefused, line: line,
                      reason: "the document has a DOCTYPE; ISO 20022 messages never need one (refused to prevent entity expansion and external entities)")
    }

    /// The line of the first `<!DOCTYPE` in the bytes (ASCII-compatible encodings), or nil.
    static func doctypeLine(_ bytes: [UInt8]) -> Int? {
        // A DOCTYPE can only stand in the prolog, before the root element (anywhere else the
        // document is not well-formed and the parser refuses it): scan the prolog only, skipping
        // the XML declaration, processing instructions and comments.
        bytes.withUnsafeBufferPointer { bytes -> Int? in
            var line = 1
            var index = 0
            func starts(_ text: StaticString, at position: Int) -> Bool {
                let count = text.utf8CodeUnitCount
                guard position + count <= bytes.count else { return false }
                for offset in 0..<count where bytes[position + offset] != text.utf8Start[offset] { return false }
                return true
            }
            func skip(past end: StaticString) {
                while index < bytes.count && !starts(end, at: index) {
                    if bytes[index] == UInt8(ascii: "\n") { line += 1 }
                    index += 1
                }
                index += end.utf8CodeUnitCount
            }
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\n") { line += 1 }
                guard byte == UInt8(ascii: "<") else {
                    index += 1
                    continue
                }
                if starts("<!DOCTYPE", at: index) { return line }
                if starts("<?", at: index) {
                    skip(past: "?>")
                } else if starts("<!--", at: index) {
                    skip(past: "-->")
                } else {
                    return nil  // the root element: the prolog is over
                }
            }
            return nil
        }
    }

    /// libxml2's own description of the last error, with its line.
    private static func parseError(line fallback: Int) -> ISO20022Error {
        guard let error = xmlGetLastError() else {
            return ISO20022Error(.notWellFormed, line: fallback, reason: "the document is not well-formed XML")
        }
        let message = error.pointee.message.map { String(cString: $0) } ?? "not well-formed"
        let line = error.pointee.line > 0 ? Int(error.pointee.line) : fallback
        return ISO20022Error(.notWellFormed, line: line,
                             reason: "not well-formed XML: " + message.trimmed)
    }

    private static func string(_ pointer: UnsafePointer<xmlChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}

/// Limits on what the reader accepts.
public struct ISO20022Limits: Sendable, Hashable {
    /// Largest document, in bytes (default 1 MiB).
    public var maxDocumentBytes: Int
    /// Deepest element nesting, counting the root as depth 1 (default 32).
    public var maxDepth: Int

    public init(maxDocumentBytes: Int = 1 << 20, maxDepth: Int = 32) {
        self.maxDocumentBytes = maxDocumentBytes
        self.maxDepth = maxDepth
    }
}

extension String {
    /// The text without leading and trailing white space.
    var trimmed: String {
        var scalars = Substring(self)
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        return String(scalars)
    }
}
