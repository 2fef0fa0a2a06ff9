import PaymentModel

/// An ISO 20022 message this codec reads and writes: one with a mapping table in
/// specs/iso20022/mappings (and so a schema in specs/iso20022). A new message version is data: its
/// XSD and its table; `tools/iso20022/schema_tables.py` then lists both for the build.
public struct ISO20022MessageDefinition: RawRepresentable, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The message identifier: `pacs.008.001.08`.
    public let rawValue: String
    /// Its mapping's place in ``ISO20022MessageMapping/shippedByNumber``: the mapping is found
    /// without hashing the name (a decode asks for it several times).
    let mappingNumber: UInt16

    /// The message named `rawValue`, when a shipped mapping table maps it.
    public init?(rawValue: String) {
        guard let number = ISO20022MessageMapping.number(of: rawValue),
              ISO20022MessageMapping.shippedByNumber[Int(number)].kind != nil else { return nil }
        self.rawValue = rawValue
        mappingNumber = number
    }

    private init(shipped rawValue: String) {
        self.rawValue = rawValue
        mappingNumber = ISO20022MessageMapping.number(of: rawValue) ?? 0
    }

    public static let pacs008 = ISO20022MessageDefinition(shipped: "pacs.008.001.08")
    public static let pacs002 = ISO20022MessageDefinition(shipped: "pacs.002.001.10")
    public static let pacs004 = ISO20022MessageDefinition(shipped: "pacs.004.001.09")
    public static let pacs028 = ISO20022MessageDefinition(shipped: "pacs.028.001.03")
    public static let camt056 = ISO20022MessageDefinition(shipped: "camt.056.001.08")
    public static let camt029 = ISO20022MessageDefinition(shipped: "camt.029.001.09")
    public static let pain001 = ISO20022MessageDefinition(shipped: "pain.001.001.09")
    public static let pain002 = ISO20022MessageDefinition(shipped: "pain.002.001.10")

    /// Every message with a shipped mapping table, in the order of the tables.
    public static let allCases: [ISO20022MessageDefinition] = ISO20022MessageMapping.shippedFiles.compactMap { file, _ in
        ISO20022MessageDefinition(rawValue: String(file.dropLast(".yaml".count)))
    }

    public var description: String { rawValue }

    /// The namespace of the Document element.
    public var namespace: String { ISO20022MessageDefinition.namespacePrefix + rawValue }

    /// The message element inside Document (`FIToFICstmrCdtTrf`), from the schema table.
    public var messageElement: String { schemaRoot.element }

    /// The canonical kind the message maps to, from its mapping table; pacs.008 and pain.001 share
    /// `creditTransfer`, pacs.002 and pain.002 `statusReport`.
    var kind: PaymentMessage.Kind { mapping.kind ?? .creditTransfer }

    static let namespacePrefix = "urn:iso:std:iso:20022:tech:xsd:"
}

/// An ISO 20022 document as read by the streaming reader: the message definition and its leaf
/// elements in document order. No DOM is kept; this flat list is all the mapping and the business
/// checks need.
public struct ISO20022Document: Sendable, Hashable {
    /// A leaf element (one without child elements): its path, text and attributes.
    public struct Element: Sendable, Hashable {
        /// Element names below the message element, joined by `/`, without indexes:
        /// `CdtTrfTxInf/PmtId/EndToEndId`. Read-only: the mapping knows a leaf by its place.
        public var path: String { somePath ?? mapping.placeTree.paths[Int(place)] }
        /// Which occurrence (0-based) of its top-level block it is in: 1 for the second `CdtTrfTxInf`.
        public var block: Int
        public var text: String
        /// Attributes by local name (namespace declarations left out).
        public var attributes: [String: String] {
            get { someAttributes ?? [:] }
            set { someAttributes = newValue.isEmpty ? nil : newValue }
        }
        public var line: Int

        /// The path with the message element and a 1-based index on the repeatable top-level
        /// blocks: `FIToFICstmrCdtTrf/CdtTrfTxInf[1]/PmtId/EndToEndId`.
        public var location: String { ISO20022Document.location(of: path, block: block, in: message) }

        /// The message element (`FIToFICstmrCdtTrf`, `AppHdr`).
        var message: String { mapping.rootElement }
        /// The mapping of its message (or header) by its number in
        /// ``ISO20022MessageMapping/shippedByNumber``. An element holds no reference for it, nor for its
        /// path when that is a mapped place (the place's path is in the mapping), nor for absent
        /// attributes: a decode makes and drops some sixty elements.
        var mappingNumber: UInt16
        var somePath: String?
        var someAttributes: [String: String]?

        var mapping: ISO20022MessageMapping { ISO20022MessageMapping.shippedByNumber[Int(mappingNumber)] }
        /// The path with the 1-based occurrence of each repeated element below the top-level block
        /// (`CdtTrfTxInf/RmtInf/Ustrd[2]`); nil when every one is the first of its name.
        var indexedPath: String? = nil
        /// Its node in its mapping's ``ISO20022MessageMapping/placeTree`` when the element is at a
        /// mapped place, else -1: the reader found it, so the mapping looks up no path.
        var place: Int32 = -1

        /// Appends the element as unmapped fields: its text under ``key``, each attribute under `key@name`.
        func appendUnmapped(to fields: inout [UnmappedField]) {
            let key = self.key
            fields.append(UnmappedField(key: key, value: text))
            guard let someAttributes else { return }
            for (name, value) in someAttributes.sorted(by: { $0.key < $1.key }) { fields.append(UnmappedField(key: key + "@" + name, value: value)) }
        }

        /// The path for ``PaymentMessage/unmapped``: with the 1-based occurrence of every element
        /// that is not the first of its name (`CdtTrfTxInf[2]/PmtId/TxId`, `RmtInf/Ustrd[2]`), so
        /// that the encoder can put each leaf back where it was.
        var key: String {
            let full = indexedPath ?? path
            return block == 0 ? full : ISO20022Document.numbered(full, block: block)
        }
    }

    public var definition: ISO20022MessageDefinition
    /// The leaf elements of the message, in document order.
    public var elements: [Element]
    /// How many times each top-level block occurs under the message element (`CdtTrfTxInf`: 3).
    public var blockCounts: [String: Int]
    /// Leaf elements of the business application header (head.001 `AppHdr`), when one came with
    /// the document; paths start with `AppHdr/`.
    public var header: [Element]

    /// The first element at `path` in block `block`.
    public func first(_ path: String, block: Int = 0) -> Element? {
        elements.first { $0.path == path && $0.block == block }
    }

    static let repeatableBlocks: Set<String> = ["CdtTrfTxInf", "TxInfAndSts", "OrgnlGrpInfAndSts", "TxInf", "OrgnlGrpInf",
                                                "Undrlyg", "CxlDtls", "PmtInf", "OrgnlPmtInfAndSts"]

    static func location(of path: String, block: Int, in message: String) -> String {
        message + "/" + numbered(path, block: block)
    }

    /// The path with its top-level block numbered (1-based): a block that may repeat always, any
    /// other top-level element (SplmtryData) when repeated.
    static func numbered(_ path: String, block: Int) -> String {
        // Every leaf of a batch's later transactions is keyed so: no split into an array of parts.
        let slash = path.utf8.firstIndex(of: UInt8(ascii: "/")) ?? path.endIndex
        let top = path[..<slash]
        guard block > 0 || repeatableBlocks.contains(String(top)) else { return path }
        return top + "[" + String(block + 1) + "]" + path[slash...]
    }

}

extension ISO20022Document {
    /// How many transactions the document carries: the occurrences of its repeatable transaction
    /// block (`CdtTrfTxInf`, `TxInfAndSts`, `TxInf`, `PmtInf`), and in a pain.001 the credit
    /// transfers of every payment information; 1 when it has none.
    public var transactionCount: Int { max(transactionsPresent, 1) }

    /// The transactions the document has, 0 when none.
    var transactionsPresent: Int {
        if definition == .pain001 { return nestedTransactions().count }
        return ISO20022Document.transactionBlocks.compactMap { blockCounts[$0] }.max() ?? 0
    }

    /// The document as if it carried only its transaction `index` (0-based, below
    /// ``transactionCount``): the group header and everything outside the transaction blocks, and
    /// that transaction as the first (in a pain.001, its payment information with that one credit
    /// transfer). What routing and rules read of each transaction of a batch.
    public func transaction(_ index: Int) -> ISO20022Document {
        transactions()[index]
    }

    /// Every transaction as ``transaction(_:)`` gives it, in one pass over the elements.
    public func transactions() -> [ISO20022Document] {
        let count = transactionCount
        guard count > 1 else { return [self] }
        if definition == .pain001 { return nestedTransactions().map { nestedTransaction(block: $0.block, occurrence: $0.occurrence) } }
        var elementsOf = Array(repeating: [Element](), count: count)
        for element in elements {
            let path = element.path[...]
            guard ISO20022Document.transactionBlocks.contains(where: { path.isWithin($0[...]) }) else {
                for index in 0..<count { elementsOf[index].append(element) }
                continue
            }
            guard element.block < count else { continue }
            var moved = element
            moved.block = 0
            elementsOf[element.block].append(moved)
        }
        var single = self
        for block in ISO20022Document.transactionBlocks where blockCounts[block] != nil { single.blockCounts[block] = 1 }
        return elementsOf.map { elements in
            var document = single
            document.elements = elements
            return document
        }
    }

    /// A pain.001 with only the credit transfer `occurrence` of payment information `block`.
    private func nestedTransaction(block: Int, occurrence: Int) -> ISO20022Document {
        var single = self
        single.elements = elements.compactMap { element in
            guard element.path.hasPrefix("PmtInf/") else { return element }
            guard element.block == block else { return nil }
            var moved = element
            moved.block = 0
            guard element.path.hasPrefix(Self.nestedPrefix) else { return moved }
            guard Self.nestedOccurrence(of: element) == occurrence else { return nil }
            if occurrence > 1, let indexed = element.indexedPath {
                let plain = Self.nestedPrefix + indexed.dropFirst("PmtInf/CdtTrfTxInf[\(occurrence)]/".count)
                moved.indexedPath = plain == element.path ? nil : plain
            }
            return moved
        }
        single.blockCounts["PmtInf"] = 1
        return single
    }

    static let transactionBlocks = ["CdtTrfTxInf", "TxInfAndSts", "TxInf", "PmtInf"]

    private static let nestedPrefix = "PmtInf/CdtTrfTxInf/"

    /// The (payment information, credit transfer) pairs of a pain.001, in document order.
    private func nestedTransactions() -> [(block: Int, occurrence: Int)] {
        var pairs: [(block: Int, occurrence: Int)] = []
        for element in elements where element.path.hasPrefix(Self.nestedPrefix) {
            let pair = (element.block, Self.nestedOccurrence(of: element))
            if !pairs.contains(where: { $0 == pair }) { pairs.append(pair) }
        }
        return pairs
    }

    /// Which credit transfer of its payment information a pain.001 element is in (1-based).
    private static func nestedOccurrence(of element: Element) -> Int {
        guard let indexed = element.indexedPath, indexed.hasPrefix("PmtInf/CdtTrfTxInf["),
              let close = indexed.firstIndex(of: "]") else { return 1 }
        return Int(indexed["PmtInf/CdtTrfTxInf[".endIndex..<close]) ?? 1
    }
}
