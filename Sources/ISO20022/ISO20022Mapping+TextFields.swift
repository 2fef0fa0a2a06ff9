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

    let fields: [Field]
    /// Path → (field index, preference).
    private let index: [String: (field: Int, rank: Int)]
    private var taken: [ISO20022Document.Element?]
    private var takenRank: [Int]
    private var passedOver: [ISO20022Document.Element] = []

    init(_ definition: ISO20022MessageDefinition) {
        fields = ISO20022TextFields.fields(for: definition)
        var index: [String: (field: Int, rank: Int)] = [:]
        for (number, field) in fields.enumerated() {
            for (rank, path) in field.paths.enumerated() { index[path] = (number, rank) }
        }
        self.index = index
        taken = Array(repeating: nil, count: fields.count)
        takenRank = Array(repeating: Int.max, count: fields.count)
    }

    /// Takes `element` when it is one of the fields' places (in the first transaction); true
    /// then, and the caller maps it no further.
    mutating func read(_ element: ISO20022Document.Element) -> Bool {
        guard element.block == 0, let (field, rank) = index[element.path] else { return false }
        if rank < takenRank[field] {
            if let previous = taken[field] { passedOver.append(previous) }
            taken[field] = element
            takenRank[field] = rank
        } else {
            passedOver.append(element)
        }
        return true
    }

    /// Sets the fields taken, notes where each was when not at its first place, and keeps the
    /// places passed over in `unmapped`.
    func apply(to message: inout PaymentMessage) {
        for (number, field) in fields.enumerated() {
            guard let element = taken[number] else { continue }
            field.set(&message, element.text)
            if element.key != field.paths[0] { message.sourcePositions[field.paths[0]] = element.key }
        }
        for element in passedOver { message.unmapped.append(contentsOf: element.unmappedFields) }
    }

    /// The fields of `message` at their first places, for the encoder.
    static func leaves(of message: PaymentMessage, as definition: ISO20022MessageDefinition) -> [(key: String, value: String)] {
        fields(for: definition).compactMap { field in field.get(message).map { (field.paths[0], $0) } }
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
