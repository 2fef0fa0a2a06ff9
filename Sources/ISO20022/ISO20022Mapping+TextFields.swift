import PaymentModel

/// Canonical text fields a router and a bank read (payment type, purpose, creditor reference,
/// ultimate parties, clearing system), each from the first of its places that the document has:
/// the transaction's, then the group's or payment information's. Written back at the first
/// place, or where the source had it (``PaymentMessage/sourcePositions``); the places not taken
/// stay in `unmapped`.
struct ISO20022TextFields {
    struct Field: Sendable {
        let name: String
        let get: @Sendable (PaymentMessage) -> String?
        let set: @Sendable (inout PaymentMessage, String) -> Void
        /// Element paths in order of preference; the encoder writes at the first.
        let paths: [String]
    }

    /// A message's fields and their places, built once.
    struct Table: Sendable {
        let fields: [Field]
        /// The places by path length (UTF-8 bytes): (path, field index, preference). Looked up
        /// for every leaf, so by length and a byte comparison rather than by hashing the path.
        let byLength: [[(path: String, field: Int, rank: Int)]]

        init(_ definition: ISO20022MessageDefinition) {
            fields = ISO20022TextFields.fields(for: definition)
            var byLength: [[(path: String, field: Int, rank: Int)]] = []
            for (number, field) in fields.enumerated() {
                for (rank, path) in field.paths.enumerated() {
                    let length = path.utf8.count
                    if byLength.count <= length { byLength += Array(repeating: [], count: length + 1 - byLength.count) }
                    byLength[length].append((path, number, rank))
                }
            }
            self.byLength = byLength
        }

        func place(of path: String) -> (field: Int, rank: Int)? {
            let length = path.utf8.count
            guard length < byLength.count else { return nil }
            for entry in byLength[length] where entry.path == path { return (entry.field, entry.rank) }
            return nil
        }
    }

    private static let creditTransfer = Table(.pacs008)
    private static let initiation = Table(.pain001)
    private static let none = Table(.pacs002)

    let table: Table
    var fields: [Field] { table.fields }
    /// The element taken for each field and its preference (none until one is read).
    private var taken: [(element: ISO20022Document.Element, rank: Int)?] = []
    private var passedOver: [ISO20022Document.Element] = []

    init(_ definition: ISO20022MessageDefinition) {
        switch definition {
        case .pacs008: table = Self.creditTransfer
        case .pain001: table = Self.initiation
        default: table = Self.none
        }
    }

    /// Takes `element` when it is one of the fields' places (in the first transaction); true
    /// then, and the caller maps it no further.
    mutating func read(_ element: ISO20022Document.Element) -> Bool {
        guard element.block == 0, let (field, rank) = table.place(of: element.path) else { return false }
        if taken.isEmpty { taken = Array(repeating: nil, count: fields.count) }
        if let previous = taken[field], previous.rank <= rank {
            passedOver.append(element)
        } else {
            if let previous = taken[field] { passedOver.append(previous.element) }
            taken[field] = (element, rank)
        }
        return true
    }

    /// Sets the fields taken, notes where each was when not at its first place, and keeps the
    /// places passed over in `unmapped`.
    func apply(to message: inout PaymentMessage) {
        for (number, field) in fields.enumerated() where number < taken.count {
            guard let element = taken[number]?.element else { continue }
            field.set(&message, element.text)
            if element.key != field.paths[0] { message.sourcePositions[field.paths[0]] = element.key }
        }
        for element in passedOver { message.unmapped.append(contentsOf: element.unmappedFields) }
    }

    /// The fields of `message` at their first places, for the encoder.
    static func leaves(of message: PaymentMessage, as definition: ISO20022MessageDefinition) -> [(key: String, value: String)] {
        ISO20022TextFields(definition).fields.compactMap { field in field.get(message).map { (field.paths[0], $0) } }
    }

    private static func fields(for definition: ISO20022MessageDefinition) -> [Field] {
        switch definition {
        case .pacs008: return creditTransfer(transaction: "CdtTrfTxInf/", alternative: "GrpHdr/", clearing: "GrpHdr/SttlmInf/ClrSys/Cd")
        // A pain.001 gives the payment type and ultimate debtor for its payment information, or per transaction.
        case .pain001: return creditTransfer(transaction: "PmtInf/CdtTrfTxInf/", alternative: "PmtInf/", clearing: nil)
        default: return []
        }
    }

    private static func creditTransfer(transaction: String, alternative: String, clearing: String?) -> [Field] {
        func both(_ path: String) -> [String] { [transaction + path, alternative + path] }
        var fields = [
            Field(name: "instructionPriority", get: { $0.instructionPriority }, set: { $0.instructionPriority = $1 }, paths: both("PmtTpInf/InstrPrty")),
            Field(name: "serviceLevel", get: { $0.serviceLevel }, set: { $0.serviceLevel = $1 }, paths: both("PmtTpInf/SvcLvl/Cd")),
            Field(name: "localInstrument", get: { $0.localInstrument }, set: { $0.localInstrument = $1 }, paths: both("PmtTpInf/LclInstrm/Cd")),
            Field(name: "categoryPurpose", get: { $0.categoryPurpose }, set: { $0.categoryPurpose = $1 }, paths: both("PmtTpInf/CtgyPurp/Cd")),
            Field(name: "purpose", get: { $0.purpose }, set: { $0.purpose = $1 }, paths: [transaction + "Purp/Cd"]),
            Field(name: "creditorReference", get: { $0.creditorReference }, set: { $0.creditorReference = $1 },
                  paths: [transaction + "RmtInf/Strd/CdtrRefInf/Ref"]),
            Field(name: "ultimateDebtorName", get: { $0.ultimateDebtorName }, set: { $0.ultimateDebtorName = $1 },
                  paths: alternative == "PmtInf/" ? both("UltmtDbtr/Nm") : [transaction + "UltmtDbtr/Nm"]),
            Field(name: "ultimateCreditorName", get: { $0.ultimateCreditorName }, set: { $0.ultimateCreditorName = $1 },
                  paths: [transaction + "UltmtCdtr/Nm"]),
        ]
        if let clearing {
            fields.append(Field(name: "clearingSystem", get: { $0.clearingSystem }, set: { $0.clearingSystem = $1 }, paths: [clearing]))
        }
        return fields
    }
}
