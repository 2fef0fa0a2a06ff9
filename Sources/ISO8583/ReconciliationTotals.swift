/// The reconciliation totals of ISO 8583:1987 0500/0520 messages (DE 74–89 and 97): counts and
/// amounts of credits, debits, transfers, inquiries and authorizations, and their reversals, for
/// one business date. Both sides compute them from their own books; equal totals reconcile.
public struct ReconciliationTotals: Sendable, Equatable, Codable {
    /// DE 74, 75.
    public var credits = 0, creditReversals = 0
    /// DE 76, 77.
    public var debits = 0, debitReversals = 0
    /// DE 78, 79.
    public var transfers = 0, transferReversals = 0
    /// DE 80, 81.
    public var inquiries = 0, authorizations = 0
    /// DE 86–89, in minor units.
    public var creditsAmount: Int64 = 0, creditReversalsAmount: Int64 = 0
    public var debitsAmount: Int64 = 0, debitReversalsAmount: Int64 = 0

    public init() {}

    /// What a transaction counts as.
    public enum Kind: String, Sendable, Codable {
        case credit, debit, transfer, inquiry, authorization
    }

    /// The kind of an approved request: authorizations by their MTI (x100), financial requests
    /// (x200) by the processing code's transaction type (DE 3, first two digits): 20–29 credits
    /// (refunds, deposits), 30–39 inquiries, 40–49 transfers, anything else a debit. Nil for
    /// messages that are not authorization or financial requests.
    public static func kind(mti: String, processingCode: String?) -> Kind? {
        let digits = Array(mti.utf8)
        guard digits.count == 4, digits[3] == UInt8(ascii: "0") || digits[3] == UInt8(ascii: "1") else { return nil }
        switch (digits[1], digits[2]) {
        case (UInt8(ascii: "1"), UInt8(ascii: "0")): return .authorization
        case (UInt8(ascii: "2"), UInt8(ascii: "0")):
            switch processingCode?.utf8.first {
            case UInt8(ascii: "2"): return .credit
            case UInt8(ascii: "3"): return .inquiry
            case UInt8(ascii: "4"): return .transfer
            default: return .debit
            }
        default: return nil
        }
    }

    /// Counts an approved transaction.
    public mutating func add(_ kind: Kind, amount: Int64) {
        switch kind {
        case .credit:
            credits += 1
            creditsAmount = ReconciliationTotals.sum(creditsAmount, amount)
        case .debit:
            debits += 1
            debitsAmount = ReconciliationTotals.sum(debitsAmount, amount)
        case .transfer: transfers += 1
        case .inquiry: inquiries += 1
        case .authorization: authorizations += 1
        }
    }

    /// Counts the reversal of an approved transaction (authorizations and inquiries have no
    /// reversal counter: their reversal only takes them out of nothing that settles).
    public mutating func addReversal(_ kind: Kind, amount: Int64) {
        switch kind {
        case .credit:
            creditReversals += 1
            creditReversalsAmount = ReconciliationTotals.sum(creditReversalsAmount, amount)
        case .debit:
            debitReversals += 1
            debitReversalsAmount = ReconciliationTotals.sum(debitReversalsAmount, amount)
        case .transfer: transferReversals += 1
        case .inquiry, .authorization: break
        }
    }

    /// DE 97: credits less their reversals, less debits less theirs, in minor units. Positive is
    /// owed to the card holders' side (C), negative by it (D). Held at Int64's bounds rather than
    /// wrapping or trapping.
    public var netSettlement: Int64 {
        Self.sum(Self.sum(creditsAmount, -creditReversalsAmount), -Self.sum(debitsAmount, -debitReversalsAmount))
    }

    /// `a + b`, held at Int64's bounds: amounts read from messages and files never wrap a total.
    public static func sum(_ a: Int64, _ b: Int64) -> Int64 {
        let (total, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b < 0 ? .min : .max) : total
    }

    /// DE 39 of the answer to a reconciliation request: in balance 00 (500 in 1993), else 95 (501).
    public static func answerCode(inBalance: Bool, version: Int) -> String {
        version == 0 ? (inBalance ? "00" : "95") : (inBalance ? "500" : "501")
    }

    /// Whether a reconciliation answer's DE 39 says in balance.
    public static func isInBalance(_ code: String?) -> Bool { code == "00" || code == "500" }

    /// The totals as data elements, by number (DE 82–85, the fees, are zeros: the switch charges none).
    public var fields: [(Int, String)] {
        func digits(_ value: Int64, _ width: Int) -> String {
            let text = String(max(value, 0))
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let counts: [(Int, Int)] = [(74, credits), (75, creditReversals), (76, debits), (77, debitReversals), (78, transfers),
                                    (79, transferReversals), (80, inquiries), (81, authorizations)]
        var fields = counts.map { ($0.0, digits(Int64($0.1), 10)) }
        fields += (82...85).map { ($0, digits(0, 12)) }
        fields += [(86, digits(creditsAmount, 16)), (87, digits(creditReversalsAmount, 16)), (88, digits(debitsAmount, 16)),
                   (89, digits(debitReversalsAmount, 16))]
        let net = netSettlement
        fields.append((97, (net >= 0 ? "C" : "D") + digits(net.magnitude > UInt64(Int64.max) ? Int64.max : Int64(net.magnitude), 16)))
        return fields
    }

    /// Writes DE 74–89 and 97 into a reconciliation message, each as wide as `dialect` has it
    /// (1993's DE 82–85 are ten-digit counts where 1987's are twelve-digit fee amounts; both zero here).
    public func write(into message: inout ISO8583Message, dialect: Dialect) {
        for (field, value) in fields {
            guard let width = dialect[field: field]?.maxLength else { continue }
            let sign = field == 97 ? String(value.prefix(1)) : ""
            let digits = value.dropFirst(sign.count).drop { $0 == "0" }
            let room = width - sign.count
            message.set(field, sign + String(repeating: "0", count: max(0, room - digits.count)) + digits.suffix(room))
        }
    }

    /// The totals a reconciliation message carries; nil when a count or amount is missing or not a number.
    public init?(_ message: ISO8583Message) {
        func count(_ field: Int) -> Int? { message.string(field).flatMap { Int($0) } }
        func amount(_ field: Int) -> Int64? { message.string(field).flatMap { Int64($0) } }
        guard let credits = count(74), let creditReversals = count(75), let debits = count(76), let debitReversals = count(77),
              let transfers = count(78), let transferReversals = count(79), let inquiries = count(80), let authorizations = count(81),
              let creditsAmount = amount(86), let creditReversalsAmount = amount(87), let debitsAmount = amount(88),
              let debitReversalsAmount = amount(89) else { return nil }
        self.credits = credits
        self.creditReversals = creditReversals
        self.debits = debits
        self.debitReversals = debitReversals
        self.transfers = transfers
        self.transferReversals = transferReversals
        self.inquiries = inquiries
        self.authorizations = authorizations
        self.creditsAmount = creditsAmount
        self.creditReversalsAmount = creditReversalsAmount
        self.debitsAmount = debitsAmount
        self.debitReversalsAmount = debitReversalsAmount
    }

    /// Each data element whose value differs, named: `DE 76 (debits): 120 here, 119 there`.
    public func differences(from other: ReconciliationTotals) -> [String] {
        let names: [Int: String] = [
            74: "credits", 75: "credit reversals", 76: "debits", 77: "debit reversals", 78: "transfers", 79: "transfer reversals",
            80: "inquiries", 81: "authorizations", 86: "credits amount", 87: "credit reversals amount", 88: "debits amount",
            89: "debit reversals amount", 97: "net settlement",
        ]
        let theirs = Dictionary(other.fields, uniquingKeysWith: { first, _ in first })
        return fields.compactMap { field, value in
            guard let name = names[field], let their = theirs[field], their != value else { return nil }
            return "DE \(field) (\(name)): \(value) here, \(their) there"
        }
    }
}
