public import PaymentModel

/// A routing rule file as typed data: ordered rules, first match wins, else the default action.
///
/// Built by ``RuleSet/load(yaml:file:readFile:)`` from YAML, or directly in code (tests, generated
/// rule sets). ``RoutingSnapshot`` compiles it into the decision structure the switch uses.
public struct RuleSet: Sendable {
    /// The channels actions may name, in declaration order.
    public var channels: [String]
    /// The rules, in file order: the first that matches decides.
    public var rules: [Rule]
    /// What happens when no rule matches.
    public var defaultAction: RouteAction
    /// The content hash of the rule file and the BIN tables it read, as 16 hex digits.
    public var contentHash: String

    public init(channels: [String], rules: [Rule], defaultAction: RouteAction, contentHash: String = "") {
        self.channels = channels
        self.rules = rules
        self.defaultAction = defaultAction
        self.contentHash = contentHash
    }
}

/// Where something was written in a rule file.
public struct SourcePosition: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// A position for rules built in code.
    public static let none = SourcePosition(file: "", line: 0, column: 0)

    public var description: String { "\(file):\(line):\(column)" }
}

/// One routing rule.
public struct Rule: Sendable {
    public var id: String
    public var description: String
    public var condition: Condition
    public var action: RouteAction
    /// Where the rule starts in its file.
    public var position: SourcePosition

    public init(id: String, description: String = "", condition: Condition, action: RouteAction, position: SourcePosition = .none) {
        self.id = id
        self.description = description
        self.condition = condition
        self.action = action
        self.position = position
    }
}

/// A condition over the canonical message and the decision context.
public indirect enum Condition: Sendable {
    /// Every part holds (an empty list always holds).
    case all([Condition])
    /// At least one part holds (an empty list never holds).
    case any([Condition])
    case not(Condition)
    /// One field test, with where it was written.
    case test(FieldTest, at: SourcePosition)

    /// A test written nowhere in particular (rules built in code).
    public static func test(_ test: FieldTest) -> Condition { .test(test, at: .none) }
}

/// A test of one canonical field. A test of a field the message does not carry is false.
public enum FieldTest: Sendable, Hashable {
    case kind(Set<PaymentMessage.Kind>)
    case function(Set<PaymentMessage.Function>)
    /// Processing code prefixes: two digits (transaction type) or all six.
    case processing(prefixes: [String])
    /// PAN BIN: intervals over the first eight PAN digits (a six-digit BIN `476173` is
    /// `47617300...47617399`).
    case bin(IntervalSet)
    /// Amount in minor units, in one currency (an amount in another currency does not match).
    case amount(currency: String, minorUnits: IntervalSet)
    /// Alphabetic currency codes.
    case currency(Set<String>)
    /// Merchant category codes, as intervals over 0...9999.
    case mcc(IntervalSet)
    case merchant(Set<String>)
    case terminal(Set<String>)
    case acquirer(Set<String>)
    /// Merchant country, as the message carries it (ISO 3166 numeric in ISO 8583).
    case country(Set<String>)
    /// POS entry mode prefixes (`05` chip, `07` contactless, `01` manual …).
    case posEntryMode(prefixes: [String])
    /// Debtor agent BIC prefixes.
    case debtorAgent(prefixes: [String])
    /// Creditor agent BIC prefixes.
    case creditorAgent(prefixes: [String])
    /// ISO 20022 payment type codes of a credit transfer: service level (SEPA, URGP …), local
    /// instrument (INST …) and category purpose (SALA, SUPP …).
    case serviceLevel(Set<String>)
    case localInstrument(Set<String>)
    case categoryPurpose(Set<String>)
    /// Time of day, as minute intervals over 0..<1440 (a window across midnight is two intervals).
    case timeOfDay(IntervalSet)

    /// The field the test reads.
    public var field: RoutingField {
        switch self {
        case .kind: .kind
        case .function: .function
        case .processing: .processing
        case .bin: .bin
        case .amount: .amount
        case .currency: .currency
        case .mcc: .mcc
        case .merchant: .merchant
        case .terminal: .terminal
        case .acquirer: .acquirer
        case .country: .country
        case .posEntryMode: .posEntryMode
        case .debtorAgent: .debtorAgent
        case .creditorAgent: .creditorAgent
        case .serviceLevel: .serviceLevel
        case .localInstrument: .localInstrument
        case .categoryPurpose: .categoryPurpose
        case .timeOfDay: .time
        }
    }
}

/// The fields a rule may test, by their name in rule files.
public enum RoutingField: String, Sendable, Hashable, CaseIterable {
    case kind, function, processing, bin, amount, currency, mcc, merchant, terminal, acquirer, country
    case posEntryMode = "pos-entry-mode"
    case debtorAgent = "debtor-agent"
    case creditorAgent = "creditor-agent"
    case serviceLevel = "service-level"
    case localInstrument = "local-instrument"
    case categoryPurpose = "category-purpose"
    case time

    /// Whether some decoder fills the field for messages of `kind`: a rule testing a field for
    /// kinds that never carry it can never match through that test (hyperswitch #13855).
    public func isFilled(for kind: PaymentMessage.Kind) -> Bool {
        switch self {
        case .kind, .function, .time: return true
        case .bin, .processing, .mcc, .merchant, .terminal, .country, .posEntryMode:
            return [.authorization, .financial, .reversal, .advice].contains(kind)
        case .acquirer:
            return [.authorization, .financial, .reversal, .advice, .networkManagement].contains(kind)
        case .amount, .currency:
            return ![.networkManagement, .statusReport, .statusRequest].contains(kind)
        case .debtorAgent, .creditorAgent:
            return [.creditTransfer, .statusReport].contains(kind)
        case .serviceLevel, .localInstrument, .categoryPurpose:
            return kind == .creditTransfer
        }
    }
}

/// What a rule (or the default) does with a message.
public enum RouteAction: Sendable, Hashable {
    /// Channels in failover order, by index into ``RuleSet/channels``.
    case route([Int])
    /// A deterministic weighted split; the chosen arm goes first, the others follow as fallbacks.
    case split([SplitArm])
    /// Decline with a canonical result code.
    case decline(ResultCode)
}

/// One arm of a weighted split.
public struct SplitArm: Sendable, Hashable {
    /// Index into ``RuleSet/channels``.
    public var channel: Int
    /// A positive relative weight.
    public var weight: Int

    public init(channel: Int, weight: Int) {
        self.channel = channel
        self.weight = weight
    }
}

/// What a decision may read besides the message: the time of day, injected so tests control it.
public struct RoutingContext: Sendable, Hashable {
    /// Minutes since local midnight, 0..<1440.
    public var minuteOfDay: Int

    public init(minuteOfDay: Int = 0) {
        self.minuteOfDay = ((minuteOfDay % 1440) + 1440) % 1440
    }

    public init(hour: Int, minute: Int) {
        self.init(minuteOfDay: hour * 60 + minute)
    }
}
