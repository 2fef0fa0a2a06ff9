@preconcurrency internal import CLibXML2

/// Reads an ISO 20022 document with libxml2's SAX2 parser: one pass, no DOM, no tree nodes.
///
/// Safety: the parser runs with `XML_PARSE_NONET` (never fetch anything) and without
/// `XML_PARSE_NOENT` (which would turn entity substitution *on*) or any DTD loading; the SAX
/// handler resolves no entity. A DOCTYPE is refused by a scan of the prolog before libxml2 sees
/// the bytes (and again by the handler should the parser meet one), which stops XXE and "billion
/// laughs" before any entity is used. The document size is checked before parsing and the element
/// depth while reading.
struct StreamingReader {
    var limits: ISO20022Limits

    private static let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)

    /// `xmlInitParser()` once per process, before the first parse.
    private static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    func read(_ bytes: [UInt8]) throws(ISO20022Error) -> ISO20022Document {
        guard bytes.count <= limits.maxDocumentBytes else {
            throw ISO20022Error(.documentTooLarge, reason: "the document has \(bytes.count) bytes; the limit is \(limits.maxDocumentBytes)")
        }
        guard !bytes.isEmpty else { throw ISO20022Error(.notWellFormed, line: 1, reason: "the document is empty") }
        // Refused before libxml2 sees it: an entity bomb in the internal subset could otherwise
        // fail the parse before the DOCTYPE is reported.
        if let line = StreamingReader.doctypeLine(bytes) { throw StreamingReader.doctypeRefused(line: line) }
        _ = StreamingReader.initialized
        let result: Result<ISO20022Document, ISO20022Error> = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                xmlResetLastError()
                guard let session = StreamingReader.parserContexts.take() else {
                    return .failure(StreamingReader.notStarted)
                }
                let ctxt = session.context
                let state = session.state
                state.initialize(to: SAXReaderState(limits: limits, ctxt: ctxt, buffers: session.buffers.take() ?? ReaderBuffers()))
                var reusable = false
                defer {
                    session.buffers = state.move().buffers()
                    StreamingReader.parserContexts.release(session, reusable: reusable)
                }
                ctxt.pointee.userData = UnsafeMutableRawPointer(state)
                // Some errors are reported with the validation context's user data.
                ctxt.pointee.vctxt.userData = UnsafeMutableRawPointer(state)
                // What xmlCtxtReadMemory does (the context was reset when it was given back); the
                // reader ends the input's reads once the root element opens (see
                // ``SAXReaderState/endReads()``). A static input, which would copy nothing, misreads
                // text after its first shrink in libxml2 2.9.
                // libxml2 takes the size as an Int32: a limit set above 2 GiB must not trap here.
                guard let size = Int32(exactly: chars.count) else {
                    return .failure(ISO20022Error(.documentTooLarge, reason: "the document has \(chars.count) bytes; libxml2 reads at most \(Int32.max)"))
                }
                guard let input = xmlParserInputBufferCreateMem(chars.baseAddress, size, XML_CHAR_ENCODING_NONE) else {
                    return .failure(StreamingReader.notStarted)
                }
                guard let stream = xmlNewIOInputStream(ctxt, input, XML_CHAR_ENCODING_NONE) else {
                    xmlFreeParserInputBuffer(input)
                    return .failure(StreamingReader.notStarted)
                }
                guard inputPush(ctxt, stream) >= 0 else { return .failure(StreamingReader.notStarted) }
                xmlCtxtUseOptions(ctxt, StreamingReader.options)
                // The handler builds no document: the outcome is in the state and `wellFormed`.
                _ = xmlParseDocument(ctxt)
                if let error = state.pointee.finalError() { return .failure(error) }
                reusable = true
                do throws(ISO20022Error) {
                    return .success(try state.pointee.document())
                } catch {
                    return .failure(error)
                }
            }
        }
        return try result.get()
    }

    static let notStarted = ISO20022Error(.notWellFormed, reason: "libxml2 could not start reading the document")

    /// The message a Document namespace names, or an error naming the namespace.
    static func definition(namespace: String, line: Int) throws(ISO20022Error) -> ISO20022MessageDefinition {
        if let known = byNamespace[namespace] { return known }
        let supported = ISO20022MessageDefinition.allCases.map(\.rawValue).joined(separator: ", ")
        if namespace.hasPrefix(ISO20022MessageDefinition.namespacePrefix) {
            let id = namespace.dropFirst(ISO20022MessageDefinition.namespacePrefix.count)
            throw ISO20022Error(.unsupportedMessage, path: "Document", line: line,
                                reason: "message \(id) (namespace '\(namespace)') is not supported; supported: \(supported)")
        }
        throw ISO20022Error(.unknownNamespace, path: "Document", line: line,
                            reason: "unknown Document namespace '\(namespace)'; supported: \(supported)")
    }

    /// Every supported message by its Document namespace.
    private static let byNamespace = Dictionary(ISO20022MessageDefinition.allCases.map { ($0.namespace, $0) }, uniquingKeysWith: { first, _ in first })

    static func doctypeRefused(line: Int) -> ISO20022Error {
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

    /// libxml2's own description of the first fatal error (or of the last error), with its line.
    static func parseError(_ first: (message: String, line: Int)?, line fallback: Int) -> ISO20022Error {
        var message: String
        var line: Int
        if let first {
            (message, line) = first
        } else if let error = xmlGetLastError() {
            message = error.pointee.message.map { String(cString: $0) } ?? "not well-formed"
            line = Int(error.pointee.line)
        } else {
            return ISO20022Error(.notWellFormed, line: fallback, reason: "the document is not well-formed XML")
        }
        if line <= 0 { line = fallback }
        if message.isEmpty { message = "not well-formed" }
        return ISO20022Error(.notWellFormed, line: line,
                             reason: "not well-formed XML: " + message.trimmed)
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
