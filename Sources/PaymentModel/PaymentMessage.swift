/// The canonical payment message: one vocabulary for ISO 8583 (any dialect) and ISO 20022.
///
/// Codecs map their wire formats to and from it; routing reads only it. It is a value type: a
/// message is never changed in place once handed on, only copied with changes.
public struct PaymentMessage: Sendable, Hashable {
    /// What the message is about.
    public var kind: Kind
    /// Where it stands in its exchange.
    public var function: Function
    /// Whether this is a repeat (retransmission) of an earlier message.
    public var isRepeat = false

    // MARK: Card payment data (ISO 8583)

    /// Transaction type and accounts (ISO 8583 DE 3).
    public var processing: ProcessingCode?
    /// The transaction amount.
    public var amount: Amount?
    /// The cardholder billing amount, when it differs in currency.
    public var billingAmount: Amount?
    /// The primary account number; masks itself whenever printed.
    public var pan: PAN?
    /// Track 2 data; masks itself whenever printed.
    public var track2: SensitiveText?
    /// Card expiry, YYMM.
    public var expiry: SensitiveText?
    /// Systems trace audit number.
    public var stan: String? {
        get { texts[.stan] }
        set { texts[.stan] = newValue }
    }
    /// Retrieval reference number.
    public var rrn: String? {
        get { texts[.rrn] }
        set { texts[.rrn] = newValue }
    }
    /// Transmission date and time as sent (MMDDhhmmss in 1987, YYMMDDhhmmss in 1993).
    public var transmissionDateTime: String? {
        get { texts[.transmissionDateTime] }
        set { texts[.transmissionDateTime] = newValue }
    }
    /// Local transaction date and time as sent.
    public var localDateTime: String? {
        get { texts[.localDateTime] }
        set { texts[.localDateTime] = newValue }
    }
    /// Acquiring institution identification code.
    public var acquirer: String? {
        get { texts[.acquirer] }
        set { texts[.acquirer] = newValue }
    }
    /// Forwarding institution identification code.
    public var forwarder: String? {
        get { texts[.forwarder] }
        set { texts[.forwarder] = newValue }
    }
    /// Card acceptor terminal identification.
    public var terminal: String? {
        get { texts[.terminal] }
        set { texts[.terminal] = newValue }
    }
    /// The card acceptor.
    public var merchant: Merchant? {
        get {
            guard hasMerchant else { return nil }
            var merchant = Merchant(id: texts[.merchantID], categoryCode: texts[.merchantCategoryCode], name: texts[.merchantName],
                                    city: texts[.merchantCity], country: texts[.merchantCountry])
            merchant.location = texts[.merchantLocation]
            return merchant
        }
        set {
            hasMerchant = newValue != nil
            texts[.merchantID] = newValue?.id
            texts[.merchantCategoryCode] = newValue?.categoryCode
            texts[.merchantName] = newValue?.name
            texts[.merchantCity] = newValue?.city
            texts[.merchantCountry] = newValue?.country
            texts[.merchantLocation] = newValue?.location
        }
    }
    /// The card acceptor's identification (``Merchant/id``), read without building the merchant.
    public var merchantID: String? { texts[.merchantID] }
    /// The merchant category code (``Merchant/categoryCode``), read without building the merchant.
    public var merchantCategoryCode: String? { texts[.merchantCategoryCode] }
    /// The acceptor's country (``Merchant/country``), read without building the merchant.
    public var merchantCountry: String? { texts[.merchantCountry] }
    /// POS entry mode (DE 22 in 1987) or POS data code (1993).
    public var posEntryMode: String? {
        get { texts[.posEntryMode] }
        set { texts[.posEntryMode] = newValue }
    }
    /// POS condition code.
    public var posConditionCode: String? {
        get { texts[.posConditionCode] }
        set { texts[.posConditionCode] = newValue }
    }
    /// The outcome, in canonical ranges.
    public var result: ResultCode?
    /// Approval (authorization identification response) code.
    public var approvalCode: String? {
        get { texts[.approvalCode] }
        set { texts[.approvalCode] = newValue }
    }
    /// EMV chip data (BER-TLV), as received; masks itself whenever printed.
    public var emv: SensitiveBytes?
    /// The encrypted PIN block (DE 52), as received, under the key of the zone it came from (the
    /// switch re-encrypts it towards a host's zone on the ISO 8583 message); masks itself whenever printed.
    public var pinBlock: SensitiveBytes?
    /// Original data elements, for reversals and advices.
    public var original: OriginalData? {
        get {
            guard hasOriginal else { return nil }
            return OriginalData(mti: texts[.originalMTI], stan: texts[.originalSTAN], transmissionDateTime: texts[.originalTransmissionDateTime],
                                acquirer: texts[.originalAcquirer], forwarder: texts[.originalForwarder])
        }
        set {
            hasOriginal = newValue != nil
            texts[.originalMTI] = newValue?.mti
            texts[.originalSTAN] = newValue?.stan
            texts[.originalTransmissionDateTime] = newValue?.transmissionDateTime
            texts[.originalAcquirer] = newValue?.acquirer
            texts[.originalForwarder] = newValue?.forwarder
        }
    }

    /// The short texts above, inline (see ``CardTexts``), and whether a merchant and original
    /// data are present (a merchant with no value set is still one). A merchant's or the original
    /// data's text is only ever set with its flag, so the flags need not be checked to read one.
    @usableFromInline var texts = CardTexts()
    @usableFromInline var hasMerchant = false
    package private(set) var hasOriginal = false

    // MARK: Credit transfer data (ISO 20022)

    /// The credit transfer values, in one group out of line: a card message, which has none,
    /// creates, copies and destroys one nil reference instead of some thirty.
    /// Internal to the module: ``TransferField`` sets values in place through it.
    var transfer = TransferGroup()

    /// ISO 20022 identifications: MsgId, InstrId, EndToEndId, TxId, UETR.
    public var identifiers: Identifiers {
        get { transfer[\.identifiers] }
        set { transfer[\.identifiers] = newValue }
    }
    /// The instructing and instructed agents (BICs).
    public var instructingAgent: String? {
        get { transfer[\.instructingAgent] }
        set { transfer[\.instructingAgent] = newValue }
    }
    public var instructedAgent: String? {
        get { transfer[\.instructedAgent] }
        set { transfer[\.instructedAgent] = newValue }
    }
    /// The debtor and creditor, with their agents.
    public var debtor: Party? {
        get { transfer[\.debtor] }
        set { transfer[\.debtor] = newValue }
    }
    public var creditor: Party? {
        get { transfer[\.creditor] }
        set { transfer[\.creditor] = newValue }
    }
    public var debtorAgent: String? {
        get { transfer[\.debtorAgent] }
        set { transfer[\.debtorAgent] = newValue }
    }
    public var creditorAgent: String? {
        get { transfer[\.creditorAgent] }
        set { transfer[\.creditorAgent] = newValue }
    }
    /// Interbank settlement date (ISO date) and method (CLRG, INDA, INGA, COVE).
    public var settlementDate: String? {
        get { transfer[\.settlementDate] }
        set { transfer[\.settlementDate] = newValue }
    }
    public var settlementMethod: String? {
        get { transfer[\.settlementMethod] }
        set { transfer[\.settlementMethod] = newValue }
    }
    /// Who bears the charges (DEBT, CRED, SHAR, SLEV).
    public var chargeBearer: String? {
        get { transfer[\.chargeBearer] }
        set { transfer[\.chargeBearer] = newValue }
    }
    /// Unstructured remittance information.
    public var remittanceInformation: [String] {
        get { transfer[\.remittanceInformation] }
        set { transfer[\.remittanceInformation] = newValue }
    }
    /// Transaction status (ACSC, RJCT, PDNG …) and its reason code (AM04, AC01 …).
    public var status: String? {
        get { transfer[\.status] }
        set { transfer[\.status] = newValue }
    }
    public var statusReason: String? {
        get { transfer[\.statusReason] }
        set { transfer[\.statusReason] = newValue }
    }
    /// The ISO 20022 business application header (head.001) the message came with, or is to be sent with.
    public var businessHeader: BusinessHeader? {
        get { transfer[\.businessHeader] }
        set { transfer[\.businessHeader] = newValue }
    }
    /// Instruction priority (HIGH, NORM).
    public var instructionPriority: String? {
        get { transfer[\.instructionPriority] }
        set { transfer[\.instructionPriority] = newValue }
    }
    /// Service level code (SEPA, URGP, G001 …): what a router of credit transfers reads first.
    public var serviceLevel: String? {
        get { transfer[\.serviceLevel] }
        set { transfer[\.serviceLevel] = newValue }
    }
    /// Local instrument code (INST for SEPA instant, CORE, B2B …).
    public var localInstrument: String? {
        get { transfer[\.localInstrument] }
        set { transfer[\.localInstrument] = newValue }
    }
    /// Category purpose code (SUPP, SALA, TAXS …).
    public var categoryPurpose: String? {
        get { transfer[\.categoryPurpose] }
        set { transfer[\.categoryPurpose] = newValue }
    }
    /// Purpose code of the underlying transaction (GDDS, SALA …).
    public var purpose: String? {
        get { transfer[\.purpose] }
        set { transfer[\.purpose] = newValue }
    }
    /// Structured creditor reference (ISO 11649 `RF…`), from structured remittance information.
    public var creditorReference: String? {
        get { transfer[\.creditorReference] }
        set { transfer[\.creditorReference] = newValue }
    }
    /// The ultimate debtor and creditor, when other parties than the debtor and creditor.
    public var ultimateDebtor: Party? {
        get { transfer[\.ultimateDebtor] }
        set { transfer[\.ultimateDebtor] = newValue }
    }
    public var ultimateCreditor: Party? {
        get { transfer[\.ultimateCreditor] }
        set { transfer[\.ultimateCreditor] = newValue }
    }
    /// Name of the ultimate debtor.
    public var ultimateDebtorName: String? {
        get { ultimateDebtor?.name }
        set { ultimateDebtor = Party.updating(ultimateDebtor) { $0.name = newValue } }
    }
    /// Name of the ultimate creditor.
    public var ultimateCreditorName: String? {
        get { ultimateCreditor?.name }
        set { ultimateCreditor = Party.updating(ultimateCreditor) { $0.name = newValue } }
    }
    /// The amount the debtor instructed, in its currency, before conversion (pacs.008 `InstdAmt`),
    /// and the exchange rate applied (`XchgRate`, as written).
    public var instructedAmount: Amount? {
        get { transfer[\.instructedAmount] }
        set { transfer[\.instructedAmount] = newValue }
    }
    public var exchangeRate: String? {
        get { transfer[\.exchangeRate] }
        set { transfer[\.exchangeRate] = newValue }
    }
    /// The charges agents took (`ChrgsInf`), in order.
    public var charges: [Charge] {
        get { transfer[\.charges] }
        set { transfer[\.charges] = newValue }
    }
    /// Clearing system code of the settlement (TGT, EBA …).
    public var clearingSystem: String? {
        get { transfer[\.clearingSystem] }
        set { transfer[\.clearingSystem] = newValue }
    }
    /// Where an ISO 20022 source document had each canonical field, by indexed element path below
    /// the message element (`status`: `OrgnlGrpInfAndSts/GrpSts`, `statusReason`:
    /// `TxInfAndSts/StsRsnInf[2]/Rsn/Cd`), for the fields read elsewhere than where the encoder
    /// writes them by default: written back as the same message, each goes back to its place.
    public var sourcePositions: [String: String] {
        get { transfer[\.sourcePositions] }
        set { transfer[\.sourcePositions] = newValue }
    }
    /// Amounts as an ISO 20022 source wrote them (`100.5`, `1`), by canonical field name
    /// (`amount`, `instructedAmount`), when that is not the canonical text: written back so while
    /// the amount is unchanged.
    public var sourceTexts: [String: String] {
        get { transfer[\.sourceTexts] }
        set { transfer[\.sourceTexts] = newValue }
    }

    // MARK: Provenance

    /// The format and version the message was read from.
    public var source: Source?
    /// Fields the mapping does not cover, kept so a forward in the same format loses nothing.
    public var unmapped: [UnmappedField]

    public init(kind: Kind, function: Function) {
        self.kind = kind
        self.function = function
        self.unmapped = []
    }

    /// What a message is about.
    public enum Kind: String, Sendable, Hashable, CaseIterable, Codable {
        case authorization, financial, reversal, advice, networkManagement
        case creditTransfer, statusReport, paymentReturn, statusRequest, cancellationRequest, resolutionOfInvestigation
    }

    /// Where a message stands in its exchange.
    public enum Function: String, Sendable, Hashable, CaseIterable, Codable {
        case request, response, advice, adviceResponse, `repeat`
    }

    /// The format a message came from.
    public struct Source: Sendable, Hashable {
        /// `iso8583` or `iso20022`.
        public var format: String
        /// The dialect (`iso87binary`) or message identifier (`pacs.008.001.08`).
        public var version: String
        /// For ISO 8583, the edition's MTI version digit (0: 1987, 1: 1993, 2: 2003): a data
        /// element number means the same thing only within one edition.
        public var edition: Int?

        public init(format: String, version: String, edition: Int? = nil) {
            self.format = format
            self.version = version
            self.edition = edition
        }
    }
}

/// The stored credit transfer values of a ``PaymentMessage``; none until one is set. Equal and
/// hashed as its values, so a group set back to all empty equals one never set.
struct TransferGroup: Sendable, Hashable {
    struct Fields: Sendable, Hashable {
        var identifiers = Identifiers()
        var instructingAgent: String?
        var instructedAgent: String?
        var debtor: Party?
        var creditor: Party?
        var debtorAgent: String?
        var creditorAgent: String?
        var settlementDate: String?
        var settlementMethod: String?
        var chargeBearer: String?
        var remittanceInformation: [String] = []
        var status: String?
        var statusReason: String?
        var businessHeader: BusinessHeader?
        var instructionPriority: String?
        var serviceLevel: String?
        var localInstrument: String?
        var categoryPurpose: String?
        var purpose: String?
        var creditorReference: String?
        var ultimateDebtor: Party?
        var ultimateCreditor: Party?
        var instructedAmount: Amount?
        var exchangeRate: String?
        var charges: [Charge] = []
        var clearingSystem: String?
        var sourcePositions: [String: String] = [:]
        var sourceTexts: [String: String] = [:]
    }

    /// Out of line and shared until changed (copy on write): a card message carries one nil
    /// reference instead of some 480 bytes, and a change moves no bytes.
    final class Box: @unchecked Sendable {
        // Changed only through `update`, which first makes the box unique to its message: so no
        // two accesses can overlap, and the runtime's exclusivity check (some 100 instructions
        // per field a decode sets) is left out.
        @exclusivity(unchecked) var fields: Fields

        init(_ fields: Fields) { self.fields = fields }
    }

    private(set) var box: Box?

    /// What an absent group reads as.
    private static let empty = Fields()

    /// One value: the group's, or the empty group's when none was ever set.
    subscript<Value>(field: WritableKeyPath<Fields, Value>) -> Value {
        get { box?.fields[keyPath: field] ?? TransferGroup.empty[keyPath: field] }
        set { update { $0[keyPath: field] = newValue } }
    }

    /// Changes the values in place, creating them on the first change and copying them first
    /// when another message shares them.
    @inline(__always)
    mutating func update(_ change: (inout Fields) -> Void) {
        if !isKnownUniquelyReferenced(&box) { box = Box(box?.fields ?? Fields()) }
        change(&box!.fields)
    }

    static func == (lhs: TransferGroup, rhs: TransferGroup) -> Bool {
        lhs.box === rhs.box || (lhs.box?.fields ?? Fields()) == (rhs.box?.fields ?? Fields())
    }

    func hash(into hasher: inout Hasher) { hasher.combine(box?.fields ?? Fields()) }
}

/// ISO 20022 identifications of a message and its transaction.
public struct Identifiers: Sendable, Hashable {
    public var messageId: String?
    public var instructionId: String?
    public var endToEndId: String?
    public var transactionId: String?
    public var uetr: String?

    public init() {}
}

/// The ISO 20022 business application header (head.001.001.02 `AppHdr`): who sends the business
/// message to whom, and which message it is.
public struct BusinessHeader: Sendable, Hashable {
    /// The sender's BIC (`Fr/FIId/FinInstnId/BICFI`).
    public var from: String?
    /// The receiver's BIC (`To/FIId/FinInstnId/BICFI`).
    public var to: String?
    /// `BizMsgIdr`: the sender's reference of the business message.
    public var businessMessageId: String?
    /// `MsgDefIdr`: the message definition carried (`pacs.008.001.08`). Written from the document on encode.
    public var messageDefinitionId: String?
    /// `BizSvc`: the business service or scheme (`swift.cbprplus.02`).
    public var businessService: String?
    /// `CreDt`: when the header was created (ISO date-time).
    public var creationDate: String?
    /// `CpyDplct`: COPY, CODU or DUPL.
    public var copyDuplicate: String?
    /// `PssblDplct`: the sender may have sent this message before.
    public var possibleDuplicate: Bool?
    /// `Prty`: the business priority.
    public var priority: String?

    public init(from: String? = nil, to: String? = nil, businessMessageId: String? = nil, messageDefinitionId: String? = nil,
                businessService: String? = nil, creationDate: String? = nil) {
        self.from = from
        self.to = to
        self.businessMessageId = businessMessageId
        self.messageDefinitionId = messageDefinitionId
        self.businessService = businessService
        self.creationDate = creationDate
    }
}

/// Transaction type and from/to accounts (ISO 8583 DE 3: TTFFTT).
public struct ProcessingCode: Sendable, Hashable, CustomStringConvertible {
    /// The six ASCII digits, packed: no string to create, copy or release.
    private let digits: UInt64

    public var transactionType: String { part(0) }
    public var fromAccount: String { part(2) }
    public var toAccount: String { part(4) }

    /// Parses the six digits of DE 3, or nil.
    public init?(_ digits: String) {
        var digits = digits
        guard let code = digits.withUTF8({ bytes in
            bytes.count == 6 && bytes.allSatisfy(PaymentModel.isASCIIDigit) ? ProcessingCode(sixDigits: bytes) : nil
        }) else { return nil }
        self = code
    }

    /// The code of six bytes already checked to be ASCII digits.
    package init(sixDigits bytes: UnsafeBufferPointer<UInt8>) {
        precondition(bytes.count == 6)
        var packed: UInt64 = 0
        for index in 0..<6 { packed |= UInt64(bytes[index]) << UInt64(8 * index) }
        digits = packed
    }

    /// The six digits as a number (`003000` is 3000): for comparing without strings.
    public var number: Int {
        var value = 0
        for index in 0..<6 { value = value * 10 + Int(digit(index) &- UInt8(ascii: "0")) }
        return value
    }

    /// The ASCII digit at `index` (0-5).
    private func digit(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: digits >> UInt64(8 * index)) }

    /// `count` digits from `start`: a small (inline) string.
    private func part(_ start: Int, count: Int = 2) -> String {
        String(unsafeUninitializedCapacity: count) { buffer in
            for index in 0..<count { buffer[index] = digit(start + index) }
            return count
        }
    }

    public var description: String { part(0, count: 6) }
}

/// The card acceptor.
public struct Merchant: Sendable, Hashable {
    public var id: String?
    /// Merchant category code (ISO 18245).
    public var categoryCode: String?
    public var name: String?
    public var city: String?
    /// ISO 3166 numeric country code (ISO 8583 DE 19).
    public var country: String?
    /// The state and country as written in the acceptor's name and location (DE 43, positions 37-40).
    public var location: String?

    public init(id: String? = nil, categoryCode: String? = nil, name: String? = nil, city: String? = nil, country: String? = nil) {
        self.id = id
        self.categoryCode = categoryCode
        self.name = name
        self.city = city
        self.country = country
    }
}

/// Original data elements of the transaction a reversal or advice refers to.
public struct OriginalData: Sendable, Hashable {
    public var mti: String?
    public var stan: String?
    public var transmissionDateTime: String?
    public var acquirer: String?
    public var forwarder: String?

    public init(mti: String? = nil, stan: String? = nil, transmissionDateTime: String? = nil, acquirer: String? = nil, forwarder: String? = nil) {
        self.mti = mti
        self.stan = stan
        self.transmissionDateTime = transmissionDateTime
        self.acquirer = acquirer
        self.forwarder = forwarder
    }
}

/// A debtor, creditor or ultimate party: name, account, identifiers and postal address.
public struct Party: Sendable, Hashable {
    public var name: String?
    /// IBAN, when the account is one.
    public var iban: String?
    /// Another account identification, when not an IBAN.
    public var otherAccount: String?
    /// The organisation's legal entity identifier (ISO 17442).
    public var lei: String?
    /// The organisation's BIC (`AnyBIC`).
    public var bic: String?
    /// Another identification of the organisation (the first `Othr/Id`).
    public var otherId: String?
    public var address: PostalAddress?

    public init(name: String? = nil, iban: String? = nil, otherAccount: String? = nil) {
        self.name = name
        self.iban = iban
        self.otherAccount = otherAccount
    }

    /// `party` (or a new one) with `change` applied; nil when nothing is left.
    public static func updating(_ party: Party?, _ change: (inout Party) -> Void) -> Party? {
        var updated = party ?? Party()
        change(&updated)
        return updated == Party() ? nil : updated
    }
}

/// A charge an agent took on a transfer (ISO 20022 `ChrgsInf`): the amount and the agent's BIC.
public struct Charge: Sendable, Hashable, CustomStringConvertible {
    public var amount: Amount
    public var agent: String?

    public init(amount: Amount, agent: String? = nil) {
        self.amount = amount
        self.agent = agent
    }

    /// `1.50 EUR BNPAFRPPXXX`: the amount, its currency and the agent when known.
    public var description: String {
        amount.decimalText + " " + amount.currency.code + (agent.map { " " + $0 } ?? "")
    }

    /// Reads ``description`` back; nil when it is not one.
    public init?(_ text: String) {
        let parts = text.split(separator: " ").map(String.init)
        guard parts.count == 2 || parts.count == 3, let currency = Currency(parts[1]),
              let amount = try? Amount(parsing: parts[0], currency: currency) else { return nil }
        self.init(amount: amount, agent: parts.count == 3 ? parts[2] : nil)
    }
}

/// A postal address: structured parts and, or instead, address lines.
public struct PostalAddress: Sendable, Hashable {
    public var streetName: String?
    public var buildingNumber: String?
    public var postCode: String?
    public var townName: String?
    public var countrySubDivision: String?
    /// ISO 3166 alpha-2.
    public var country: String?
    /// Unstructured lines (`AdrLine`), in order.
    public var lines: [String] = []

    public init() {}
}

/// A field the mapping does not cover, kept as its logical value; a sensitive one (PIN block,
/// track 1 …) prints masked like ``SensitiveText``.
public struct UnmappedField: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The field's identification: a data element number, or an XML path.
    public var key: String
    /// The value: characters, or hexadecimal for binary values. Clear even when sensitive.
    public var value: String {
        get { stored.revealed }
        set { stored = SensitiveText(newValue) }
    }
    /// Whether the value is card data that must never be printed in clear.
    public var isSensitive: Bool
    /// Held as a ``SensitiveText``: up to 40 ASCII bytes (a PIN block's hexadecimal) inline, no allocation.
    private var stored: SensitiveText

    public init(key: String, value: String, isSensitive: Bool = false) {
        self.key = key
        self.stored = SensitiveText(value)
        self.isSensitive = isSensitive
    }

    /// A field of UTF-8 bytes, without building a string when they are short ASCII.
    package init(key: String, utf8 value: UnsafeBufferPointer<UInt8>, isSensitive: Bool) {
        self.key = key
        self.stored = SensitiveText(utf8: value)
        self.isSensitive = isSensitive
    }

    /// Calls `body` with the clear value's UTF-8, without building a string.
    package func withValueUTF8(_ body: (UnsafeBufferPointer<UInt8>) -> Void) { stored.withRevealedUTF8(body) }

    /// The value as it may be printed.
    public var printableValue: String { isSensitive ? stored.description : stored.revealed }

    public var description: String { "\(key)=\(printableValue)" }
    public var debugDescription: String { "UnmappedField(\(description))" }
    public var customMirror: Mirror {
        Mirror(self, children: ["key": key, "value": printableValue, "isSensitive": isSensitive])
    }
}

/// Whether a UTF-8 byte is an ASCII digit.
@inline(__always)
func isASCIIDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
