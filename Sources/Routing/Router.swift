public import PaymentModel
import Synchronization

/// The switch's router: the active rule snapshot, swapped atomically, and channel health applied
/// after the static decision.
public final class Router: Sendable {
    private let active: Mutex<RoutingSnapshot>
    public let health: ChannelHealth

    public init(_ snapshot: RoutingSnapshot, health: ChannelHealth = ChannelHealth()) {
        active = Mutex(snapshot)
        self.health = health
    }

    /// The snapshot decisions use now.
    public var snapshot: RoutingSnapshot { active.withLock { $0 } }

    /// Makes `snapshot` the active one; decisions under way finish on the one they started with.
    public func activate(_ snapshot: RoutingSnapshot) {
        active.withLock { $0 = snapshot }
    }

    /// Reads, checks and compiles a rule file, and activates it only when it has no errors: a file
    /// that fails validation leaves the old snapshot serving.
    @discardableResult
    public func load(yaml: String, file: String, readFile: (String) -> String? = { _ in nil }) -> RuleFileCheck {
        let (snapshot, check) = RoutingSnapshot.compile(yaml: yaml, file: file, readFile: readFile)
        if let snapshot { activate(snapshot) }
        return check
    }

    /// Routes a message: the static decision, then channels whose breakers refuse are dropped and,
    /// when the policy says so, the rest ordered by success rate.
    public func route(_ message: PaymentMessage, _ context: RoutingContext, at now: ContinuousClock.Instant = .now) -> RouteResult {
        let snapshot = self.snapshot
        let decision = snapshot.decide(message, context)
        let action = snapshot.action(for: decision)
        var result = RouteResult(
            version: snapshot.version, decision: decision, ruleID: snapshot.ruleID(for: decision), candidates: [], dropped: [])
        if case .decline(let code) = action {
            result.decline = code
            return result
        }
        var ordered = snapshot.channels(for: decision)
        let policy = health.policy
        if policy.orderBySuccessRate {
            // The split's chosen arm stays first: a split is a business decision; its fallbacks are not.
            let fixed = if case .split = action { 1 } else { 0 }
            let hash = TransactionKey.hash(message)
            let explore = Double((hash >> 40) % 10_000) < policy.explorationShare * 10_000
            if !explore && ordered.count > fixed + 1 {
                let rates = ordered.map { health.successRate(channel: $0, at: now) ?? 1 }
                let sorted = ordered.indices.dropFirst(fixed).sorted { (rates[$0], -$0) > (rates[$1], -$1) }
                ordered = Array(ordered.prefix(fixed)) + sorted.map { ordered[$0] }
            }
        }
        let merchant = message.merchantID
        // The admitted channels are kept in place, in order: no second array per message.
        var kept = 0
        for index in ordered.indices {
            let channel = ordered[index]
            switch health.admit(channel: channel, merchant: merchant, at: now) {
            case .allowed:
                ordered[kept] = channel
                kept += 1
            case .probe:
                ordered[kept] = channel
                kept += 1
                result.probes.append(channel)
            case .refused(let reason): result.dropped.append(RouteResult.Dropped(channel: channel, reason: reason))
            }
        }
        ordered.removeLast(ordered.count - kept)
        result.candidates = ordered
        if result.candidates.isEmpty { result.decline = .issuerUnavailable }
        return result
    }
}

/// Where a message goes: the candidate channels in order, and why others were dropped.
public struct RouteResult: Sendable {
    /// The version (content hash) of the snapshot that decided.
    public let version: String
    public let decision: Decision
    /// The id of the rule that decided, or `default`.
    public let ruleID: String
    /// Channels to try, first one first.
    public var candidates: [String]
    /// Candidates admitted as a half-open breaker's probe.
    public var probes: [String] = []
    /// Channels the static decision named that health removed.
    public var dropped: [Dropped]
    /// Set when the message is declined: by the rule, or with 9107 when health dropped every channel.
    public var decline: ResultCode?

    public struct Dropped: Sendable, Hashable {
        public let channel: String
        public let reason: ChannelHealth.Admission.Reason
    }
}
