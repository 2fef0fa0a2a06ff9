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
    /// The bucket length in nanoseconds, and an open breaker's wait in buckets: fixed by the
    /// policy, so the per-message path does integer arithmetic only.
    private let bucketNanoseconds: Int64
    private let openTicks: Int64
    private let breakers = Mutex(Table())

    /// The breakers: an index from key to slot, and the slots. Breakers are reached by slot (array
    /// addressors update them in place) rather than through the dictionary's mutating subscript,
    /// whose coroutine allocates on every call.
    struct Table {
        var slots: [Key: Int] = [:]
        var breakers: [Breaker] = []
        /// Slots of evicted breakers, reused first.
        var freeSlots: [Int] = []
        /// Channel × merchant breakers held (the bounded kind).
        var merchantCount = 0

        /// The slot of `key`, made with a fresh breaker when there is none.
        mutating func slot(_ key: Key, buckets: Int) -> Int {
            if let slot = slots[key] { return slot }
            let slot: Int
            if let free = freeSlots.popLast() {
                slot = free
                breakers[slot] = Breaker(buckets)
            } else {
                slot = breakers.count
                breakers.append(Breaker(buckets))
            }
            slots[key] = slot
            if key.merchant != nil { merchantCount += 1 }
            return slot
        }

        mutating func remove(_ key: Key) {
            guard let slot = slots.removeValue(forKey: key) else { return }
            // The slot's arrays go now; the slot itself is reused by the next new breaker.
            breakers[slot] = Breaker(1)
            freeSlots.append(slot)
            if key.merchant != nil { merchantCount -= 1 }
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
        let bucketLength = policy.window / max(1, policy.buckets)
        bucketNanoseconds = max(1, ChannelHealth.nanoseconds(bucketLength))
        openTicks = max(1, Int64((policy.openDuration / bucketLength).rounded(.up)))
    }

    /// Records the outcome of one exchange with `channel` for a merchant (or none).
    public func record(_ outcome: ChannelOutcome, channel: String, merchant: String? = nil, at now: ContinuousClock.Instant) {
        let tick = ticks(now)
        breakers.withLock { table in
            record(outcome, Key(channel: channel, merchant: nil), tick: tick, in: &table)
            if let merchant { record(outcome, Key(channel: channel, merchant: merchant), tick: tick, in: &table) }
        }
    }

    private func record(_ outcome: ChannelOutcome, _ key: Key, tick: Int64, in table: inout Table) {
        if key.merchant != nil && table.slots[key] == nil && table.merchantCount >= policy.maximumMerchantBreakers {
            evictMerchantBreakers(&table, tick: tick)
        }
        let slot = table.slot(key, buckets: policy.buckets)
        table.breakers[slot].record(outcome, tick: tick, policy: policy, ticksPerOpen: openTicks)
    }

    /// Channel × merchant breakers held now (at most ``HealthPolicy/maximumMerchantBreakers``).
    public var merchantBreakerCount: Int { breakers.withLock { $0.merchantCount } }

    /// Makes room when the bound is reached. Closed breakers without failures in the window carry
    /// nothing and all go at once (so a flood of new ids costs one pass per bound's worth); if that
    /// frees less than a tenth, the least recently used go next, open ones last.
    private func evictMerchantBreakers(_ table: inout Table, tick: Int64) {
        let target = policy.maximumMerchantBreakers - max(1, policy.maximumMerchantBreakers / 10)
        var idle: [Key] = []
        var others: [(key: Key, rank: Int, lastUsed: Int64)] = []
        for (key, slot) in table.slots where key.merchant != nil {
            let breaker = table.breakers[slot]
            let state = breaker.currentState(tick: tick, ticksPerOpen: openTicks)
            if state == .closed && breaker.window.totals(tick: tick).failures == 0 {
                idle.append(key)
            } else {
                others.append((key, state == .closed ? 0 : 1, breaker.lastUsed))
            }
        }
        for key in idle { table.remove(key) }
        guard table.merchantCount > target else { return }
        others.sort { ($0.rank, $0.lastUsed) < ($1.rank, $1.lastUsed) }
        for candidate in others.prefix(table.merchantCount - target) { table.remove(candidate.key) }
    }

    /// Whether a message for `merchant` may go to `channel` now. A half-open breaker hands out its
    /// probe quota here, so ask only for a channel you will put in the candidate list.
    public func admit(channel: String, merchant: String? = nil, at now: ContinuousClock.Instant) -> Admission {
        let tick = ticks(now)
        return breakers.withLock { table in
            let channelSlot = table.slots[Key(channel: channel, merchant: nil)]
            let merchantSlot = merchant.flatMap { table.slots[Key(channel: channel, merchant: $0)] }
            // Check both breakers before taking a probe from either, so a refusal uses no quota.
            if let channelSlot, let refusal = table.breakers[channelSlot].refusal(tick: tick, policy: policy, ticksPerOpen: openTicks) {
                return refusal
            }
            if let merchantSlot, let refusal = table.breakers[merchantSlot].refusal(tick: tick, policy: policy, ticksPerOpen: openTicks) {
                return .refused(.merchantBreaker(refusal.reason.state))
            }
            var probe = false
            if let channelSlot, table.breakers[channelSlot].takeProbe(tick: tick, ticksPerOpen: openTicks) { probe = true }
            if let merchantSlot, table.breakers[merchantSlot].takeProbe(tick: tick, ticksPerOpen: openTicks) { probe = true }
            return probe ? .probe : .allowed
        }
    }

    /// The breaker state of a channel (and merchant), for traces and operators.
    public func state(channel: String, merchant: String? = nil, at now: ContinuousClock.Instant) -> BreakerState {
        let tick = ticks(now)
        return breakers.withLock { table in
            guard let slot = table.slots[Key(channel: channel, merchant: merchant)] else { return .closed }
            return table.breakers[slot].currentState(tick: tick, ticksPerOpen: openTicks)
        }
    }

    /// The channel's technical success rate in the window, or nil with too few outcomes.
    public func successRate(channel: String, at now: ContinuousClock.Instant) -> Double? {
        let tick = ticks(now)
        return breakers.withLock { table in
            guard let slot = table.slots[Key(channel: channel, merchant: nil)] else { return nil }
            let counts = table.breakers[slot].window.totals(tick: tick)
            guard counts.calls >= policy.minimumCallsForRate else { return nil }
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

    /// Time as whole buckets since the origin.
    private func ticks(_ now: ContinuousClock.Instant) -> Int64 {
        max(0, ChannelHealth.nanoseconds(now - origin) / bucketNanoseconds)
    }

    /// A duration in nanoseconds with integer arithmetic (Duration's own division goes through 128 bits).
    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
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
