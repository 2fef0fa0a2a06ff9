import Metrics
import PaymentModel
import Synchronization

/// The switch's metrics, through swift-metrics (the admin endpoint exports them to Prometheus).
///
/// Metric objects are made once per label set and kept: making one goes through the factory's
/// lock and registry, which is too slow to do per message.
final class SwitchMetrics: Sendable {
    private struct AnswerKey: Hashable {
        let listener: String
        let channel: String
        let rule: String
        let result: Int
    }

    private let answers = Mutex<[AnswerKey: Counter]>([:])
    private let simple = Mutex<[String: Counter]>([:])
    private let gauges = Mutex<[String: Gauge]>([:])
    private let storageWrites = Timer(label: "payswitch_storage_write_seconds", preferredDisplayUnit: .seconds)
    private let claims = Timer(label: "payswitch_cluster_claim_seconds", preferredDisplayUnit: .seconds)
    private let journalRecords = Counter(label: "payswitch_journal_records_total")
    private let storageFailures = Counter(label: "payswitch_storage_failures_total")

    /// The counter of requests read on a listener: made once, kept by the listener's context, so
    /// counting a request takes no lock and no lookup.
    func requestCounter(listener: String) -> Counter {
        Counter(label: "payswitch_requests_total", dimensions: [("listener", listener)])
    }

    /// An answer sent to an originator, by where it went and how it ended (canonical result code).
    func answer(listener: String, channel: String, rule: String, result: ResultCode) {
        let key = AnswerKey(listener: listener, channel: channel, rule: rule, result: result.value)
        let counter = answers.withLock { table in
            if let counter = table[key] { return counter }
            let counter = Counter(label: "payswitch_answers_total", dimensions: [
                ("listener", listener), ("channel", channel), ("rule", rule), ("result", result.description),
            ])
            table[key] = counter
            return counter
        }
        counter.increment()
    }

    /// The timer of a host's answer times: made once, kept by the channel.
    func latencyTimer(channel: String) -> Timer {
        Timer(label: "payswitch_channel_latency_seconds", dimensions: [("channel", channel)], preferredDisplayUnit: .seconds)
    }

    func undecodableRequest(listener: String) { count("payswitch_undecodable_requests_total", "listener", listener) }
    /// A request's wait for its cluster claim, queueing included.
    func claimed(nanoseconds: UInt64) { claims.recordNanoseconds(Int64(clamping: nanoseconds)) }
    func duplicate(listener: String) { count("payswitch_duplicates_total", "listener", listener) }
    func unmatchedAnswer(channel: String) { count("payswitch_unmatched_answers_total", "channel", channel) }
    func hostUndecodable(channel: String) { count("payswitch_undecodable_answers_total", "channel", channel) }
    func droppedField(channel: String, field: String) {
        Counter(label: "payswitch_dropped_fields_total", dimensions: [("channel", channel), ("field", field)]).increment()
    }
    /// A PIN block (or MAC) refused: the request was answered with a security violation.
    func securityViolation(channel: String, kind: String) {
        Counter(label: "payswitch_security_violations_total", dimensions: [("channel", channel), ("kind", kind)]).increment()
    }
    func reload(accepted: Bool) { count("payswitch_reloads_total", "outcome", accepted ? "accepted" : "refused") }

    /// A storage batch written: how long it took and how many journal records it held.
    func journalWrite(nanoseconds: UInt64, records: Int) {
        storageWrites.recordNanoseconds(Int64(clamping: nanoseconds))
        journalRecords.increment(by: Int64(records))
    }

    func storageFailure() { storageFailures.increment() }

    /// A request answered with a system error because the journal queue was full.
    func shed(listener: String) { count("payswitch_requests_shed_total", "listener", listener) }

    /// A store-and-forward item stored, sent (each attempt) or acknowledged.
    func forward(channel: String, kind: ForwardItem.Kind, event: String) {
        counter(in: simple, key: "forward\u{0}\(channel)\u{0}\(kind.rawValue)\u{0}\(event)") {
            Counter(label: "payswitch_forwards_total", dimensions: [("channel", channel), ("kind", kind.rawValue), ("event", event)])
        }.increment()
    }

    /// Store-and-forward items pending on a channel and the age of the oldest, sampled.
    func forwardQueue(channel: String, depth: Int, oldestSeconds: Double) {
        gauge("payswitch_forward_queue_depth", [("channel", channel)]).record(depth)
        gauge("payswitch_forward_queue_age_seconds", [("channel", channel)]).record(oldestSeconds)
    }

    /// A host's reconciliation request answered, in balance or not.
    func reconciliation(channel: String, inBalance: Bool) {
        Counter(label: "payswitch_reconciliations_total", dimensions: [("channel", channel), ("outcome", inBalance ? "in-balance" : "out-of-balance")])
            .increment()
    }

    /// A channel's running totals for a business date (``DayTotals``).
    func day(channel: String, date: String, _ running: DayTotals.Running) {
        let dimensions = [("channel", channel), ("date", date)]
        gauge("payswitch_day_approved", dimensions).record(running.approved)
        gauge("payswitch_day_approved_amount", dimensions).record(running.approvedAmount)
        gauge("payswitch_day_reversals", dimensions).record(running.reversals)
        gauge("payswitch_day_reversals_amount", dimensions).record(running.reversalsAmount)
        gauge("payswitch_day_standing_amount", dimensions).record(running.standingAmount)
    }

    /// 1 while a channel's oldest reversal or advice has waited for its host's answer longer than
    /// the alarm bound, else 0.
    func forwardOverdue(channel: String, _ overdue: Bool) { gauge("payswitch_forward_overdue", [("channel", channel)]).record(overdue ? 1 : 0) }

    /// Journal records waiting to be written (places reserved), sampled.
    func journalDepth(_ depth: Int) { gauge("payswitch_journal_queue_depth", []).record(depth) }

    /// 1 when a link takes traffic, else 0.
    func linkState(channel: String, address: String, up: Bool) {
        gauge("payswitch_link_up", [("channel", channel), ("address", address)]).record(up ? 1 : 0)
    }

    /// Requests in flight on a channel, sampled.
    func inFlight(channel: String, count: Int) {
        gauge("payswitch_in_flight", [("channel", channel)]).record(count)
    }

    /// 0 closed, 1 half-open, 2 open, sampled.
    func breaker(channel: String, state: Int) {
        gauge("payswitch_breaker_state", [("channel", channel)]).record(state)
    }

    private func count(_ label: String, _ dimension: String, _ value: String) {
        counter(in: simple, key: label + "\u{0}" + value) { Counter(label: label, dimensions: [(dimension, value)]) }.increment()
    }

    private func counter(in table: borrowing Mutex<[String: Counter]>, key: String, make: () -> Counter) -> Counter {
        table.withLock { table in
            if let counter = table[key] { return counter }
            let counter = make()
            table[key] = counter
            return counter
        }
    }

    private func gauge(_ label: String, _ dimensions: [(String, String)]) -> Gauge {
        let key = label + dimensions.map { "\u{0}" + $0.1 }.joined()
        return gauges.withLock { table in
            if let gauge = table[key] { return gauge }
            let gauge = Gauge(label: label, dimensions: dimensions)
            table[key] = gauge
            return gauge
        }
    }
}
