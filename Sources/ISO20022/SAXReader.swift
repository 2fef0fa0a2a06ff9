@preconcurrency internal import CLibXML2

/// The state of one SAX2 parse: libxml2 calls the `@convention(c)` callbacks below with the
/// parser's `userData`, a pointer to this value (a struct behind a pointer, so that the callbacks
/// pay for no dynamic exclusivity checks).
///
/// It builds the same ``ISO20022Document`` the xmlTextReader-based reader did: leaf elements with
/// their paths, blocks, text, attributes and start-tag lines, the header leaves and the block
/// counts. Element names are kept as bytes in one `/`-joined buffer (each name appended once when
/// its element opens); a String is made only for what is recorded: a leaf's path, text and
/// attributes. Callbacks cannot throw: the first error is kept in
/// ``error`` and the parser is stopped with `xmlStopParser`.
struct SAXReaderState {
    /// One open element.
    struct Frame {
        /// Where the element's name starts in ``names``.
        var nameStart: Int
        var line: Int
        var attributes: [String: String] = [:]
        var hasChildren = false
        /// Numbers the open elements of one parse: a parent's key in ``childNames``.
        var serial: Int
        /// How many earlier siblings of the same name it has (0 for the first).
        var occurrence = 0
    }

    /// Where the reader is in the envelope.
    enum Region {
        case outside, header, document, message
    }

    static let headerNamespacePrefix = ISO20022MessageDefinition.namespacePrefix + "head.001."

    let limits: ISO20022Limits
    let ctxt: xmlParserCtxtPtr

    /// The first error met by a callback. The parser is stopped at its next callback: should
    /// libxml2 find the start tag that reported the element not well-formed (cut off after its
    /// name), that error is the one reported, as the pull reader did.
    var error: ISO20022Error?
    /// Whether the element's start tag was not well-formed after ``error`` was set.
    var parseErrorAfterError = false
    var stopped = false
    /// Where the parser stood when the last start tag was reported (where its `>` should be).
    var startTagEnd = -1

    /// The parser's offset in the document.
    var offset: Int {
        guard let input = ctxt.pointee.input, let cur = input.pointee.cur, let base = input.pointee.base else { return -2 }
        return Int(input.pointee.consumed) + (cur - base)
    }
    /// The first fatal error libxml2 reported (its message and line).
    var parseError: (message: String, line: Int)?

    var stack: [Frame] = []
    /// (parent serial, child name) of every element opened: a second child of the same name
    /// under one parent is found without keeping the names of closed siblings. Hasher is seeded
    /// per process, so a document cannot be crafted to collide.
    var childNames = Set<Int>()
    /// For a (parent serial, child name) that occurred more than once: how many times after the first.
    var repeats: [Int: Int] = [:]
    /// How many open elements below the top-level block are a second or later occurrence: when
    /// none is, a leaf's indexed path is its path.
    var nestedRepeats = 0
    /// The depth of the element open content (`SplmtryData/Envlp`, `xs:any`) starts at, or -1:
    /// there any element of any namespace may occur, any number of times.
    var openContentDepth = -1
    var serials = 0
    /// The names of the open elements joined by `/` (UTF-8): the error path, and the recorded
    /// paths of leaves, which are a suffix of it (from the block or AppHdr on).
    var names: [UInt8] = []
    /// Where recorded paths start in ``names`` (the top-level block's or AppHdr's name), or -1.
    var pathStart = -1
    var region = Region.outside
    var documentDepth = -1
    var headerDepth = -1
    /// The namespace of `AppHdr` (head.001.001.02) and libxml2's interned copy of it.
    var headerNamespace = ""
    var headerNamespacePointer: UnsafePointer<xmlChar>?
    var definition: ISO20022MessageDefinition?
    var messageSeen = false
    var elements: [ISO20022Document.Element] = []
    var header: [ISO20022Document.Element] = []
    var blockCounts: [String: Int] = [:]
    var currentBlock = 0
    var documentNamespace = ""
    /// The Document namespace as libxml2 handed it over (namespace names are interned in the
    /// parser's dictionary, so the same pointer comes back for every element in it).
    var documentNamespacePointer: UnsafePointer<xmlChar>?

    /// Character data of the innermost open element since its start tag or its last child: only a
    /// leaf's is ever used. Like libxml2's tree (which the pull reader walked), character data
    /// between two markup items is one text node, and a text node of white space only is left out.
    var text: [UInt8] = []
    /// Where the current run of character data (the text node being built) starts in `text`.
    var runStart = 0
    /// Whether the current run has anything but white space.
    var runHasContent = false

    init(limits: ISO20022Limits, ctxt: xmlParserCtxtPtr) {
        self.limits = limits
        self.ctxt = ctxt
        // One allocation for a typical message's elements instead of a growth step per doubling.
        childNames.reserveCapacity(128)
    }

    /// The parser's line: at a start tag's callback, the line the reader gave the element.
    var line: Int {
        guard let input = ctxt.pointee.input else { return 0 }
        return Int(input.pointee.line)
    }

    func path() -> String { String(decoding: names, as: UTF8.self) }

    mutating func fail(_ error: ISO20022Error) {
        if self.error == nil { self.error = error }
    }

    /// Called by every callback once ``error`` is set: the markup before it was well-formed.
    mutating func stop() {
        guard !stopped else { return }
        stopped = true
        xmlStopParser(ctxt)
    }

    /// The error to report once the parse is over, if any.
    func finalError(status: Int32) -> ISO20022Error? {
        if let error, !parseErrorAfterError { return error }
        if status != 0 || ctxt.pointee.wellFormed == 0 {
            return StreamingReader.parseError(parseError, line: line)
        }
        return error
    }

    // MARK: Text

    /// Ends the current run of character data: a run of white space only is dropped.
    @inline(__always)
    mutating func endRun() {
        if !runHasContent && text.count > runStart { text.removeSubrange(runStart...) }
        runStart = text.count
        runHasContent = false
    }

    @inline(__always)
    mutating func resetText() {
        text.removeAll(keepingCapacity: true)
        runStart = 0
        runHasContent = false
    }

    mutating func characters(_ bytes: UnsafePointer<xmlChar>, _ count: Int) {
        guard count > 0 else { return }
        let buffer = UnsafeBufferPointer(start: bytes, count: count)
        if !runHasContent {
            for byte in buffer where !(byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D) {
                runHasContent = true
                break
            }
        }
        text.append(contentsOf: buffer)
    }

    mutating func cdata(_ bytes: UnsafePointer<xmlChar>, _ count: Int) {
        endRun()
        // A CDATA section is a node of its own and kept even when it is white space only.
        text.append(contentsOf: UnsafeBufferPointer(start: bytes, count: max(count, 0)))
        runStart = text.count
    }

    // MARK: Elements

    mutating func startElement(localname: UnsafePointer<xmlChar>, prefix: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?,
                               attributeCount: Int, attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        let depth = stack.count
        if depth > 0 { names.append(UInt8(ascii: "/")) }
        let nameStart = names.count
        SAXReaderState.appendName(localname, prefix: prefix, uri: uri, to: &names)
        let here = line
        guard depth < limits.maxDepth else {
            return fail(ISO20022Error(.tooDeep, path: elementPath(depth: depth), line: here,
                                      reason: "elements nest deeper than the limit of \(limits.maxDepth)"))
        }
        if !stack.isEmpty { stack[stack.count - 1].hasChildren = true }
        switch region {
        case .outside:
            let namespace = uri.map { String(cString: $0) } ?? ""
            if nameIs("Document", from: nameStart) {
                guard documentDepth < 0, depth <= 1 else {
                    return fail(ISO20022Error(.unexpectedElement, path: elementPath(depth: depth), line: here,
                                              reason: "a second or nested Document element"))
                }
                do {
                    definition = try StreamingReader.definition(namespace: namespace, line: here)
                } catch {
                    return fail(error)
                }
                documentNamespace = namespace
                documentNamespacePointer = uri
                documentDepth = depth
                region = .document
            } else if depth == 1, nameIs("AppHdr", from: nameStart) {
                guard namespace.hasPrefix(SAXReaderState.headerNamespacePrefix) else {
                    return fail(ISO20022Error(.unknownNamespace, path: "AppHdr", line: here,
                                              reason: "AppHdr has namespace '\(namespace)'; a head.001 business application header was expected"))
                }
                headerDepth = depth
                headerNamespace = namespace
                headerNamespacePointer = uri
                region = .header
            } else if depth != 0 {
                return fail(ISO20022Error(.unexpectedElement, path: elementPath(depth: depth), line: here,
                                          reason: "only AppHdr and Document may appear in the envelope"))
            }
        case .header:
            // A signature (`Sgntr`, of the header or a related one) is open content: XML-DSig.
            if openContentDepth < 0, parentPathIs("Sgntr", before: nameStart) { openContentDepth = depth }
            if !isNamespace(uri, headerNamespace, pointer: headerNamespacePointer) {
                guard admitForeign(uri, nameStart: nameStart, depth: depth, line: here) else { return }
            }
        case .document:
            guard !messageSeen, let definition, nameIs(definition.messageElement, from: nameStart),
                  isNamespace(uri, documentNamespace, pointer: documentNamespacePointer) else {
                return fail(ISO20022Error(.unexpectedElement, path: "Document/" + name(from: nameStart), line: here,
                                          reason: "Document of \(definition?.rawValue ?? "?") must hold exactly one \(definition?.messageElement ?? "message") element"))
            }
            messageSeen = true
            region = .message
        case .message:
            if openContentDepth < 0, depth >= 2, parentPathIs("SplmtryData/Envlp", before: nameStart) {
                openContentDepth = depth
            }
            if !isNamespace(uri, documentNamespace, pointer: documentNamespacePointer) {
                guard admitForeign(uri, nameStart: nameStart, depth: depth, line: here) else { return }
            }
            if depth == documentDepth + 2 {
                let name = name(from: nameStart)
                currentBlock = blockCounts[name, default: 0]
                blockCounts[name] = currentBlock + 1
            }
        }
        // Message paths start below the message element; header paths at AppHdr.
        if (region == .message && depth == documentDepth + 2) || (region == .header && depth == headerDepth) {
            pathStart = nameStart
        }
        var occurrence = 0
        if let parent = stack.last, (region == .message && depth > documentDepth + 1) || (region == .header && depth > headerDepth) {
            var hasher = Hasher()
            hasher.combine(parent.serial)
            names.withUnsafeBytes { hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: $0[nameStart...])) }
            let key = hasher.finalize()
            if !childNames.insert(key).inserted {
                guard (openContentDepth >= 0 && depth >= openContentDepth) || isRepeatable(leafPath()) else {
                    return fail(ISO20022Error(.duplicateElement, path: elementPath(depth: depth), line: here,
                                              reason: "\(name(from: nameStart)) occurs more than once here; the schema allows it once"))
                }
                occurrence = repeats[key, default: 0] + 1
                repeats[key] = occurrence
                if region == .header || depth > documentDepth + 2 { nestedRepeats += 1 }
            }
        }
        serials += 1
        var frame = Frame(nameStart: nameStart, line: here, serial: serials, occurrence: occurrence)
        if attributeCount > 0, let attributes {
            // Five pointers per attribute: local name, prefix, URI, value start, value end.
            for index in 0..<attributeCount {
                let base = index * 5
                guard let key = attributes[base], let start = attributes[base + 3], let end = attributes[base + 4] else { continue }
                var keyBytes: [UInt8] = []
                SAXReaderState.appendName(key, prefix: attributes[base + 1], uri: attributes[base + 2], to: &keyBytes)
                frame.attributes[String(decoding: keyBytes, as: UTF8.self)] = SAXReaderState.attributeValue(start, end)
            }
        }
        stack.append(frame)
        resetText()
    }

    mutating func endElement() {
        guard !stack.isEmpty else { return }
        endRun()
        let frame = stack.removeLast()
        let depth = stack.count  // depth of the closed element
        switch region {
        case .header where depth > headerDepth:
            if !frame.hasChildren {
                header.append(.init(path: leafPath(), block: 0, text: String(decoding: text, as: UTF8.self),
                                    attributes: frame.attributes, line: frame.line, message: "AppHdr",
                                    indexedPath: indexedLeafPath(closed: frame, from: headerDepth)))
            }
        case .message where depth > documentDepth + 1:
            if !frame.hasChildren, let definition {
                elements.append(.init(path: leafPath(), block: currentBlock, text: String(decoding: text, as: UTF8.self),
                                      attributes: frame.attributes, line: frame.line, message: definition.messageElement,
                                      indexedPath: indexedLeafPath(closed: frame, from: documentDepth + 2)))
            }
        default:
            break
        }
        if frame.occurrence > 0, region == .header || depth > documentDepth + 2 { nestedRepeats -= 1 }
        if depth == openContentDepth { openContentDepth = -1 }
        if region == .header, depth == headerDepth { region = .outside }
        if region == .message, depth == documentDepth + 1 { region = .document }
        if region == .document, depth == documentDepth { region = .outside }
        // Drop the name and the `/` before it.
        names.removeLast(names.count - max(frame.nameStart - 1, 0))
        resetText()
    }

    /// The path of the leaf being closed: from the top-level block (or AppHdr) on.
    func leafPath() -> String {
        String(decoding: names[max(pathStart, 0)...], as: UTF8.self)
    }

    /// The leaf's path with the 1-based occurrence after each name below `top` (the top-level block
    /// or AppHdr, whose index the block number carries) that is not the first of its name:
    /// `CdtTrfTxInf/RmtInf/Ustrd[2]`. Nil when there is none (the path says it all).
    func indexedLeafPath(closed leaf: Frame, from top: Int) -> String? {
        guard nestedRepeats > 0 || leaf.occurrence > 0 else { return nil }
        var bytes: [UInt8] = []
        let frames = stack[max(top, 0)...] + [leaf]
        for (position, frame) in zip(frames.indices, frames) {
            let end = position + 1 < frames.endIndex ? frames[position + 1].nameStart - 1 : names.count
            if !bytes.isEmpty { bytes.append(UInt8(ascii: "/")) }
            bytes.append(contentsOf: names[frame.nameStart..<end])
            if frame.occurrence > 0, position > top {
                bytes.append(contentsOf: "[\(frame.occurrence + 1)]".utf8)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether the schema lets the element at `path` (from the top-level block, or `AppHdr/…`) repeat.
    func isRepeatable(_ path: String) -> Bool {
        let schema = ISO20022Schema.shared
        if region == .header {
            guard path.hasPrefix("AppHdr/"), let root = schema.roots[ISO20022MessageDefinition.headerDefinition] else { return false }
            return schema.isRepeatable(path.dropFirst("AppHdr/".count), from: root.type)
        }
        return definition.map { schema.isRepeatable(path[...], from: $0.schemaRoot.type) } ?? false
    }

    /// Whether the open elements before the one starting at `nameStart` end with `suffix`.
    func parentPathIs(_ suffix: StaticString, before nameStart: Int) -> Bool {
        let end = nameStart - 1
        let count = suffix.utf8CodeUnitCount
        guard end - count >= 1, names[end - count - 1] == UInt8(ascii: "/") else { return false }
        return suffix.withUTF8Buffer { names[(end - count)..<end].elementsEqual($0) }
    }

    /// The path of an element just opened, for an error (`/Name` for the root, as before).
    func elementPath(depth: Int) -> String {
        depth == 0 ? "/" + path() : path()
    }

    /// The name of the element just opened.
    func name(from start: Int) -> String {
        String(decoding: names[start...], as: UTF8.self)
    }

    func nameIs(_ expected: String, from start: Int) -> Bool {
        var expected = expected
        return expected.withUTF8 { names[start...].elementsEqual($0) }
    }

    /// Appends the local name; with an undeclared prefix (a namespace error libxml2 lets pass) the
    /// qualified name, as libxml2's tree keeps it.
    static func appendName(_ localname: UnsafePointer<xmlChar>, prefix: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?,
                           to bytes: inout [UInt8]) {
        if let prefix, uri == nil {
            bytes.append(contentsOf: UnsafeBufferPointer(start: prefix, count: Int(xmlStrlen(prefix))))
            bytes.append(UInt8(ascii: ":"))
        }
        bytes.append(contentsOf: UnsafeBufferPointer(start: localname, count: Int(xmlStrlen(localname))))
    }

    /// Whether `uri` is `namespace`; `pointer` is libxml2's interned copy of it, when known (the
    /// same pointer comes back for every element in it).
    @inline(__always)
    func isNamespace(_ uri: UnsafePointer<xmlChar>?, _ namespace: String, pointer: UnsafePointer<xmlChar>?) -> Bool {
        if let uri, uri == pointer { return true }
        guard let uri else { return namespace.isEmpty }
        return namespace.utf8.elementsEqual(UnsafeBufferPointer(start: uri, count: Int(xmlStrlen(uri))))
    }

    /// Takes the element just opened, of another namespace than its region's (the document's, the
    /// header's): in open content it is recorded as `{namespace}local`, so that it is written back
    /// in it; elsewhere it is an error naming the namespace. False then.
    mutating func admitForeign(_ uri: UnsafePointer<xmlChar>?, nameStart: Int, depth: Int, line: Int) -> Bool {
        let namespace = uri.map { String(cString: $0) } ?? ""
        guard openContentDepth >= 0 else {
            let inside = region == .header ? "the head.001 header" : "a \(definition?.rawValue ?? "") document"
            fail(ISO20022Error(.unexpectedElement, path: elementPath(depth: depth), line: line,
                               reason: "element in namespace '\(namespace)' inside \(inside)"))
            return false
        }
        let local = name(from: nameStart)
        names.removeLast(names.count - nameStart)
        names.append(contentsOf: ISO20022Path.foreignName(namespace: namespace, local: local).utf8)
        return true
    }

    /// An attribute value from libxml2's SAX2 byte range. Without entity substitution the parser
    /// hands a `&` written as `&amp;` or `&#38;` over as `&#38;` (the tree builder decodes it
    /// again); no other `&` can be in the range.
    static func attributeValue(_ start: UnsafePointer<xmlChar>, _ end: UnsafePointer<xmlChar>) -> String {
        let bytes = UnsafeBufferPointer(start: start, count: max(end - start, 0))
        guard bytes.contains(UInt8(ascii: "&")) else { return String(decoding: bytes, as: UTF8.self) }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = 0
        let escape: [UInt8] = Array("&#38;".utf8)
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "&"), index + escape.count <= bytes.count,
               bytes[index..<index + escape.count].elementsEqual(escape) {
                decoded.append(UInt8(ascii: "&"))
                index += escape.count
            } else {
                decoded.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: decoded, as: UTF8.self)
    }

    func document() throws(ISO20022Error) -> ISO20022Document {
        guard let definition else {
            throw ISO20022Error(.missingElement, path: "Document", reason: "no ISO 20022 Document element")
        }
        guard messageSeen else {
            throw ISO20022Error(.missingElement, path: definition.messageElement, reason: "the Document holds no \(definition.messageElement) element")
        }
        return ISO20022Document(definition: definition, elements: elements, blockCounts: blockCounts, header: header)
    }

    // MARK: Callbacks

    @inline(__always)
    static func state(_ ctx: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<SAXReaderState> {
        ctx!.assumingMemoryBound(to: SAXReaderState.self)
    }

    /// The SAX2 handler: elements, character data, CDATA, comments and processing instructions
    /// (which end a text node), a refused DOCTYPE, no entities, structured errors.
    static let handler: xmlSAXHandler = {
        var sax = xmlSAXHandler()
        sax.initialized = XML_SAX2_MAGIC
        sax.startElementNs = { ctx, localname, prefix, uri, _, _, attributeCount, _, attributes in
            let state = SAXReaderState.state(ctx)
            guard state.pointee.error == nil else { return state.pointee.stop() }
            guard let localname else { return }
            state.pointee.startTagEnd = state.pointee.offset
            state.pointee.startElement(localname: localname, prefix: prefix, uri: uri, attributeCount: Int(attributeCount), attributes: attributes)
        }
        sax.endElementNs = { ctx, _, _, _ in
            let state = SAXReaderState.state(ctx)
            guard state.pointee.error == nil else { return state.pointee.stop() }
            state.pointee.endElement()
        }
        let characters: charactersSAXFunc = { ctx, bytes, count in
            let state = SAXReaderState.state(ctx)
            guard state.pointee.error == nil else { return state.pointee.stop() }
            guard let bytes else { return }
            state.pointee.characters(bytes, Int(count))
        }
        sax.characters = characters
        // The same function, so libxml2 never tells white space apart (as with keepBlanks).
        sax.ignorableWhitespace = characters
        sax.cdataBlock = { ctx, bytes, count in
            let state = SAXReaderState.state(ctx)
            guard state.pointee.error == nil else { return state.pointee.stop() }
            guard let bytes else { return }
            state.pointee.cdata(bytes, Int(count))
        }
        sax.comment = { ctx, _ in
            let state = SAXReaderState.state(ctx)
            guard state.pointee.error == nil else { return state.pointee.stop() }
            state.pointee.endRun()
        }
        sax.processingInstruction = { ctx, _, _ in
            let state = SAXReaderState.state(ctx)
            guard state.pointee.error == nil else { return state.pointee.stop() }
            state.pointee.endRun()
        }
        sax.endDocument = { ctx in
            let state = SAXReaderState.state(ctx)
            if state.pointee.error != nil { state.pointee.stop() }
        }
        sax.internalSubset = { ctx, _, _, _ in
            let state = SAXReaderState.state(ctx)
            state.pointee.fail(StreamingReader.doctypeRefused(line: state.pointee.line))
            state.pointee.stop()
        }
        sax.externalSubset = { ctx, _, _, _ in
            let state = SAXReaderState.state(ctx)
            state.pointee.fail(StreamingReader.doctypeRefused(line: state.pointee.line))
            state.pointee.stop()
        }
        sax.getEntity = { _, _ in nil }
        sax.getParameterEntity = { _, _ in nil }
        sax.entityDecl = { ctx, _, _, _, _, _ in
            let state = SAXReaderState.state(ctx)
            state.pointee.fail(StreamingReader.doctypeRefused(line: state.pointee.line))
            state.pointee.stop()
        }
        sax.serror = { ctx, error in
            guard let error, error.pointee.level == XML_ERR_FATAL else { return }
            let state = SAXReaderState.state(ctx)
            // A start tag cut off after its name: libxml2 reports the element, then the error.
            if state.pointee.error != nil, !state.pointee.stopped, error.pointee.code == Int32(XML_ERR_GT_REQUIRED.rawValue),
               state.pointee.offset == state.pointee.startTagEnd {
                state.pointee.parseErrorAfterError = true
            }
            guard state.pointee.parseError == nil else { return }
            let message = error.pointee.message.map { String(cString: $0) } ?? "not well-formed"
            state.pointee.parseError = (message, Int(error.pointee.line))
        }
        return sax
    }()
}
