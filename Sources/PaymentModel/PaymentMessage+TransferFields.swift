/// A credit transfer value by its canonical name, the name the canonical JSON gives it
/// (`debtorIBAN`, `serviceLevel`, `headerFrom`): what the ISO 20022 mapping tables map elements to,
/// and what a translation names when it cannot carry a value.
///
/// A struct of closures, not an enum with payloads: the table lives for the whole process, and
/// LeakSanitizer loses pointers a multi-payload enum tags.
public struct TransferField: Sendable {
    public enum Form: Sendable, Hashable {
        /// One text value.
        case text
        /// Any number of text values, in order (unstructured remittance lines).
        case list
        /// An ``Amount``: the element's text and its `Ccy` attribute.
        case amount
    }

    public let name: String
    public let form: Form
    /// The values (none when absent; one for text; an amount's decimal text).
    public let values: @Sendable (PaymentMessage) -> [String]
    /// Sets the value from element text; false when the text is not a value of the field (a flag
    /// other than `true` or `false`), which then stays unmapped.
    public let set: @Sendable (inout PaymentMessage, [String]) -> Bool
    /// For an amount field.
    public let amount: (@Sendable (PaymentMessage) -> Amount?)?
    public let setAmount: (@Sendable (inout PaymentMessage, Amount) -> Void)?

    /// A text field.
    init(_ name: String, _ get: @escaping @Sendable (PaymentMessage) -> String?,
         _ set: @escaping @Sendable (inout PaymentMessage, String) -> Void) {
        self.name = name
        form = .text
        values = { get($0).map { [$0] } ?? [] }
        self.set = { message, texts in
            guard let text = texts.first else { return false }
            set(&message, text)
            return true
        }
        amount = nil
        setAmount = nil
    }

    init(name: String, form: Form, values: @escaping @Sendable (PaymentMessage) -> [String],
         set: @escaping @Sendable (inout PaymentMessage, [String]) -> Bool,
         amount: (@Sendable (PaymentMessage) -> Amount?)? = nil, setAmount: (@Sendable (inout PaymentMessage, Amount) -> Void)? = nil) {
        self.name = name
        self.form = form
        self.values = values
        self.set = set
        self.amount = amount
        self.setAmount = setAmount
    }

    /// The field's value as one text (a list's lines joined by line feeds, an amount as
    /// `EUR 100.00`), or nil when absent.
    public func text(of message: PaymentMessage) -> String? {
        if let amount { return amount(message)?.description }
        let values = values(message)
        return values.isEmpty ? nil : values.joined(separator: "\n")
    }

    /// The field named `name`, or nil.
    public static func named(_ name: String) -> TransferField? {
        byName[name]
    }

    /// Every credit transfer field, in the canonical JSON's order (lists, after the other members,
    /// in this order too).
    public static let all: [TransferField] = {
        /// A value of a party, creating the party on the first one set.
        func partyField(_ name: String, _ party: any WritableKeyPath<PaymentMessage, Party?> & Sendable,
                        _ value: any WritableKeyPath<Party, String?> & Sendable) -> TransferField {
            TransferField(name, { $0[keyPath: party]?[keyPath: value] }, { message, text in
                message[keyPath: party] = Party.updating(message[keyPath: party]) { $0[keyPath: value] = text }
            })
        }
        /// A part of a party's postal address.
        func addressField(_ name: String, _ party: any WritableKeyPath<PaymentMessage, Party?> & Sendable,
                          _ value: any WritableKeyPath<PostalAddress, String?> & Sendable) -> TransferField {
            TransferField(name, { $0[keyPath: party]?.address?[keyPath: value] }, { message, text in
                message[keyPath: party] = Party.updating(message[keyPath: party]) { party in
                    var address = party.address ?? PostalAddress()
                    address[keyPath: value] = text
                    party.address = address
                }
            })
        }
        /// The identifiers and postal address of a party (`debtorLEI`, `creditorTown` …).
        func partyDetails(_ prefix: String, _ party: any WritableKeyPath<PaymentMessage, Party?> & Sendable) -> [TransferField] {
            [partyField(prefix + "LEI", party, \.lei), partyField(prefix + "BIC", party, \.bic),
             partyField(prefix + "OtherId", party, \.otherId),
             addressField(prefix + "Street", party, \.streetName), addressField(prefix + "BuildingNumber", party, \.buildingNumber),
             addressField(prefix + "PostCode", party, \.postCode), addressField(prefix + "Town", party, \.townName),
             addressField(prefix + "CountrySubDivision", party, \.countrySubDivision), addressField(prefix + "Country", party, \.country),
             TransferField(name: prefix + "AddressLines", form: .list, values: { $0[keyPath: party]?.address?.lines ?? [] },
                           set: { message, lines in
                               message[keyPath: party] = Party.updating(message[keyPath: party]) { party in
                                   var address = party.address ?? PostalAddress()
                                   address.lines = lines
                                   party.address = address
                               }
                               return true
                           })]
        }
        /// A value of the business application header, creating the header on the first one set.
        func headerField(_ name: String, _ value: any WritableKeyPath<BusinessHeader, String?> & Sendable) -> TransferField {
            TransferField(name, { $0.businessHeader?[keyPath: value] }, { message, text in
                var header = message.businessHeader ?? BusinessHeader()
                header[keyPath: value] = text
                message.businessHeader = header
            })
        }
        return [
            TransferField(name: "amount", form: .amount, values: { $0.amount.map { [$0.decimalText] } ?? [] }, set: { _, _ in false },
                          amount: { $0.amount }, setAmount: { $0.amount = $1 }),
            TransferField("messageId", { $0.identifiers.messageId }, { $0.identifiers.messageId = $1 }),
            TransferField("instructionId", { $0.identifiers.instructionId }, { $0.identifiers.instructionId = $1 }),
            TransferField("endToEndId", { $0.identifiers.endToEndId }, { $0.identifiers.endToEndId = $1 }),
            TransferField("transactionId", { $0.identifiers.transactionId }, { $0.identifiers.transactionId = $1 }),
            TransferField("uetr", { $0.identifiers.uetr }, { $0.identifiers.uetr = $1 }),
            TransferField("instructingAgent", { $0.instructingAgent }, { $0.instructingAgent = $1 }),
            TransferField("instructedAgent", { $0.instructedAgent }, { $0.instructedAgent = $1 }),
            partyField("debtorName", \.debtor, \.name),
            partyField("debtorIBAN", \.debtor, \.iban),
            partyField("debtorAccount", \.debtor, \.otherAccount),
            TransferField("debtorAgent", { $0.debtorAgent }, { $0.debtorAgent = $1 }),
            partyField("creditorName", \.creditor, \.name),
            partyField("creditorIBAN", \.creditor, \.iban),
            partyField("creditorAccount", \.creditor, \.otherAccount),
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
            partyField("ultimateDebtorName", \.ultimateDebtor, \.name),
            partyField("ultimateCreditorName", \.ultimateCreditor, \.name),
            TransferField("clearingSystem", { $0.clearingSystem }, { $0.clearingSystem = $1 }),
            TransferField("statusReason", { $0.statusReason }, { $0.statusReason = $1 }),
            TransferField(name: "remittanceInformation", form: .list, values: { $0.remittanceInformation },
                          set: { message, lines in message.remittanceInformation = lines; return true }),
            TransferField(name: "instructedAmount", form: .amount, values: { $0.instructedAmount.map { [$0.decimalText] } ?? [] },
                          set: { _, _ in false }, amount: { $0.instructedAmount }, setAmount: { $0.instructedAmount = $1 }),
            TransferField("exchangeRate", { $0.exchangeRate }, { $0.exchangeRate = $1 }),
        ] + partyDetails("debtor", \.debtor) + partyDetails("creditor", \.creditor)
          + partyDetails("ultimateDebtor", \.ultimateDebtor) + partyDetails("ultimateCreditor", \.ultimateCreditor) + [
            headerField("headerFrom", \.from),
            headerField("headerTo", \.to),
            headerField("businessMessageId", \.businessMessageId),
            headerField("headerMessageDefinition", \.messageDefinitionId),
            headerField("businessService", \.businessService),
            headerField("headerCreationDate", \.creationDate),
            headerField("copyDuplicate", \.copyDuplicate),
            TransferField(name: "possibleDuplicate", form: .text,
                          values: { $0.businessHeader?.possibleDuplicate.map { [$0 ? "true" : "false"] } ?? [] },
                          set: { message, texts in
                              guard let text = texts.first, text == "true" || text == "false" else { return false }
                              var header = message.businessHeader ?? BusinessHeader()
                              header.possibleDuplicate = text == "true"
                              message.businessHeader = header
                              return true
                          }),
            headerField("priority", \.priority),
        ]
    }()

    private static let byName: [String: TransferField] = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
}
