/// A credit transfer value by its canonical name, the name the canonical JSON gives it
/// (`debtorIBAN`, `serviceLevel`, `headerFrom`): what the ISO 20022 mapping tables map elements to,
/// and what a translation names when it cannot carry a value.
///
/// A class of closures, not an enum with payloads: the table lives for the whole process, and
/// LeakSanitizer loses pointers a multi-payload enum tags; a class, so that handing a field on
/// costs one reference, not one per closure. Closures rather than key paths: a decode sets some
/// thirty of them per message, and a key path is applied by the runtime.
public final class TransferField: Sendable {
    public enum Form: Sendable, Hashable {
        /// One text value.
        case text
        /// Any number of text values, in order (remittance lines, address lines).
        case list
        /// An ``Amount``: the element's text and its `Ccy` attribute.
        case amount
        /// ``Charge``s: each occurrence of a `ChrgsInf` element, its `Amt` and its agent's BIC.
        case charges
    }

    public let name: String
    public let form: Form
    /// A text field's value.
    let get: @Sendable (PaymentMessage) -> String?
    /// Sets a text field from element text; false when the text is not a value of the field (a
    /// flag other than `true` or `false`), which then stays unmapped.
    let setText: @Sendable (inout PaymentMessage, String) -> Bool
    /// A list field's values.
    let lines: (@Sendable (PaymentMessage) -> [String])?
    let setLines: (@Sendable (inout PaymentMessage, [String]) -> Void)?
    /// An amount field's value.
    public let amount: (@Sendable (PaymentMessage) -> Amount?)?
    public let setAmount: (@Sendable (inout PaymentMessage, Amount) -> Void)?
    /// The charges field's value.
    public let charges: (@Sendable (PaymentMessage) -> [Charge])?
    public let setCharges: (@Sendable (inout PaymentMessage, [Charge]) -> Void)?

    /// A text field, set in place in the message's credit transfer values (a decode sets some
    /// thirty per message: no copy of a party or of the identifiers each time).
    convenience init(_ name: String, _ get: @escaping @Sendable (PaymentMessage) -> String?,
         _ set: @escaping @Sendable (inout TransferGroup.Fields, String) -> Void) {
        self.init(name: name, form: .text, get: get, setText: { message, text in
            message.transfer.update { set(&$0, text) }
            return true
        })
    }

    /// A list field.
    convenience init(list name: String, _ get: @escaping @Sendable (PaymentMessage) -> [String],
         _ set: @escaping @Sendable (inout TransferGroup.Fields, [String]) -> Void) {
        self.init(name: name, form: .list, lines: get, setLines: { message, lines in message.transfer.update { set(&$0, lines) } })
    }

    /// An amount field.
    convenience init(amount name: String, _ get: @escaping @Sendable (PaymentMessage) -> Amount?,
         _ set: @escaping @Sendable (inout PaymentMessage, Amount) -> Void) {
        self.init(name: name, form: .amount, amount: get, setAmount: set)
    }

    fileprivate init(name: String, form: Form, get: @escaping @Sendable (PaymentMessage) -> String? = { _ in nil },
                 setText: @escaping @Sendable (inout PaymentMessage, String) -> Bool = { _, _ in false },
                 lines: (@Sendable (PaymentMessage) -> [String])? = nil, setLines: (@Sendable (inout PaymentMessage, [String]) -> Void)? = nil,
                 amount: (@Sendable (PaymentMessage) -> Amount?)? = nil, setAmount: (@Sendable (inout PaymentMessage, Amount) -> Void)? = nil,
                 charges: (@Sendable (PaymentMessage) -> [Charge])? = nil, setCharges: (@Sendable (inout PaymentMessage, [Charge]) -> Void)? = nil) {
        self.name = name
        self.form = form
        self.get = get
        self.setText = setText
        self.lines = lines
        self.setLines = setLines
        self.amount = amount
        self.setAmount = setAmount
        self.charges = charges
        self.setCharges = setCharges
    }

    /// The values: none when absent, one for text, each line of a list, an amount's decimal text.
    public func values(_ message: PaymentMessage) -> [String] {
        switch form {
        case .text: return get(message).map { [$0] } ?? []
        case .list: return lines?(message) ?? []
        case .amount: return amount?(message).map { [$0.decimalText] } ?? []
        case .charges: return (charges?(message) ?? []).map(\.description)
        }
    }

    /// The field's value as one text (a list's lines joined by line feeds, an amount as
    /// `EUR 100.00`), or nil when absent.
    public func text(of message: PaymentMessage) -> String? {
        switch form {
        case .text: return get(message)
        case .list:
            let values = lines?(message) ?? []
            return values.isEmpty ? nil : values.joined(separator: "\n")
        case .amount: return amount?(message)?.description
        case .charges:
            let values = values(message)
            return values.isEmpty ? nil : values.joined(separator: "\n")
        }
    }

    /// Sets a text field; false when the text is not a value of it (it then stays unmapped).
    public func set(_ message: inout PaymentMessage, text: String) -> Bool {
        setText(&message, text)
    }

    /// Sets a list field.
    public func set(_ message: inout PaymentMessage, lines: [String]) {
        setLines?(&message, lines)
    }

    /// The field named `name`, or nil.
    public static func named(_ name: String) -> TransferField? {
        byName[name]
    }

    /// How a field reaches one party of the message (the debtor, the ultimate creditor …).
    struct PartyAccess: Sendable {
        let get: @Sendable (PaymentMessage) -> Party?
        /// Changes the party in place, creating it when there is none.
        let update: @Sendable (inout TransferGroup.Fields, (inout Party) -> Void) -> Void

        /// A text value of the party.
        func field(_ name: String, _ get: @escaping @Sendable (Party) -> String?,
                   _ set: @escaping @Sendable (inout Party, String) -> Void) -> TransferField {
            let party = self
            return TransferField(name, { party.get($0).flatMap(get) }, { fields, text in party.update(&fields) { set(&$0, text) } })
        }

        /// A text value of the party's postal address.
        func addressField(_ name: String, _ get: @escaping @Sendable (PostalAddress) -> String?,
                          _ set: @escaping @Sendable (inout PostalAddress, String) -> Void) -> TransferField {
            field(name, { $0.address.flatMap(get) }, { party, text in party.address.update(creating: PostalAddress()) { set(&$0, text) } })
        }

        /// The identifiers and postal address of the party (`debtorLEI`, `creditorTown` …).
        func details(_ prefix: String) -> [TransferField] {
            let party = self
            return [
                field(prefix + "LEI", { $0.lei }, { $0.lei = $1 }),
                field(prefix + "BIC", { $0.bic }, { $0.bic = $1 }),
                field(prefix + "OtherId", { $0.otherId }, { $0.otherId = $1 }),
                addressField(prefix + "Street", { $0.streetName }, { $0.streetName = $1 }),
                addressField(prefix + "BuildingNumber", { $0.buildingNumber }, { $0.buildingNumber = $1 }),
                addressField(prefix + "PostCode", { $0.postCode }, { $0.postCode = $1 }),
                addressField(prefix + "Town", { $0.townName }, { $0.townName = $1 }),
                addressField(prefix + "CountrySubDivision", { $0.countrySubDivision }, { $0.countrySubDivision = $1 }),
                addressField(prefix + "Country", { $0.country }, { $0.country = $1 }),
                TransferField(list: prefix + "AddressLines", { party.get($0)?.address?.lines ?? [] }, { fields, lines in
                    party.update(&fields) { updated in updated.address.update(creating: PostalAddress()) { $0.lines = lines } }
                }),
            ]
        }

    }

    /// A value of the business application header, creating the header on the first one set.
    private static func headerField(_ name: String, _ get: @escaping @Sendable (BusinessHeader) -> String?,
                                    _ set: @escaping @Sendable (inout BusinessHeader, String) -> Void) -> TransferField {
        TransferField(name, { $0.businessHeader.flatMap(get) }, { fields, text in
            fields.businessHeader.update(creating: BusinessHeader()) { set(&$0, text) }
        })
    }

    /// Every credit transfer field, in the canonical JSON's order (lists, after the other members,
    /// in this order too).
    public static let all: [TransferField] = {
        // Each party is changed in place in the values (created on its first value).
        let debtor = PartyAccess(get: { $0.debtor }, update: { fields, change in fields.debtor.update(creating: Party(), change) })
        let creditor = PartyAccess(get: { $0.creditor }, update: { fields, change in fields.creditor.update(creating: Party(), change) })
        let ultimateDebtor = PartyAccess(get: { $0.ultimateDebtor },
                                         update: { fields, change in fields.ultimateDebtor.update(creating: Party(), change) })
        let ultimateCreditor = PartyAccess(get: { $0.ultimateCreditor },
                                           update: { fields, change in fields.ultimateCreditor.update(creating: Party(), change) })
        let possibleDuplicate = TransferField(name: "possibleDuplicate", form: .text,
                                              get: { $0.businessHeader?.possibleDuplicate.map { $0 ? "true" : "false" } },
                                              setText: { message, text in
                                                  guard text == "true" || text == "false" else { return false }
                                                  message.transfer.update { fields in
                                                      fields.businessHeader.update(creating: BusinessHeader()) { $0.possibleDuplicate = text == "true" }
                                                  }
                                                  return true
                                              })
        return [
            TransferField(amount: "amount", { $0.amount }, { $0.amount = $1 }),
            TransferField("messageId", { $0.identifiers.messageId }, { $0.identifiers.messageId = $1 }),
            TransferField("instructionId", { $0.identifiers.instructionId }, { $0.identifiers.instructionId = $1 }),
            TransferField("endToEndId", { $0.identifiers.endToEndId }, { $0.identifiers.endToEndId = $1 }),
            TransferField("transactionId", { $0.identifiers.transactionId }, { $0.identifiers.transactionId = $1 }),
            TransferField("uetr", { $0.identifiers.uetr }, { $0.identifiers.uetr = $1 }),
            TransferField("instructingAgent", { $0.instructingAgent }, { $0.instructingAgent = $1 }),
            TransferField("instructedAgent", { $0.instructedAgent }, { $0.instructedAgent = $1 }),
            debtor.field("debtorName", { $0.name }, { $0.name = $1 }),
            debtor.field("debtorIBAN", { $0.iban }, { $0.iban = $1 }),
            debtor.field("debtorAccount", { $0.otherAccount }, { $0.otherAccount = $1 }),
            TransferField("debtorAgent", { $0.debtorAgent }, { $0.debtorAgent = $1 }),
            creditor.field("creditorName", { $0.name }, { $0.name = $1 }),
            creditor.field("creditorIBAN", { $0.iban }, { $0.iban = $1 }),
            creditor.field("creditorAccount", { $0.otherAccount }, { $0.otherAccount = $1 }),
            TransferField("creditorAgent", { $0.creditorAgent }, { $0.creditorAgent = $1 }),
            TransferField("settlementDate", { $0.settlementDate }, { $0.settlementDate = $1 }),
            TransferField("settlementMethod", { $0.settlementMethod }, { $0.settlementMethod = $1 }),
            TransferField("chargeBearer", { $0.chargeBearer }, { $0.chargeBearer = $1 }),
            TransferField("status", { $0.status }, { $0.status = $1 }),
            TransferField("instructionPriority", { $0.instructionPriority }, { $0.instructionPriority = $1 }),
            TransferField("serviceLevel", { $0.serviceLevel }, { $0.serviceLevel = $1 }),
            TransferField("localInstrument", { $0.localInstrument }, { $0.localInstrument = $1 }),
            TransferField("categoryPurpose", { $0.categoryPurpose }, { $0.categoryPurpose = $1 }),
            TransferField("purpose", { $0.purpose }, { $0.purpose = $1 }),
            TransferField("creditorReference", { $0.creditorReference }, { $0.creditorReference = $1 }),
            ultimateDebtor.field("ultimateDebtorName", { $0.name }, { $0.name = $1 }),
            ultimateCreditor.field("ultimateCreditorName", { $0.name }, { $0.name = $1 }),
            TransferField("clearingSystem", { $0.clearingSystem }, { $0.clearingSystem = $1 }),
            TransferField("statusReason", { $0.statusReason }, { $0.statusReason = $1 }),
            TransferField(list: "remittanceInformation", { $0.remittanceInformation }, { $0.remittanceInformation = $1 }),
            TransferField(amount: "instructedAmount", { $0.instructedAmount }, { $0.instructedAmount = $1 }),
            TransferField("exchangeRate", { $0.exchangeRate }, { $0.exchangeRate = $1 }),
            TransferField(name: "charges", form: .charges, charges: { $0.charges },
                          setCharges: { message, charges in message.transfer.update { $0.charges = charges } }),
        ] + debtor.details("debtor") + creditor.details("creditor")
          + ultimateDebtor.details("ultimateDebtor") + ultimateCreditor.details("ultimateCreditor") + [
            headerField("headerFrom", { $0.from }, { $0.from = $1 }),
            headerField("headerTo", { $0.to }, { $0.to = $1 }),
            headerField("businessMessageId", { $0.businessMessageId }, { $0.businessMessageId = $1 }),
            headerField("headerMessageDefinition", { $0.messageDefinitionId }, { $0.messageDefinitionId = $1 }),
            headerField("businessService", { $0.businessService }, { $0.businessService = $1 }),
            headerField("headerCreationDate", { $0.creationDate }, { $0.creationDate = $1 }),
            headerField("copyDuplicate", { $0.copyDuplicate }, { $0.copyDuplicate = $1 }),
            possibleDuplicate,
            headerField("priority", { $0.priority }, { $0.priority = $1 }),
        ]
    }()

    private static let byName: [String: TransferField] = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
}

extension Optional {
    /// Changes the wrapped value in place, first creating it with `make` when there is none.
    @inline(__always)
    mutating func update(creating make: @autoclosure () -> Wrapped, _ change: (inout Wrapped) -> Void) {
        if case .none = self { self = make() }
        change(&self!)
    }
}
