@preconcurrency internal import CLibXML2
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The reader's buffers, kept with a parser context between parses (see
/// ``StreamingReader/ParserContexts``): a parse allocates none of them once they have grown to its
/// document's deepest path and longest text.
struct ReaderBuffers: ~Copyable {
    typealias Sibling = (local: UnsafePointer<xmlChar>, uri: UnsafePointer<xmlChar>?)

    var stack: ReusableBuffer<SAXReaderState.Frame>
    var siblings: ReusableBuffer<Sibling>
    var names: ReusableBuffer<UInt8>
    var text: ReusableBuffer<UInt8>
    var children: ChildMemo

    /// The most bytes of text or names kept for a later parse: a document with a longer text or
    /// path leaves its buffers to be freed, so that idle readers hold little memory.
    static let keptBytes = 16 * 1024

    init() {
        self.init(stack: ReusableBuffer(capacity: 32), siblings: ReusableBuffer(capacity: 64),
                  names: ReusableBuffer(capacity: 256), text: ReusableBuffer(capacity: 256))
    }

    init(stack: consuming ReusableBuffer<SAXReaderState.Frame>, siblings: consuming ReusableBuffer<Sibling>,
         names: consuming ReusableBuffer<UInt8>, text: consuming ReusableBuffer<UInt8>, children: consuming ChildMemo = ChildMemo()) {
        self.stack = stack
        self.siblings = siblings
        self.names = names
        self.text = text
        self.children = children
    }

    var areSmall: Bool {
        text.capacity <= ReaderBuffers.keptBytes && names.capacity <= ReaderBuffers.keptBytes
            && stack.capacity <= 1024 && siblings.capacity <= 4096
    }
}

/// Place-tree children found before, by mapping, parent node and libxml2's interned name: kept
/// with a parser context, whose dictionary gives an element name the same pointer parse after
/// parse, so that most elements find their node with one compare instead of a walk into the tree's
/// tables. Direct-mapped: a clash only costs the walk.
struct ChildMemo: ~Copyable {
    struct Entry {
        var name: UnsafePointer<xmlChar>?
        var parent: Int32
        var mapping: UInt16
        var child: Int32
    }

    static let count = 512
    private let entries: UnsafeMutablePointer<Entry>

    init() {
        entries = .allocate(capacity: ChildMemo.count)
        entries.initialize(repeating: Entry(name: nil, parent: -1, mapping: 0, child: -1), count: ChildMemo.count)
    }

    deinit {
        entries.deallocate()
    }

    /// The child of `parent` named `name` in the tree of mapping `mapping`, from the memo or `tree`.
    @inline(__always)
    func child(of parent: Int32, named name: UnsafePointer<xmlChar>, count: Int, mapping: UInt16,
               in tree: ISO20022MessageMapping.PlaceTree.View) -> Int32 {
        guard parent >= 0 else { return ISO20022MessageMapping.PlaceTree.none }
        let key = UInt(bitPattern: Int(bitPattern: name)) >> 3 ^ UInt(UInt32(bitPattern: parent)) &* 0x9E37_79B1 ^ UInt(mapping) << 20
        let slot = Int(key & UInt(ChildMemo.count - 1))
        let entry = entries[slot]
        if entry.name == name, entry.parent == parent, entry.mapping == mapping { return entry.child }
        let child = tree.child(of: parent, named: name, count: count)
        entries[slot] = Entry(name: name, parent: parent, mapping: mapping, child: child)
        return child
    }
}

/// The state of one SAX2 parse: libxml2 calls the `@convention(c)` callbacks below with the
/// parser's `userData`, a pointer to this value (a struct behind a pointer, so that the callbacks
/// pay for no dynamic exclusivity checks).
///
/// It builds the same ``ISO20022Document`` the xmlTextReader-based reader did: leaf elements with
/// their paths, blocks, text, attributes and start-tag lines, the header leaves and the block
/// counts. Element names are kept as bytes in one `/`-joined buffer (each name appended once when
/// its element opens), and the region's mapping places are walked as a tree as elements open; a
/// String is made only for what is recorded: a leaf's text and attributes, and its path when it
/// is at no mapped place. Callbacks cannot throw: the first error is kept in
/// ``error`` and the parser is stopped with `xmlStopParser`.
///
/// Methods the callbacks call per element are `mutating` even when they only read: called from a
/// mutating method, a borrowed `self` (some 400 bytes) is copied to the stack at every call, by
/// address it is not.
struct SAXReaderState: ~Copyable {
    /// One open element.
    struct Frame {
        /// Where the element's name starts in ``names``.
        var nameStart: Int
        var line: Int
        /// Whether its attributes are the last of ``attributeSets``. The frame itself holds no
        /// reference, so that opening and closing one copies plain words.
        var hasAttributes = false
        var hasChildren = false
        /// How many earlier siblings of the same name it has (0 for the first).
        var occurrence = 0
        /// Where the names of its children start in ``siblings``.
        var childStart = 0
        /// Its node in ``tree``, or `PlaceTree.none` when no mapped place is at or below it.
        var node = ISO20022MessageMapping.PlaceTree.none
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

    var stack: ReusableBuffer<Frame>
    /// The attributes of the open elements that have any, innermost last.
    var attributeSets: [[String: String]] = []
    /// The names (local name and namespace, as libxml2 interned them) of the children of every
    /// open element, each open element's after its own: a repeated child is found by comparing
    /// a few pointers, without a hash or a String per element.
    var siblings: ReusableBuffer<ReaderBuffers.Sibling>
    /// The places of the mapping of the region being read (the message's, the header's), and
    /// their memory as the callbacks read it (kept alive by `tree`).
    var tree = ISO20022MessageMapping.PlaceTree.empty {
        didSet { treeView = tree.view }
    }
    var treeView = ISO20022MessageMapping.PlaceTree.empty.view
    /// How many open elements below the top-level block are a second or later occurrence: when
    /// none is, a leaf's indexed path is its path.
    var nestedRepeats = 0
    /// The depth of the element open content (`SplmtryData/Envlp`, `xs:any`) starts at, or -1:
    /// there any element of any namespace may occur, any number of times.
    var openContentDepth = -1
    /// The names of the open elements joined by `/` (UTF-8): the error path, and the recorded
    /// paths of leaves, which are a suffix of it (from the block or AppHdr on).
    var names: ReusableBuffer<UInt8>
    /// Where recorded paths start in ``names`` (the top-level block's or AppHdr's name), or -1.
    var pathStart = -1
    var region = Region.outside
    var documentDepth = -1
    var headerDepth = -1
    /// The namespace of `AppHdr` (head.001.001.02) and libxml2's interned copy of it.
    var headerNamespace = ""
    var headerNamespacePointer: UnsafePointer<xmlChar>?
    var definition: ISO20022MessageDefinition?
    /// The number of the region's mapping (``ISO20022MessageMapping/shippedByNumber``), each leaf's.
    var mappingNumber: UInt16 = 0
    var messageSeen = false
    var elements: [ISO20022Document.Element] = []
    var header: [ISO20022Document.Element] = []
    /// The top-level blocks met (libxml2's interned local name) and how often each occurred, in
    /// order: a document has a handful, found by comparing a pointer; ``document()`` names them.
    var blocks: [(name: UnsafePointer<xmlChar>, count: Int)] = []
    var currentBlock = 0
    var documentNamespace = ""
    /// The Document namespace as libxml2 handed it over (namespace names are interned in the
    /// parser's dictionary, so the same pointer comes back for every element in it).
    var documentNamespacePointer: UnsafePointer<xmlChar>?

    /// Character data of the innermost open element since its start tag or its last child: only a
    /// leaf's is ever used. Like libxml2's tree (which the pull reader walked), character data
    /// between two markup items is one text node, and a text node of white space only is left out.
    var text: ReusableBuffer<UInt8>
    /// The place-tree children found by earlier parses on this parser context.
    var children: ChildMemo
    /// Where the current run of character data (the text node being built) starts in `text`.
    var runStart = 0
    /// Whether the current run has anything but white space.
    var runHasContent = false
    /// Whether a CDATA section is in ``text``.
    var textHasCDATA = false

    /// A state for one parse, in the buffers of an earlier one (emptied).
    init(limits: ISO20022Limits, ctxt: xmlParserCtxtPtr, buffers: consuming ReaderBuffers) {
        self.limits = limits
        self.ctxt = ctxt
        stack = buffers.stack
        siblings = buffers.siblings
        names = buffers.names
        text = buffers.text
        children = buffers.children
        stack.truncate(to: 0)
        siblings.truncate(to: 0)
        names.truncate(to: 0)
        text.truncate(to: 0)
        elements.reserveCapacity(64)
    }

    /// Ends the state, giving its buffers back for the next parse.
    consuming func buffers() -> ReaderBuffers {
        ReaderBuffers(stack: stack, siblings: siblings, names: names, text: text, children: children)
    }

    /// The parser's line: at a start tag's callback, the line the reader gave the element.
    var line: Int {
        guard let input = ctxt.pointee.input else { return 0 }
        return Int(input.pointee.line)
    }

    func path() -> String { names.string() }

    mutating func fail(_ error: ISO20022Error) {
        if self.error == nil { self.error = error }
    }

    /// Called by every callback once ``error`` is set: the markup before it was well-formed.
    mutating func stop() {
        guard !stopped else { return }
        stopped = true
        xmlStopParser(ctxt)
    }

    /// Stops libxml2 asking the input for more, when the document is UTF-8: all of it is in the
    /// buffer, yet libxml2 2.9's pull parser asks a memory input near its end at every markup item
    /// (an empty read, and the buffer grown for it, each time: a twentieth of a decode). An input
    /// being converted from another encoding (the XML declaration is read by now) is converted as
    /// it is read, so it keeps its reads.
    mutating func endReads() {
        guard let input = ctxt.pointee.input?.pointee.buf, input.pointee.encoder == nil else { return }
        input.pointee.readcallback = nil
    }

    /// The error to report once the parse is over, if any.
    func finalError() -> ISO20022Error? {
        if let error, !parseErrorAfterError { return error }
        if ctxt.pointee.wellFormed == 0 {
            return StreamingReader.parseError(parseError, line: line)
        }
        return error
    }

    // MARK: Text

    /// Ends the current run of character data: a run of white space only is dropped.
    @inline(__always)
    mutating func endRun() {
        if !runHasContent && text.count > runStart { text.truncate(to: runStart) }
        runStart = text.count
        runHasContent = false
    }

    @inline(__always)
    mutating func resetText() {
        text.truncate(to: 0)
        runStart = 0
        runHasContent = false
        textHasCDATA = false
    }

    // Inlined into the one callback that calls each of these: a call and a frame less per event.
    @inline(__always)
    mutating func characters(_ bytes: UnsafePointer<xmlChar>, _ count: Int) {
        guard count > 0 else { return }
        let buffer = UnsafeBufferPointer(start: bytes, count: count)
        if stack.count > 0, stack[stack.count - 1].hasChildren {
            // After a child element only white space may stand, and none of it is kept.
            if SAXReaderState.hasContent(buffer) { refuseText() }
            return
        }
        if !runHasContent, SAXReaderState.hasContent(buffer) { runHasContent = true }
        text.append(buffer)
    }

    /// Whether the bytes are anything but XML white space.
    @inline(__always)
    static func hasContent(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var index = 0
        // Indentation is a line feed and spaces: eight spaces are one compare.
        if bytes.count >= 9, base[0] == UInt8(ascii: "\n") {
            index = 1
            while index + 8 <= bytes.count,
                  UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self) == 0x2020_2020_2020_2020 { index += 8 }
        }
        // Bits 9, 10, 13 and 32: tab, line feed, carriage return, space.
        let whiteSpace: UInt64 = 1 << 9 | 1 << 10 | 1 << 13 | 1 << 32
        while index < bytes.count {
            let byte = base[index]
            if byte > 0x20 || whiteSpace & (1 << UInt64(byte)) == 0 { return true }
            index += 1
        }
        return false
    }

    /// Fails on character data in the innermost open element, which holds elements, when that is
    /// in the document or the header (outside open content, where anything may stand). The text
    /// itself is not quoted: it could be card or account data.
    mutating func refuseText() {
        let depth = stack.count - 1
        guard region == .message || region == .header || region == .document,
              openContentDepth < 0 || depth < openContentDepth else { return }
        fail(ISO20022Error(.unexpectedText, path: elementPath(depth: depth), line: line,
                           reason: "character data in \(name(from: stack[depth].nameStart)), which holds elements only (the schema allows no text there)"))
    }

    mutating func cdata(_ bytes: UnsafePointer<xmlChar>, _ count: Int) {
        // A CDATA section, even of white space, is character content (xmllint refuses it too).
        if let open = stack.last, open.hasChildren { return refuseText() }
        textHasCDATA = true
        endRun()
        // A CDATA section is a node of its own and kept even when it is white space only.
        text.append(UnsafeBufferPointer(start: bytes, count: max(count, 0)))
        runStart = text.count
    }

    // MARK: Elements

    @inline(__always)
    mutating func startElement(localname: UnsafePointer<xmlChar>, prefix: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?,
                               attributeCount: Int, attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        let depth = stack.count
        if let parent = stack.last, !parent.hasChildren {
            // The parent's text before its first child: white space only, or an error.
            endRun()
            if textHasCDATA || (text.count > 0 && SAXReaderState.hasContent(text[0..<text.count])) {
                refuseText()
                if error != nil { return }
            }
        }
        if depth > 0 { names.append(UInt8(ascii: "/")) }
        let nameStart = names.count
        let localCount = SAXReaderState.appendName(localname, prefix: prefix, uri: uri, to: &names)
        let here = line
        guard depth < limits.maxDepth else {
            return fail(ISO20022Error(.tooDeep, path: elementPath(depth: depth), line: here,
                                      reason: "elements nest deeper than the limit of \(limits.maxDepth)"))
        }
        if !stack.isEmpty { stack[stack.count - 1].hasChildren = true }
        var foreign = false
        switch region {
        case .outside:
            if depth == 0 { endReads() }
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
                // Shipped always (a table that does not load stops the process at first use).
                mappingNumber = ISO20022MessageMapping.number(of: ISO20022MessageDefinition.headerDefinition) ?? 0
                tree = ISO20022MessageMapping.shippedByNumber[Int(mappingNumber)].placeTree
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
                foreign = true
            }
        case .document:
            guard !messageSeen, let definition, nameIs(definition.messageElement, from: nameStart),
                  isNamespace(uri, documentNamespace, pointer: documentNamespacePointer) else {
                return fail(ISO20022Error(.unexpectedElement, path: "Document/" + name(from: nameStart), line: here,
                                          reason: "Document of \(definition?.rawValue ?? "?") must hold exactly one \(definition?.messageElement ?? "message") element"))
            }
            messageSeen = true
            mappingNumber = definition.mappingNumber
            tree = definition.mapping.placeTree
            region = .message
        case .message:
            if openContentDepth < 0, depth >= 2, parentPathIs("SplmtryData/Envlp", before: nameStart) {
                openContentDepth = depth
            }
            if !isNamespace(uri, documentNamespace, pointer: documentNamespacePointer) {
                guard admitForeign(uri, nameStart: nameStart, depth: depth, line: here) else { return }
                foreign = true
            }
            if depth == documentDepth + 2 {
                if let known = blocks.firstIndex(where: { $0.name == localname }) {
                    currentBlock = blocks[known].count
                    blocks[known].count += 1
                } else {
                    currentBlock = 0
                    blocks.append((localname, 1))
                }
            }
        }
        // Message paths start below the message element; header paths at AppHdr.
        if (region == .message && depth == documentDepth + 2) || (region == .header && depth == headerDepth) {
            pathStart = nameStart
        }
        var frame = Frame(nameStart: nameStart, line: here)
        if (region == .message && depth == documentDepth + 1) || (region == .header && depth == headerDepth) {
            frame.node = ISO20022MessageMapping.PlaceTree.root
        } else if let parent = stack.last, (region == .message && depth > documentDepth + 1) || (region == .header && depth > headerDepth) {
            if !foreign { frame.node = children.child(of: parent.node, named: localname, count: localCount, mapping: mappingNumber, in: treeView) }
            let earlier = earlierSiblings(named: localname, uri: uri, from: parent.childStart)
            if earlier > 0 {
                let repeatable = frame.node >= 0 ? treeView.isRepeatable(frame.node) : isRepeatable(leafPath())
                guard (openContentDepth >= 0 && depth >= openContentDepth) || repeatable else {
                    return fail(ISO20022Error(.duplicateElement, path: elementPath(depth: depth), line: here,
                                              reason: "\(name(from: nameStart)) occurs more than once here; the schema allows it once"))
                }
                frame.occurrence = earlier
                if region == .header || depth > documentDepth + 2 { nestedRepeats += 1 }
            }
        }
        siblings.append((localname, uri))
        frame.childStart = siblings.count
        if attributeCount > 0, let attributes {
            var set: [String: String] = [:]
            // Five pointers per attribute: local name, prefix, URI, value start, value end.
            for index in 0..<attributeCount {
                let base = index * 5
                guard let key = attributes[base], let start = attributes[base + 3], let end = attributes[base + 4] else { continue }
                var keyBytes = ReusableBuffer<UInt8>(capacity: 0)
                SAXReaderState.appendName(key, prefix: attributes[base + 1], uri: attributes[base + 2], to: &keyBytes)
                set[keyBytes.string()] = SAXReaderState.attributeValue(start, end)
            }
            attributeSets.append(set)
            frame.hasAttributes = true
        }
        stack.append(frame)
        resetText()
    }

    @inline(__always)
    mutating func endElement() {
        guard !stack.isEmpty else { return }
        endRun()
        let frame = stack.removeLast()
        siblings.truncate(to: frame.childStart)
        let attributes = frame.hasAttributes ? attributeSets.removeLast() : nil
        let depth = stack.count  // depth of the closed element
        switch region {
        case .header where depth > headerDepth:
            if !frame.hasChildren {
                let (path, place) = leafPlace(frame)
                header.append(.init(block: 0, text: text.string(), line: frame.line,
                                    mappingNumber: mappingNumber, somePath: path, someAttributes: attributes,
                                    indexedPath: indexedLeafPath(closed: frame, from: headerDepth), place: place))
            }
        case .message where depth > documentDepth + 1:
            if !frame.hasChildren {
                let (path, place) = leafPlace(frame)
                elements.append(.init(block: currentBlock, text: text.string(), line: frame.line,
                                      mappingNumber: mappingNumber, somePath: path, someAttributes: attributes,
                                      indexedPath: indexedLeafPath(closed: frame, from: documentDepth + 2), place: place))
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
        names.truncate(to: frame.nameStart - 1)
        resetText()
    }

    /// The path of the leaf being closed: from the top-level block (or AppHdr) on.
    mutating func leafPath() -> String {
        names.string(from: max(pathStart, 0))
    }

    /// The leaf being closed's node in ``tree`` when it is a mapped place (its path is then the
    /// place's, made when the table was read: none is given), else its path and -1.
    @inline(__always)
    mutating func leafPlace(_ leaf: Frame) -> (path: String?, place: Int32) {
        if leaf.node >= 0, treeView.entry(leaf.node) >= 0 { return (nil, leaf.node) }
        return (leafPath(), ISO20022MessageMapping.PlaceTree.none)
    }

    /// How many children of the open element whose children start at `start` in ``siblings`` have
    /// this name. libxml2 interns names in the parser's dictionary, so equal names are mostly the
    /// same pointer; the bytes are compared otherwise.
    @inline(__always)
    func earlierSiblings(named local: UnsafePointer<xmlChar>, uri: UnsafePointer<xmlChar>?, from start: Int) -> Int {
        var earlier = 0
        for index in start..<siblings.count {
            let sibling = siblings[index]
            guard sibling.local == local || (sibling.local.pointee == local.pointee && xmlStrEqual(sibling.local, local) != 0) else { continue }
            guard sibling.uri == uri || (sibling.uri != nil && uri != nil && xmlStrEqual(sibling.uri, uri) != 0) else { continue }
            earlier += 1
        }
        return earlier
    }


    /// The leaf's path with the 1-based occurrence after each name below `top` (the top-level block
    /// or AppHdr, whose index the block number carries) that is not the first of its name:
    /// `CdtTrfTxInf/RmtInf/Ustrd[2]`. Nil when there is none (the path says it all).
    @inline(__always)
    mutating func indexedLeafPath(closed leaf: Frame, from top: Int) -> String? {
        guard nestedRepeats > 0 || leaf.occurrence > 0 else { return nil }
        return indexedPath(closed: leaf, from: top)
    }

    private mutating func indexedPath(closed leaf: Frame, from top: Int) -> String {
        let first = max(top, 0)
        let frames = stack.count - first + 1
        // The names as they stand in ``names`` (each frame's up to the next one's `/`), each
        // repeated one followed by its 1-based occurrence, written once into a string's storage.
        let start = first < stack.count ? stack[first].nameStart : leaf.nameStart
        // Per frame at most a `/`, and `[`, 19 digits and `]`.
        return String(unsafeUninitializedCapacity: names.count - start + 22 * frames) { buffer in
            var written = 0
            for offset in 0..<frames {
                let position = first + offset
                let frame = position < stack.count ? stack[position] : leaf
                let end = position + 1 < stack.count ? stack[position + 1].nameStart - 1 : (position < stack.count ? leaf.nameStart - 1 : names.count)
                if written > 0 {
                    buffer[written] = UInt8(ascii: "/")
                    written += 1
                }
                for index in frame.nameStart..<end {
                    buffer[written] = names[index]
                    written += 1
                }
                if frame.occurrence > 0, position > top {
                    // `[n]`: the number is a small string (no allocation), its bytes copied.
                    for byte in "[\(frame.occurrence + 1)]".utf8 {
                        buffer[written] = byte
                        written += 1
                    }
                }
            }
            return written
        }
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
    @inline(__always)
    mutating func parentPathIs(_ suffix: StaticString, before nameStart: Int) -> Bool {
        let end = nameStart - 1
        let count = suffix.utf8CodeUnitCount
        let expected = suffix.utf8Start
        // Asked for every element: the parent name's last byte rules out nearly all at once.
        guard end - count >= 1, names[end - 1] == expected[count - 1], names[end - count - 1] == UInt8(ascii: "/") else { return false }
        for offset in 0..<count where names[end - count + offset] != expected[offset] { return false }
        return true
    }

    /// The path of an element just opened, for an error (`/Name` for the root, as before).
    func elementPath(depth: Int) -> String {
        depth == 0 ? "/" + path() : path()
    }

    /// The name of the element just opened.
    func name(from start: Int) -> String {
        names.string(from: start)
    }

    func nameIs(_ expected: String, from start: Int) -> Bool {
        names.equals(expected, from: start)
    }

    /// Appends the local name; with an undeclared prefix (a namespace error libxml2 lets pass) the
    /// qualified name, as libxml2's tree keeps it. Returns the local name's length.
    @discardableResult
    static func appendName(_ localname: UnsafePointer<xmlChar>, prefix: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?,
                           to bytes: inout ReusableBuffer<UInt8>) -> Int {
        if let prefix, uri == nil {
            bytes.append(UnsafeBufferPointer(start: prefix, count: SAXReaderState.length(prefix)))
            bytes.append(UInt8(ascii: ":"))
        }
        let count = SAXReaderState.length(localname)
        bytes.append(UnsafeBufferPointer(start: localname, count: count))
        return count
    }

    /// The length of a name libxml2 handed over: the C library's `strlen` reads a word at a time,
    /// `xmlStrlen` a byte at a time (a third of the cost of taking a name).
    @inline(__always)
    static func length(_ name: UnsafePointer<xmlChar>) -> Int {
        strlen(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self))
    }

    /// Whether `uri` is `namespace`; `pointer` is libxml2's interned copy of it, when known (the
    /// same pointer comes back for every element in it).
    @inline(__always)
    func isNamespace(_ uri: UnsafePointer<xmlChar>?, _ namespace: String, pointer: UnsafePointer<xmlChar>?) -> Bool {
        if let uri, uri == pointer { return true }
        guard let uri else { return namespace.isEmpty }
        return namespace.utf8.elementsEqual(UnsafeBufferPointer(start: uri, count: SAXReaderState.length(uri)))
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
        names.truncate(to: nameStart)
        names.append(contentsOf: ISO20022Path.foreignName(namespace: namespace, local: local))
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
        var blockCounts: [String: Int] = .init(minimumCapacity: blocks.count)
        for block in blocks { blockCounts[String(cString: block.name)] = block.count }
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
