public import ISO8583
public import PaymentModel
public import Routing
public import SecurityModule
public import Transport

/// Everything `payswitch serve` runs: listeners, channels to hosts, the routing rules and the admin
/// endpoint. Read from YAML by ``SwitchConfiguration/load(yaml:file:readFile:)``; every error names
/// file:line:column.
public struct SwitchConfiguration: Sendable {
    /// The switch's name in logs and metrics.
    public var name: String
    /// Event loops (serial queues) for the switch's connections; nil: one per core but one (at least one).
    public var loops: Int?
    /// The routing rules as read (their text and the name errors use) and compiled.
    public var rules: RulesSource
    public var listeners: [ListenerConfiguration]
    public var channels: [ChannelConfiguration]
    /// Where the admin HTTP endpoint listens; nil: no endpoint.
    public var admin: HostAndPort?
    /// Breaker and sliding-window settings applied to every channel.
    public var health: HealthPolicy
    /// How long a graceful shutdown waits for in-flight answers before declining what is left.
    public var shutdownGrace: Duration
    /// Where the journal and the store-and-forward queue are kept; nil: neither (timeouts are
    /// declined but not reversed, advices are forwarded live).
    public var storage: StorageConfiguration?
    /// Where the working keys are (PIN translation); nil: no key store, and no listener or
    /// channel may name a PIN key.
    public var security: SecurityConfiguration?
    /// The business day of every channel that has none of its own, and of requests answered
    /// without a channel; nil: dates turn at midnight UTC, and nothing is sent about them.
    public var businessDay: BusinessDayConfiguration?
    /// The cluster this switch is a node of; nil: it runs alone.
    public var cluster: ClusterConfiguration?

    public init(name: String, loops: Int? = nil, rules: RulesSource, listeners: [ListenerConfiguration], channels: [ChannelConfiguration],
                admin: HostAndPort? = nil, health: HealthPolicy = HealthPolicy(), shutdownGrace: Duration = .seconds(10)) {
        self.name = name
        self.loops = loops
        self.rules = rules
        self.listeners = listeners
        self.channels = channels
        self.admin = admin
        self.health = health
        self.shutdownGrace = shutdownGrace
    }
}

/// The switch's durable storage: the SQLite database (or a PostgreSQL one) and the data key that
/// seals what it stores.
public struct StorageConfiguration: Sendable, Equatable {
    /// The SQLite database file (created with its folder when missing), or a PostgreSQL database's
    /// `postgres://user[:password]@host[:port]/database` URL.
    public var path: String
    /// The data key file (64 hexadecimal digits; created, readable by its owner only, when missing).
    public var keyFile: String
    /// Journal records that may wait to be written; beyond it new requests are shed.
    public var journalCapacity: Int
    /// Whether journal records carry the request and the answer (sealed with the data key).
    public var journalMessages: Bool
    /// When a write counts as done.
    public var synchronous: Synchronous
    /// How long a reversal or advice may wait for its host's answer before the alarm
    /// (`payswitch_forward_overdue`, and a warning in the log).
    public var forwardAlarmAfter: Duration = .seconds(300)

    /// When a write counts as done.
    public enum Synchronous: String, Sendable, CaseIterable {
        /// Once on disk (fsync at each commit): survives a crash of the machine or a power cut.
        case full
        /// Once handed to the operating system (fsync at checkpoints only): survives the process
        /// being killed, not a crash of the machine, which may lose the last commits.
        case normal
    }

    /// Whether `path` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgres(_ path: String) -> Bool {
        path.hasPrefix("postgres://") || path.hasPrefix("postgresql://")
    }

    /// Whether the storage is a PostgreSQL database.
    public var isPostgres: Bool { Self.isPostgres(path) }

    public init(path: String, keyFile: String, journalCapacity: Int = 65_536, journalMessages: Bool = true, synchronous: Synchronous = .full) {
        self.path = path
        self.keyFile = keyFile
        self.journalCapacity = journalCapacity
        self.journalMessages = journalMessages
        self.synchronous = synchronous
    }
}

/// What a channel sends when an authorization or financial request it forwarded gets no answer.
public enum ReversalPolicy: String, Sendable, CaseIterable {
    /// A reversal request (0400, 1400).
    case request
    /// A reversal advice (0420, 1420).
    case advice
    /// Nothing: the originator is declined and the host is left as it is.
    case off
}

/// A routing rule file: where it came from, so a reload can read it again, and what it compiled to.
public struct RulesSource: Sendable {
    /// The path read, or nil for rules embedded in the configuration or the binary.
    public var path: String?
    /// The name diagnostics use.
    public var file: String
    public var snapshot: RoutingSnapshot

    public init(path: String?, file: String, snapshot: RoutingSnapshot) {
        self.path = path
        self.file = file
        self.snapshot = snapshot
    }
}

/// `host:port`.
public struct HostAndPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    /// 0 picks a free port (listeners and the admin endpoint only).
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (`[v6]:port` for IPv6), or nil.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// What travels inside the framing on a listener or channel.
public enum WireFormat: Sendable {
    /// ISO 8583 in a dialect, with the mapping that serves it.
    case iso8583(Dialect, ISO8583Mapping)
    /// ISO 20022 XML, one document per frame.
    case iso20022

    /// `iso87binary`, `iso20022`.
    public var name: String {
        switch self {
        case .iso8583(let dialect, _): dialect.name
        case .iso20022: "iso20022"
        }
    }
}

/// Where terminals or acquirers connect.
public struct ListenerConfiguration: Sendable {
    public var name: String
    public var address: HostAndPort
    public var framing: FrameFormat
    public var wire: WireFormat
    public var tls: TLSConfiguration?
    /// Connection limits and timeouts (its host and port are ``address``'s).
    public var options: ListenerOptions
    /// ISO 8583 fields that, with the MTI class and STAN, identify a request for duplicate
    /// detection: a request whose key is already in flight is refused as a duplicate.
    public var duplicateKeyFields: [Int]
    /// The key and format of the PIN blocks (DE 52) its terminals send; nil: not translated.
    public var pin: PINZoneConfiguration?

    public init(name: String, address: HostAndPort, framing: FrameFormat, wire: WireFormat, tls: TLSConfiguration? = nil,
                options: ListenerOptions = ListenerOptions(), duplicateKeyFields: [Int] = [32, 41, 42]) {
        self.name = name
        self.address = address
        self.framing = framing
        self.wire = wire
        self.tls = tls
        self.options = options
        self.duplicateKeyFields = duplicateKeyFields
    }
}

/// A host the switch forwards to: one or more addresses, tried in order.
public struct ChannelConfiguration: Sendable {
    /// The name routing rules use.
    public var name: String
    /// Channels sharing a group are alternatives for readiness: the switch is ready when every
    /// group has a link signed on. Defaults to the channel's name.
    public var group: String
    /// The host's addresses; each gets a link, and traffic uses the first usable one.
    public var addresses: [HostAndPort]
    public var framing: FrameFormat
    public var wire: WireFormat
    public var tls: TLSConfiguration?
    /// How long to wait for an answer before declining with a timeout.
    public var requestTimeout: Duration
    /// Requests in flight at most; beyond it the channel is skipped like a down one.
    public var maximumInFlight: Int
    /// Whether each link signs on (0800/0810) before it takes traffic.
    public var signOn: Bool
    /// The echo test interval on an idle or busy link (nil: no echo).
    public var echoInterval: Duration?
    /// Echoes in a row without an answer after which the link takes no traffic and is reopened.
    public var maximumMissedEchoes: Int
    public var connectTimeout: Duration
    /// Canonical fields this host's dialect has no element for that a translated request may lose
    /// (each drop is counted); any other such field declines the request. Empty by default.
    public var mayDrop: Set<ISO8583Mapping.Target> = []
    /// What is sent when a request gets no answer (needs storage; ISO 8583 channels).
    public var reversal: ReversalPolicy = .request
    /// The first wait before a store-and-forward message is sent again; it doubles up to the maximum.
    public var forwardRetry: Duration = .seconds(1)
    public var forwardRetryMaximum: Duration = .seconds(30)
    /// The key and format this host reads PIN blocks under; nil: DE 52 is carried as it came.
    public var pin: PINZoneConfiguration?
    /// The key store's MAC key for this link: every ISO 8583 message but network management is
    /// sent with its MAC (DE 64/128) and every answer must carry a good one. Nil: no MAC.
    public var macKey: String?
    /// Dynamic exchange of the channel's PIN key (0800, DE 70 161/162); nil: the key only changes
    /// in the key store, with a restart.
    public var keyExchange: KeyExchangeConfiguration?
    /// This channel's business day; nil: the switch's.
    public var businessDay: BusinessDayConfiguration?

    public init(name: String, group: String? = nil, addresses: [HostAndPort], framing: FrameFormat, wire: WireFormat,
                tls: TLSConfiguration? = nil, requestTimeout: Duration = .seconds(10), maximumInFlight: Int = 1024,
                signOn: Bool = true, echoInterval: Duration? = .seconds(30), maximumMissedEchoes: Int = 3,
                connectTimeout: Duration = .seconds(5)) {
        self.name = name
        self.group = group ?? name
        self.addresses = addresses
        self.framing = framing
        self.wire = wire
        self.tls = tls
        self.requestTimeout = requestTimeout
        self.maximumInFlight = maximumInFlight
        self.signOn = signOn
        self.echoInterval = echoInterval
        self.maximumMissedEchoes = maximumMissedEchoes
        self.connectTimeout = connectTimeout
    }
}

/// The software security module's key store: a file of keys wrapped under the master key, which
/// comes from `master-key-file` or the environment (`PAYSWITCH_MASTER_KEY`), never from here.
public struct SecurityConfiguration: Sendable, Equatable {
    public var keyStore: String
    public var masterKeyFile: String?

    public init(keyStore: String, masterKeyFile: String? = nil) {
        self.keyStore = keyStore
        self.masterKeyFile = masterKeyFile
    }
}

/// A PIN zone of a listener or a channel: the key store's key and the ISO 9564 format of its PIN
/// blocks. On a listener the key may be a DUKPT base derivation key: each terminal's key is then
/// derived from the KSN in `ksnField`.
public struct PINZoneConfiguration: Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var format: PINBlock.Format
    /// The data element holding the DUKPT KSN: 10 bytes, or 20 hexadecimal characters.
    public var ksnField: Int?

    public init(key: String, format: PINBlock.Format, ksnField: Int? = nil) {
        self.key = key
        self.format = format
        self.ksnField = ksnField
    }

    public var description: String { "\(key)/\(format.rawValue)" + (ksnField.map { "/ksn DE \($0)" } ?? "") }
}

/// Key exchange on a channel: the zone master key that wraps new PIN keys, where they travel, and
/// how often the switch changes the key itself.
public struct KeyExchangeConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// Which of the channel's keys changes.
    public enum Key: String, Sendable, CaseIterable {
        case pin, mac
    }

    public var zoneMasterKey: String
    public var key: Key = .pin
    /// How long answers MAC'd under a replaced MAC key still verify. Default 5 minutes.
    public var grace: Duration = .seconds(300)
    /// The data element carrying the wrapped key and its KCV. Default DE 48.
    public var field: Int
    /// How often the switch sends a new key (nil: only when the host asks, with 162).
    public var every: Duration?

    public init(zoneMasterKey: String, field: Int = 48, every: Duration? = nil) {
        self.zoneMasterKey = zoneMasterKey
        self.field = field
        self.every = every
    }

    public var description: String { "\(key) under \(zoneMasterKey) DE \(field) every \(every.map { "\($0)" } ?? "-") grace \(grace)" }
}

/// When the business day turns for a channel, and what the switch tells the host about it.
public struct BusinessDayConfiguration: Sendable, Equatable {
    public var day: BusinessDay
    /// Whether ISO 8583 requests go to the host with DE 15 set to their business date.
    public var settlementDate = true
    /// Whether each signed-on link is sent 0800 with DE 70 = 201 at cutover (ISO 8583:1987).
    public var cutoverMessage = true
    public var reversalBooking = ReversalBooking.original
    /// Whether each link is sent the ended date's totals (0520, 1520) after cutover.
    public var sendTotals = false

    public init(day: BusinessDay) { self.day = day }
}

/// The business date a reversal is booked to.
public enum ReversalBooking: String, Sendable, CaseIterable {
    /// The original's: its DE 15 unchanged (the usual network rule).
    case original
    /// The date when the reversal was made.
    case current
}
