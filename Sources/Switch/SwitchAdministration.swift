/// What the admin endpoint may ask of a running switch: state for operators, readiness, reload.
///
/// The endpoint is off the data path: it reads reports the switch builds on request and never
/// touches a connection or an in-flight transaction.
public protocol SwitchAdministration: Sendable {
    /// Each configured channel's state now, in configuration order.
    func channelReports() -> [ChannelReport]
    /// Whether the switch takes traffic: every channel group (channels sharing a `group`) has at
    /// least one link signed on.
    var isReady: Bool { get }
    /// Re-reads the routing rules and channels, validates them and swaps them in atomically; a file
    /// with errors is refused and the running set keeps serving.
    func reload() -> ReloadOutcome
    /// The cluster this node belongs to, as last read; nil when the switch runs alone.
    func clusterReport() -> ClusterReport?
}

/// One channel as operators see it.
public struct ChannelReport: Sendable, Hashable, Codable {
    /// The channel's name in the configuration and the rules.
    public var name: String
    /// The breaker: `closed`, `open` or `half-open`.
    public var breaker: String
    /// Requests sent and not yet answered or timed out.
    public var inFlight: Int
    /// The most requests the channel may have in flight.
    public var maximumInFlight: Int
    /// The technical success rate in the health window (0...1), or nil with too few outcomes.
    public var successRate: Double?
    /// The links to the host's addresses, in the order they are tried.
    public var links: [LinkReport]

    public init(name: String, breaker: String, inFlight: Int, maximumInFlight: Int, successRate: Double?, links: [LinkReport]) {
        self.name = name
        self.breaker = breaker
        self.inFlight = inFlight
        self.maximumInFlight = maximumInFlight
        self.successRate = successRate
        self.links = links
    }
}

/// One link of a channel: a connection to one of the host's addresses.
public struct LinkReport: Sendable, Hashable, Codable {
    /// `host:port`.
    public var address: String
    /// `down`, `connecting`, `connected` (not yet signed on), `signed-on`.
    public var state: String
    /// Echo tests sent without an answer since the last one answered.
    public var missedEchoes: Int

    public init(address: String, state: String, missedEchoes: Int) {
        self.address = address
        self.state = state
        self.missedEchoes = missedEchoes
    }
}

/// What a reload did.
public struct ReloadOutcome: Sendable, Hashable, Codable {
    /// Whether the new rules and channels now serve.
    public var accepted: Bool
    /// The version (content hash) of the rules serving after the reload.
    public var rulesVersion: String
    /// Why the reload was refused, each as `file:line:column: message`; empty when accepted.
    public var problems: [String]

    public init(accepted: Bool, rulesVersion: String, problems: [String]) {
        self.accepted = accepted
        self.rulesVersion = rulesVersion
        self.problems = problems
    }
}
