/// The outcome of one reconciliation: counts per category and every exception.
public struct ReconciliationReport: Sendable, Codable {
    /// What became of a transaction or a host row. Each exception lands in exactly one category.
    public enum Category: String, Sendable, Codable, CaseIterable, CodingKeyRepresentable {
        /// Both sides agree (including a journal decline the host never approved).
        case matched
        /// The host shows a standing approval the journal does not: an unknown key, or a key the
        /// journal holds as declined or unanswered.
        case hostOnly = "host-only"
        /// The journal holds a settled transaction the host's file lacks.
        case journalOnly = "journal-only"
        /// One approval on each side, different amounts.
        case amountDifference = "amount-difference"
        /// One approval on each side, different currencies.
        case currencyDifference = "currency-difference"
        /// A key twice in the journal, or approved more than once at the host.
        case duplicate
        /// Reversed on one side, standing on the other.
        case reversalDifference = "reversal-difference"
        /// Reversed in the journal, the reversal still waiting for the host's acknowledgement,
        /// and still standing at the host: expected to clear by itself.
        case reversalPending = "reversal-pending"
    }

    /// One exception: a transaction or host row that did not reconcile.
    public struct Item: Sendable, Codable, Equatable {
        public var category: Category
        /// The key fields and their values, such as `rrn=000000000042 terminal=TERM0011`.
        public var key: String
        /// The journal record's id, when the journal holds the key.
        public var reference: String?
        /// The host file's line the exception concerns, when the host shows the key.
        public var hostLine: Int?
        /// Minor units.
        public var journalAmount: Int64?
        /// ISO 4217 numeric code.
        public var journalCurrency: String?
        /// Minor units.
        public var hostAmount: Int64?
        /// ISO 4217 numeric code.
        public var hostCurrency: String?
        /// Why, in a few words.
        public var detail: String

        public init(
            category: Category, key: String, reference: String? = nil, hostLine: Int? = nil, journalAmount: Int64? = nil,
            journalCurrency: String? = nil, hostAmount: Int64? = nil, hostCurrency: String? = nil, detail: String
        ) {
            self.category = category
            self.key = key
            self.reference = reference
            self.hostLine = hostLine
            self.journalAmount = journalAmount
            self.journalCurrency = journalCurrency
            self.hostAmount = hostAmount
            self.hostCurrency = hostCurrency
            self.detail = detail
        }
    }

    /// Data rows read from the host's file (header, skipped and blank lines not counted), of every date.
    public var rowsRead: Int
    /// Rows of ``rowsRead`` skipped because they belong to another business date.
    public var rowsOfOtherDates: Int
    /// How many transactions or host rows fell in each category; every category is present.
    public var counts: [Category: Int]
    /// Every exception, journal order first, then host-only keys in file order. Matched
    /// transactions are only counted.
    public var items: [Item]

    public init(rowsRead: Int, rowsOfOtherDates: Int, counts: [Category: Int], items: [Item]) {
        self.rowsRead = rowsRead
        self.rowsOfOtherDates = rowsOfOtherDates
        self.counts = counts
        self.items = items
    }

    /// Whether nothing but matched transactions was found.
    public var isReconciled: Bool {
        items.isEmpty && Category.allCases.allSatisfy { $0 == .matched || (counts[$0] ?? 0) == 0 }
    }

    private enum CodingKeys: String, CodingKey {
        case rowsRead, rowsOfOtherDates, counts, items, isReconciled
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rowsRead = try container.decode(Int.self, forKey: .rowsRead)
        rowsOfOtherDates = try container.decode(Int.self, forKey: .rowsOfOtherDates)
        counts = try container.decode([Category: Int].self, forKey: .counts)
        items = try container.decode([Item].self, forKey: .items)
    }

    /// Also writes `isReconciled`, so a reader of the JSON need not derive it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rowsRead, forKey: .rowsRead)
        try container.encode(rowsOfOtherDates, forKey: .rowsOfOtherDates)
        try container.encode(counts, forKey: .counts)
        try container.encode(items, forKey: .items)
        try container.encode(isReconciled, forKey: .isReconciled)
    }
}
