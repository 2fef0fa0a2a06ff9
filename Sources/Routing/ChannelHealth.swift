public import PaymentModel
import Synchronization

/// When a channel counts as failing, and how it recovers.
public struct HealthPolicy: Sendable, Hashable {
    /// The sliding window of outcomes, and how many buckets it slides by.
    public var window: Duration = .seconds(30)
    public var buckets = 10
    /// A breaker opens when the window's failure rate is above this share (0...1) …
    public var failureRateThreshold = 0.5
    /// … and it holds more than this many technical failures (so three timeouts at 3 a.m. do not).
    public var minimumFailures = 5
    /// How long an open breaker refuses traffic before it lets probes through.
    public var openDuration: Duration = .seconds(30)
    /// How many probe transactions a half-open breaker lets through; that many successes close it.
    public var halfOpenProbes = 3
    /// Whether to order failover candidates by technical success rate in the window.
    public var orderBySuccessRate = false
    /// The share of transactions (0...1) that keep the static order, so a channel ranked low is
    /// still tried and can recover its rate.
    public var explorationShare = 0.05
    /// Outcomes a channel needs in the window before its success rate is used.
    public var minimumCallsForRate = 20
    /// Channel × merchant breakers kept at most. Merchant ids come from messages (DE 42), so a
    /// terminal sending random ones must not grow memory: past this, healthy breakers are dropped
    /// first, then the least recently used.
    public var maximumMerchantBreakers = 10_000

    public init() {}
}

/// The technical outcome of sending a message to a channel.
public enum ChannelOutcome: Sendable, Hashable {
    /// The host answered (approved, or anything that is not a technical failure).
    case success
    /// The host answered with a business decline (insufficient funds, do not honour …): the channel
    /// works, so this counts as a technical success and never as a failure.
    case businessDecline
    case timeout
    case connectionFailure
    /// The host answered with a system-error code (canonical 9xxx).
    case systemError

    /// The outcome a host's answer means, by the canonical code's range.
    public init(result: ResultCode) {
        switch result.category {
        case .systemError: self = .systemError
        case .declined: self = .businessDecline
        case .approved, .reversal, .network: self = .success
        }
    }

    public var isTechnicalFailure: Bool {
        switch self {
        case .timeout, .connectionFailure, .systemError: true
        case .success, .businessDecline: false
        }
    }
}

/// A circuit breaker's state.
public enum BreakerState: String, Sendable, Hashable {
    case closed
    case open
    case halfOpen = "half-open"
}

/// Per channel, and per channel × merchant, a sliding window of technical outcomes and a circuit
/// breaker (closed → open → half-open → closed).
///
/// Health is channel state shared by every connection, not transaction state: one lock guards it,
/// held only for a few counter updates. Time is passed in, so tests drive it.
public final class ChannelHealth: Sendable {
    public let policy: HealthPolicy
    private let origin: ContinuousClock.Instant
    private let breakers = Mutex(Table())

    /// The breakers, with the count of channel × merchant ones (the bounded kind).
    struct Table {
        var entries: [Key: Breaker] = [:]
        var merchantCount = 0

        subscript(key: Key) -> Breaker? {
            get { entries[key] }
            _modify { yield &entries[key] }
        }
    }

    struct Key: Hashable {
        let channel: String
        let merchant: String?
    }

    /// - Parameter origin: The instant bucket times count from; any instant before every `now` passed.
    public init(policy: HealthPolicy = HealthPolicy(), origin: ContinuousClock.Instant = .now) {
        self.policy = policy
        self.origin = origin
    }

    /// Records the outcome of one exchange with `channel` for a merchant (or none).
    public func record(_ outcome: ChannelOutcome, channel: String, merchant: String? = nil, at now: ContinuousClock.Instant) {
        let tick = ticks(now)
        breakers.withLock { table in
            for key in keys(channel, merchant) {
                if table.entries[key] == nil && key.merchant != nil {
                    if table.merchantCount >= policy.maximumMerchantBreakers { evictMerchantBreakers(&table, tick: tick) }
                    table.merchantCount += 1
                }
                table.entries[key, default: Breaker(policy.buckets)].record(outcome, tick: tick, policy: policy, ticksPerOpen: openTicks)
            }
        }
    }

    /// Channel × merchant breakers held now (at most ``HealthPolicy/maximumMerchantBreakers``).
    public var merchantBreakerCount: Int { breakers.withLock { $0.merchantCount } }

    /// Makes room when the bound is reached. Closed breakers without failures in the window carry
    /// nothing and all go at once (so a flood of new ids costs one pass per bound's worth); if that
    /// frees less than a tenth, the least recently used go next, open ones last.
    private func evictMerchantBreakers(_ table: inout Table, tick: Int64) {
        let target = policy.maximumMerchantBreakers - max(1, policy.maximumMerchantBreakers / 10)
        var others: [(key: Key, rank: Int, lastUsed: Int64)] = []
        for (key, breaker) in table.entries where key.merchant != nil {
            let state = breaker.currentState(tick: tick, ticksPerOpen: openTicks)
            if state == .closed && breaker.window.totals(tick: tick).failures == 0 {
                table.entries[key] = nil
                table.merchantCount -= 1
            } else {
                others.append((key, state == .closed ? 0 : 1, breaker.lastUsed))
            }
        }
        guard table.merchantCount > target else { return }
        others.sort { ($0.rank, $0.lastUsed) < ($1.rank, $1.lastUsed) }
        for candidate in others.prefix(table.merchantCount - target) {
            table.entries[candidate.key] = nil
            table.merchantCount -= 1
        }
    }

    /// Whether a message for `merchant` may go to `channel` now. A half-open breaker hands out its
    /// probe quota here, so ask only for a channel you will put in the candidate list.
    public func admit(channel: String, merchant: String? = nil, at now: ContinuousClock.Instant) -> Admission {
        let tick = ticks(now)
        return breakers.withLock { breakers in
            // Check both breakers before taking a probe from either, so a refusal uses no quota.
            let keys = keys(channel, merchant)
            for key in keys {
                if let refusal = breakers[key]?.refusal(tick: tick, policy: policy, ticksPerOpen: openTicks) {
                    return key.merchant == nil ? refusal : .refused(.merchantBreaker(refusal.reason.state))
                }
            }
            var probe = false
            for key in keys where breakers[key]?.takeProbe(tick: tick, ticksPerOpen: openTicks) == true { probe = true }
            return probe ? .probe : .allowed
        }
    }

    /// The breaker state of a channel (and merchant), for traces and operators.
    public func state(channel: String, merchant: String? = nil, at now: ContinuousClock.Instant) -> BreakerState {
        let tick = ticks(now)
        return breakers.withLock { $0[Key(channel: channel, merchant: merchant)]?.currentState(tick: tick, ticksPerOpen: openTicks) ?? .closed }
    }

    /// The channel's technical success rate in the window, or nil with too few outcomes.
    public func successRate(channel: String, at now: ContinuousClock.Instant) -> Double? {
        let tick = ticks(now)
        return breakers.withLock { breakers in
            guard let counts = breakers[Key(channel: channel, merchant: nil)]?.window.totals(tick: tick),
                  counts.calls >= policy.minimumCallsForRate else { return nil }
            return Double(counts.calls - counts.failures) / Double(counts.calls)
        }
    }

    /// What ``admit(channel:merchant:at:)`` decided.
    public enum Admission: Sendable, Hashable {
        case allowed
        /// Allowed as one of a half-open breaker's probes.
        case probe
        case refused(Reason)

        public enum Reason: Sendable, Hashable {
            /// The channel's breaker is open, or half-open with its probes in flight.
            case channelBreaker(BreakerState)
            /// The breaker for this channel and merchant is.
            case merchantBreaker(BreakerState)

            var state: BreakerState {
                switch self {
                case .channelBreaker(let state), .merchantBreaker(let state): state
                }
            }
        }

        var reason: Reason {
            if case .refused(let reason) = self { return reason }
            return .channelBreaker(.closed)
        }
    }

    private func keys(_ channel: String, _ merchant: String?) -> [Key] {
        merchant.map { [Key(channel: channel, merchant: nil), Key(channel: channel, merchant: $0)] } ?? [Key(channel: channel, merchant: nil)]
    }

    /// Time as whole buckets since the origin.
    private func ticks(_ now: ContinuousClock.Instant) -> Int64 {
        let elapsed = now - origin
        return max(0, Int64(elapsed / bucketLength))
    }

    private var bucketLength: Duration { policy.window / max(1, policy.buckets) }
    private var openTicks: Int64 { max(1, Int64((policy.openDuration / bucketLength).rounded(.up))) }
}

/// One breaker and its window.
struct Breaker {
    var window: SlidingWindow
    var state = BreakerState.closed
    /// When the breaker opened (open) or went half-open (half-open), in ticks.
    var since: Int64 = 0
    var probesIssued = 0
    var probeSuccesses = 0
    /// The last tick an outcome was recorded: what eviction orders by.
    var lastUsed: Int64 = 0

    init(_ buckets: Int) { window = SlidingWindow(buckets: buckets) }

    /// Moves an open breaker whose wait is over to half-open.
    mutating func advance(tick: Int64, ticksPerOpen: Int64) {
        if state == .open && tick - since >= ticksPerOpen {
            state = .halfOpen
            since = tick
            probesIssued = 0
            probeSuccesses = 0
        }
        // Probes that never reported (their message went elsewhere) are re-issued after a wait.
        if state == .halfOpen && probesIssued > probeSuccesses && tick - since >= ticksPerOpen {
            since = tick
            probesIssued = probeSuccesses
        }
    }

    func currentState(tick: Int64, ticksPerOpen: Int64) -> BreakerState {
        var copy = self
        copy.advance(tick: tick, ticksPerOpen: ticksPerOpen)
        return copy.state
    }

    mutating func refusal(tick: Int64, policy: HealthPolicy, ticksPerOpen: Int64) -> ChannelHealth.Admission? {
        advance(tick: tick, ticksPerOpen: ticksPerOpen)
        switch state {
        case .closed: return nil
        case .open: return .refused(.channelBreaker(.open))
        case .halfOpen: return probesIssued < policy.halfOpenProbes ? nil : .refused(.channelBreaker(.halfOpen))
        }
    }

    mutating func takeProbe(tick: Int64, ticksPerOpen: Int64) -> Bool {
        guard state == .halfOpen else { return false }
        probesIssued += 1
        return true
    }

    mutating func record(_ outcome: ChannelOutcome, tick: Int64, policy: HealthPolicy, ticksPerOpen: Int64) {
        lastUsed = tick
        advance(tick: tick, ticksPerOpen: ticksPerOpen)
        let failed = outcome.isTechnicalFailure
        switch state {
        case .closed:
            window.add(failed: failed, tick: tick)
            let totals = window.totals(tick: tick)
            if failed && totals.failures > policy.minimumFailures
                && Double(totals.failures) > policy.failureRateThreshold * Double(totals.calls) {
                state = .open
                since = tick
            }
        case .open:
            break  // late answers to messages sent before it opened change nothing
        case .halfOpen:
            if failed {
                state = .open
                since = tick
            } else {
                probeSuccesses += 1
                if probeSuccesses >= policy.halfOpenProbes {
                    state = .closed
                    window = SlidingWindow(buckets: window.calls.count)
                }
            }
        }
    }
}

/// Calls and failures in a ring of time buckets; a bucket is reused once it falls out of the window.
struct SlidingWindow {
    var epochs: [Int64]
    var calls: [Int]
    var failures: [Int]

    init(buckets: Int) {
        epochs = [Int64](repeating: -1, count: max(1, buckets))
        calls = [Int](repeating: 0, count: max(1, buckets))
        failures = [Int](repeating: 0, count: max(1, buckets))
    }

    mutating func add(failed: Bool, tick: Int64) {
        let slot = Int(tick % Int64(epochs.count))
        if epochs[slot] != tick {
            epochs[slot] = tick
            calls[slot] = 0
            failures[slot] = 0
        }
        calls[slot] += 1
        if failed { failures[slot] += 1 }
    }

    func totals(tick: Int64) -> (calls: Int, failures: Int) {
        var total = (calls: 0, failures: 0)
        for slot in epochs.indices where epochs[slot] > tick - Int64(epochs.count) && epochs[slot] <= tick {
            total.calls += calls[slot]
            total.failures += failures[slot]
        }
        return total
    }
}
