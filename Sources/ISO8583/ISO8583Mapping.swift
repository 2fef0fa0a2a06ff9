import PaymentModel
public import SpecFiles

/// How one ISO 8583 version's data elements carry the canonical payment message, read from
/// specs/mappings (data, not code): which element carries which canonical value.
public struct ISO8583Mapping: Sendable {
    /// The canonical values a data element can carry.
    public enum Target: String, Sendable, CaseIterable {
        case pan, processing, amount
        case billingAmount = "billing-amount"
        case transmissionDateTime = "transmission-date-time"
        case stan, rrn, terminal, expiry, track2, emv, result, acquirer, forwarder
        case pinBlock = "pin-block"
        case localTime = "local-time"
        case localDate = "local-date"
        case localDateTime = "local-date-time"
        case merchantCategory = "merchant-category"
        case merchantCountry = "merchant-country"
        case merchantID = "merchant-id"
        case merchantNameLocation = "merchant-name-location"
        case posEntryMode = "pos-entry-mode"
        case posCondition = "pos-condition"
        case approvalCode = "approval-code"
        case originalData = "original-data"
        /// Not a field: the elements a mapping leaves unmapped, which only a channel's `may-drop`
        /// names (carried between dialects of one edition, refused between editions unless named).
        case unmappedElements = "unmapped-elements"

        /// The canonical short text this target is, when it is one stored as received.
        var textField: PaymentMessage.TextField? {
            switch self {
            case .transmissionDateTime: .transmissionDateTime
            case .stan: .stan
            case .rrn: .rrn
            case .terminal: .terminal
            case .acquirer: .acquirer
            case .forwarder: .forwarder
            case .localDateTime: .localDateTime
            case .merchantCategory: .merchantCategoryCode
            case .merchantCountry: .merchantCountry
            case .merchantID: .merchantID
            case .posEntryMode: .posEntryMode
            case .posCondition: .posConditionCode
            case .approvalCode: .approvalCode
            case .pan, .processing, .amount, .billingAmount, .expiry, .track2, .emv, .pinBlock, .result, .localTime, .localDate,
                 .merchantNameLocation, .originalData, .unmappedElements:
                nil
            }
        }

        /// Whether routing, channel health or the transaction key reads it, or its value can refuse
        /// a message (amounts, PAN, processing code, result, original data): ``CanonicalScope/routing``.
        var isReadByRouting: Bool {
            switch self {
            case .pan, .processing, .amount, .billingAmount, .stan, .terminal, .result, .acquirer, .merchantCategory,
                 .merchantCountry, .merchantID, .posEntryMode, .originalData:
                return true
            case .transmissionDateTime, .rrn, .expiry, .track2, .emv, .pinBlock, .forwarder, .localTime, .localDate,
                 .localDateTime, .merchantNameLocation, .posCondition, .approvalCode, .unmappedElements:
                return false
            }
        }
    }

    /// How much of the canonical message ``canonical(from:dialect:results:scope:)`` builds.
    public enum CanonicalScope: Sendable {
        /// Every mapped field, and the unmapped ones as they are: for translation, records and JSON.
        case everything
        /// What routing and matching read (kind, function, processing code, PAN, amount, STAN,
        /// terminal, acquirer, merchant id, category and country, POS entry mode, original data,
        /// result) and every value whose check can refuse the message: for a request forwarded in
        /// its own dialect, whose frame goes out as received.
        case routing
    }

    /// One data element and what it carries.
    public struct Entry: Sendable, Hashable {
        public let field: Int
        public let target: Target
        /// For amounts: the element with the currency's numeric code.
        public let currencyField: Int?
        /// The target's short text, worked out once (``Target/textField``).
        let textField: PaymentMessage.TextField?

        init(field: Int, target: Target, currencyField: Int?) {
            self.field = field
            self.target = target
            self.currencyField = currencyField
            textField = target.textField
        }
    }

    public let name: String
    /// The MTI version digit: 0 for 1987, 1 for 1993.
    public let version: Int
    /// The dialects this mapping serves.
    public let dialects: [String]
    /// Whether DE 39 uses the 1993 three-digit action codes.
    public let usesActionCodes: Bool
    public let entries: [Entry]

    /// Reads a mapping file; every error names file:line:column.
    public static func load(yaml: String, file: String) throws(SpecError) -> ISO8583Mapping {
        let root = try SpecNode.parse(yaml: yaml, file: file)
        let top = try root.mapping("a mapping", allowed: ["mapping", "version", "dialects", "result-codes", "fields"])
        let name = try top.required("mapping", in: "a mapping").string("mapping")
        let version = try top.required("version", in: "a mapping").integer("version")
        var dialects: [String] = []
        for node in try top.required("dialects", in: "a mapping").sequence("dialects") { dialects.append(try node.string("dialect")) }
        let codes = try top.required("result-codes", in: "a mapping")
        let column = try codes.string("result-codes")
        guard column == "iso87" || column == "iso93" else { throw codes.error("result-codes must be iso87 or iso93") }
        var entries: [Entry] = []
        for node in try top.required("fields", in: "a mapping").sequence("fields") {
            let map = try node.mapping("a field mapping", allowed: ["field", "to", "currency-field"])
            let field = try map.required("field", in: "a field mapping").integer("field")
            let targetNode = try map.required("to", in: "a field mapping")
            let target = try targetNode.choice("to", Target.self)
            guard target != .unmappedElements else { throw targetNode.error("unmapped-elements names what no field maps; it belongs in a channel's may-drop") }
            let currency = try map["currency-field"]?.integer("currency-field")
            if (target == .amount || target == .billingAmount) && currency == nil {
                throw node.error("field \(field): an amount needs 'currency-field'")
            }
            guard !entries.contains(where: { $0.field == field }) else { throw node.error("field \(field) is mapped twice") }
            entries.append(Entry(field: field, target: target, currencyField: currency))
        }
        return ISO8583Mapping(name: name, version: version, dialects: dialects, usesActionCodes: column == "iso93", entries: entries)
    }

    /// The shipped mapping that serves `dialect` (the files are read once per process).
    /// The shipped mapping of a dialect, or of the nearest dialect it extends.
    public static func shipped(for dialect: Dialect) throws(SpecError) -> ISO8583Mapping {
        for name in [dialect.name] + dialect.lineage.dropLast() {
            if let mapping = try? shipped(for: name) { return mapping }
        }
        return try shipped(for: dialect.lineage.last ?? dialect.name)
    }

    public static func shipped(for dialect: String) throws(SpecError) -> ISO8583Mapping {
        let mappings = try shippedMappings.get()
        guard let mapping = mappings.first(where: { $0.dialects.contains(dialect) }) else {
            throw SpecError(file: "specs/mappings", line: 0, column: 0, message: "no mapping serves dialect '\(dialect)'")
        }
        return mapping
    }

    /// Every shipped mapping, or the first error reading them.
    private static let shippedMappings: Result<[ISO8583Mapping], SpecError> = {
        var mappings: [ISO8583Mapping] = []
        for (bytes, file) in [(PackageResources.iso87_yaml, "specs/mappings/iso87.yaml"), (PackageResources.iso93_yaml, "specs/mappings/iso93.yaml")] {
            do throws(SpecError) {
                mappings.append(try load(yaml: String(decoding: bytes, as: UTF8.self), file: file))
            } catch {
                return .failure(error)
            }
        }
        return .success(mappings)
    }()

    /// Data elements the mapping reads (the mapped ones and their currency elements), worked out
    /// once per mapping rather than once per message.
    let coveredFields: FieldSet
    /// For each data element 0-192, 1 + the index of its entry, or 0 when none maps it: one array
    /// read per present field instead of a search per entry.
    let fieldTable: [Int]
    /// Canonical fields with no element here (see ``uncarriedFields(of:)``): empty for a mapping
    /// that carries everything, so the check costs nothing there.
    let uncarriableTargets: [Target]

    init(name: String, version: Int, dialects: [String], usesActionCodes: Bool, entries: [Entry]) {
        self.name = name
        self.version = version
        self.dialects = dialects
        self.usesActionCodes = usesActionCodes
        self.entries = entries
        var covered = FieldSet()
        for field in entries.map(\.field) + entries.compactMap(\.currencyField) where (1...Dialect.fieldLimit).contains(field) {
            covered.insert(field)
        }
        coveredFields = covered
        var table = [Int](repeating: 0, count: Dialect.fieldLimit + 1)
        for (index, entry) in entries.enumerated() where (1...Dialect.fieldLimit).contains(entry.field) {
            table[entry.field] = index + 1
        }
        fieldTable = table
        uncarriableTargets = Self.uncarriable(by: entries)
    }
}

/// A value that cannot move between ISO 8583 and the canonical message.
public struct MappingError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The data element concerned, if any.
    public let field: Int?
    public let reason: String

    public var description: String { "MappingError" + (field.map { " DE \($0)" } ?? "") + ": " + reason }
}
