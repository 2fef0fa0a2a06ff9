public import SpecFiles

extension ClearingLayout {
    static let topKeys: Set<String> = [
        "layout", "description", "format", "delimiter", "header", "skip-lines", "keys", "columns",
    ]
    static let columnKeys: Set<String> = [
        "business-date", "record", "rrn", "stan", "terminal", "approval-code", "amount", "currency", "masked-pan",
    ]

    /// Reads a layout (YAML) and validates it; every error names file:line:column.
    ///
    /// - Parameters:
    ///   - yaml: The layout text.
    ///   - file: The name used in errors.
    public static func load(yaml: String, file: String) throws(SpecError) -> ClearingLayout {
        let root = try SpecNode.parse(yaml: yaml, file: file)
        let top = try root.mapping("a clearing layout", allowed: topKeys)
        let name = try top.required("layout", in: "a clearing layout").string("layout")
        let summary = try top["description"]?.string("description") ?? ""
        let format = try top.required("format", in: "a clearing layout").choice("format", Format.self)

        var delimiter = UInt8(ascii: ",")
        if let node = top["delimiter"] {
            guard format == .csv else { throw node.error("'delimiter' is for csv layouts only") }
            let bytes = Array(try node.string("delimiter").utf8)
            guard bytes.count == 1, bytes[0] < 0x80, bytes[0] != UInt8(ascii: "\""), bytes[0] != 0x0A, bytes[0] != 0x0D else {
                throw node.error("the delimiter must be one ASCII character other than a quote or a line break")
            }
            delimiter = bytes[0]
        }
        let header = try top["header"]?.boolean("header") ?? false
        let skipLines = try top["skip-lines"]?.integer("skip-lines") ?? 0
        if skipLines < 0 { throw top["skip-lines"]!.error("skip-lines must not be negative") }

        let keysNode = try top.required("keys", in: "a clearing layout")
        var keys: [KeyField] = []
        for entry in try keysNode.sequence("keys") {
            let key = try entry.choice("a key field", KeyField.self)
            guard !keys.contains(key) else { throw entry.error("key field '\(key.rawValue)' is listed twice") }
            keys.append(key)
        }
        guard !keys.isEmpty else { throw keysNode.error("keys must name at least one field") }

        let reader = ColumnReader(format: format, header: header)
        let columns = try top.required("columns", in: "a clearing layout").mapping("columns", allowed: columnKeys)

        var keyColumns: [KeyField: Column] = [:]
        for field in KeyField.allCases {
            if let node = columns[field.rawValue] { keyColumns[field] = try reader.read(node, field.rawValue).column }
        }
        for (key, entry) in zip(keys, try keysNode.sequence("keys")) where keyColumns[key] == nil {
            throw entry.error("key field '\(key.rawValue)' has no entry under columns")
        }

        var businessDate: Column?
        var dateFormat = DateFormat.dashed
        if let node = columns["business-date"] {
            let (column, options) = try reader.read(node, "business-date", options: ["format"])
            businessDate = column
            if let value = options?["format"] { dateFormat = try value.choice("date format", DateFormat.self) }
        }

        let recordNode = try columns.required("record", in: "columns")
        let (record, recordOptions) = try reader.read(recordNode, "record", options: ["approval", "reversal"])
        let approvals = try values(recordOptions?["approval"], "approval") ?? ["approval"]
        let reversals = try values(recordOptions?["reversal"], "reversal") ?? ["reversal"]
        if let both = approvals.first(where: reversals.contains) {
            throw (recordOptions?["reversal"] ?? recordNode).error("record value '\(both)' means both an approval and a reversal")
        }

        let (amount, amountOptions) = try reader.read(try columns.required("amount", in: "columns"), "amount", options: ["format"])
        let amountFormat = try amountOptions?["format"]?.choice("amount format", AmountFormat.self) ?? .minor
        let currency = try reader.read(try columns.required("currency", in: "columns"), "currency").column
        let maskedPAN = try columns["masked-pan"].map { node throws(SpecError) in try reader.read(node, "masked-pan").column }

        return ClearingLayout(
            name: name, summary: summary, format: format, delimiter: delimiter, header: header, skipLines: skipLines,
            keys: keys, keyColumns: keyColumns, businessDate: businessDate, dateFormat: dateFormat, record: record,
            approvalValues: approvals, reversalValues: reversals, amount: amount, amountFormat: amountFormat,
            currency: currency, maskedPAN: maskedPAN)
    }

    /// A scalar or a list of scalars, none empty.
    private static func values(_ node: SpecNode?, _ what: String) throws(SpecError) -> [String]? {
        guard let node else { return nil }
        let items = node.isScalar ? [node] : try node.sequence(what)
        var result: [String] = []
        for item in items {
            let text = try item.string(what)
            guard !text.isEmpty else { throw item.error("a record value for \(what) must not be empty") }
            result.append(text)
        }
        guard !result.isEmpty else { throw node.error("\(what) needs at least one record value") }
        return result
    }
}

/// Reads one entry of `columns`: a plain column, or a mapping with the column and the field's options.
private struct ColumnReader {
    let format: ClearingLayout.Format
    let header: Bool

    func read(_ node: SpecNode, _ what: String, options: Set<String> = []) throws(SpecError)
        -> (column: ClearingLayout.Column, options: SpecNode.Mapping?) {
        switch format {
        case .csv:
            if node.isMapping {
                let map = try node.mapping(what, allowed: options.union(["column"]))
                return (try csvColumn(try map.required("column", in: what), what), map)
            }
            return (try csvColumn(node, what), nil)
        case .fixed:
            guard node.isMapping else { throw node.error("\(what): a fixed-width column is {start: N, length: N}") }
            let map = try node.mapping(what, allowed: options.union(["start", "length"]))
            let startNode = try map.required("start", in: what)
            let lengthNode = try map.required("length", in: what)
            let start = try startNode.integer("start")
            let length = try lengthNode.integer("length")
            guard start >= 1 else { throw startNode.error("\(what): start counts bytes from 1") }
            guard length >= 1 else { throw lengthNode.error("\(what): length must be positive") }
            return (.span(start: start, length: length), map)
        }
    }

    private func csvColumn(_ node: SpecNode, _ what: String) throws(SpecError) -> ClearingLayout.Column {
        let text = try node.string(what)
        if let number = Int(text) {
            guard number >= 1 else { throw node.error("\(what): columns are numbered from 1") }
            return .numbered(number)
        }
        guard !text.isEmpty else { throw node.error("\(what): the column is empty") }
        guard header else { throw node.error("\(what): column '\(text)' is a header name, but the layout has no header; give its number") }
        return .named(text)
    }
}
