public import SpecFiles

/// Canonical result codes and their form in each format, from specs/codes/results.yaml.
public struct ResultCodeTable: Sendable {
    /// One row: a canonical code and how each format writes it.
    public struct Row: Sendable, Hashable {
        public let canonical: ResultCode
        public let name: String
        public let iso87: String?
        public let iso93: String?
        /// ISO 20022 transaction status (ACSC, RJCT …) and, for rejections, the reason code.
        public let status: String?
        public let reason: String?
    }

    public let rows: [Row]

    /// The shipped table (embedded at build time). ``loadShipped()`` is checked by the tests, so a
    /// release cannot carry a table that does not load.
    public static let shipped: ResultCodeTable = (try? loadShipped()) ?? ResultCodeTable(rows: [])

    /// Loads the embedded specs/codes/results.yaml, with its errors.
    public static func loadShipped() throws(SpecError) -> ResultCodeTable {
        try load(yaml: String(decoding: PackageResources.results_yaml, as: UTF8.self), file: "specs/codes/results.yaml")
    }

    /// Reads a table; every error names file:line:column.
    public static func load(yaml: String, file: String) throws(SpecError) -> ResultCodeTable {
        let root = try SpecNode.parse(yaml: yaml, file: file)
        let top = try root.mapping("a result-code table", allowed: ["results"])
        var rows: [Row] = []
        for entry in try top.required("results", in: "a result-code table").sequence("results") {
            let map = try entry.mapping("a result", allowed: ["canonical", "name", "iso87", "iso93", "status", "reason"])
            let text = try map.required("canonical", in: "a result").string("canonical")
            guard text.count == 4, let value = Int(text), let code = ResultCode(value) else {
                throw entry.error("canonical code '\(text)' must be four digits")
            }
            guard !rows.contains(where: { $0.canonical == code }) else { throw entry.error("canonical code \(text) is listed twice") }
            rows.append(Row(
                canonical: code, name: try map["name"]?.string("name") ?? "",
                iso87: try map["iso87"]?.string("iso87"), iso93: try map["iso93"]?.string("iso93"),
                status: try map["status"]?.string("status"), reason: try map["reason"]?.string("reason")))
        }
        return ResultCodeTable(rows: rows)
    }

    /// The row of a canonical code.
    public func row(_ code: ResultCode) -> Row? { rows.first { $0.canonical == code } }

    /// The canonical code of an ISO 8583:1987 DE 39 value: the first row that carries it, or, in
    /// the answer to a reversal (message class 4) or network request (class 8), the first such row
    /// of that range ("00" is "Reversal accepted" in a 0410, not "Approved").
    public func fromISO87(_ value: String, messageClass: Int? = nil) -> ResultCode? { first(in: messageClass) { $0.iso87 == value } }
    /// The canonical code of an ISO 8583:1993 DE 39 action code, read like ``fromISO87(_:messageClass:)``.
    public func fromISO93(_ value: String, messageClass: Int? = nil) -> ResultCode? { first(in: messageClass) { $0.iso93 == value } }

    private func first(in messageClass: Int?, where matches: (Row) -> Bool) -> ResultCode? {
        if let messageClass, messageClass == 4 || messageClass == 8,
           let row = rows.first(where: { matches($0) && $0.canonical.value / 1000 == messageClass }) {
            return row.canonical
        }
        return rows.first(where: matches)?.canonical
    }
    /// The canonical code of an ISO 20022 status and reason.
    public func fromISO20022(status: String, reason: String?) -> ResultCode? {
        rows.first { $0.status == status && $0.reason == reason }?.canonical ?? rows.first { $0.status == status }?.canonical
    }
}
