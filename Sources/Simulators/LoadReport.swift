import Foundation
public import Histogram

/// The outcome of a load run: throughput, HDR latency, counts per response code and every kind
/// of failure, as text for a terminal or JSON for a script.
public struct LoadReport: Sendable {
    /// Request and answer counts of one connection, or of a run.
    public struct Counts: Sendable, Equatable, Codable {
        public var sent = 0
        /// Answers that match their request (MTI, STAN, RRN, amount; or the ISO 20022 identifications).
        public var matched = 0
        /// Answers to a request that do not match it.
        public var mismatched = 0
        /// Requests with no answer within the timeout.
        public var timedOut = 0
        /// Answers that came after their request had timed out.
        public var late = 0
        /// Requests in flight on a connection that closed.
        public var lostOnClose = 0
        /// Frames that could not be read as an answer.
        public var undecodable = 0
        /// Answers to no request this run sent.
        public var unexpected = 0
        /// Requests that could not be framed or sent.
        public var sendFailures = 0
        /// Connections the peer closed while requests were being sent.
        public var closedByPeer = 0

        /// Everything that is not a matched answer.
        public var failures: Int { mismatched + timedOut + late + lostOnClose + undecodable + unexpected + sendFailures }
    }

    public var connections = 0
    public var connectFailures = 0
    public var counts = Counts()
    /// From the first request to the last answer (or the end of sending, if later).
    public var seconds = 0.0
    public var sendingSeconds = 0.0
    /// Including connecting and draining.
    public var totalSeconds = 0.0
    public var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    public var codes: [ResponseCode: Int] = [:]
    /// The first few problems met (mismatches, undecodable answers, closes), for the reader.
    public var problems: [String] = []
    var lastAnswerAt: UInt64 = 0

    public init() {}

    mutating func add(_ counts: Counts, histogram: Histogram<UInt64>, codes: [ResponseCode: Int], problems: [String], lastAnswerAt: UInt64) {
        self.counts.add(counts)
        latency.add(histogram)
        for (code, count) in codes { self.codes[code, default: 0] += count }
        for problem in problems where self.problems.count < 10 { self.problems.append(problem) }
        self.lastAnswerAt = max(self.lastAnswerAt, lastAnswerAt)
    }

    /// Answers per second over ``seconds``.
    public var answersPerSecond: Double { Double(counts.matched + counts.mismatched) / max(seconds, 1e-9) }

    /// True when every request sent got its matching answer and every connection came up.
    public var isClean: Bool {
        counts.sent > 0 && connectFailures == 0 && counts.failures == 0 && counts.matched == counts.sent
    }

    /// Latency at a percentile, in microseconds.
    public func microseconds(atPercentile percentile: Double) -> Double {
        latency.totalCount == 0 ? 0 : Double(latency.valueAtPercentile(percentile)) / 1000
    }

    public var maxMicroseconds: Double { latency.totalCount == 0 ? 0 : Double(latency.max) / 1000 }

    /// The report for a terminal.
    public var text: String {
        var lines: [String] = []
        lines.append(String(format: "%@: %d sent, %d answered in %.2f s: %.0f TPS over %d connection(s)",
                            isClean ? "PASS" : "FAIL", counts.sent, counts.matched + counts.mismatched, seconds, answersPerSecond, connections))
        lines.append(String(format: "latency µs: p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f",
                            microseconds(atPercentile: 50), microseconds(atPercentile: 90), microseconds(atPercentile: 99),
                            microseconds(atPercentile: 99.9), maxMicroseconds))
        lines.append("matched \(counts.matched), mismatched \(counts.mismatched), timed out \(counts.timedOut), late \(counts.late), "
                     + "lost on close \(counts.lostOnClose), undecodable \(counts.undecodable), unexpected \(counts.unexpected), "
                     + "send failures \(counts.sendFailures), closed by peer \(counts.closedByPeer), connect failures \(connectFailures)")
        let codeList = codes.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        lines.append("response codes: " + (codeList.isEmpty ? "none" : codeList))
        for problem in problems { lines.append("  problem: " + problem) }
        return lines.joined(separator: "\n")
    }

    /// The report as one JSON object.
    public var json: String {
        struct Document: Encodable {
            var pass: Bool
            var connections: Int
            var connectFailures: Int
            var seconds: Double
            var answersPerSecond: Double
            var counts: Counts
            var latencyMicroseconds: [String: Double]
            var codes: [String: Int]
            var problems: [String]
        }
        let document = Document(
            pass: isClean, connections: connections, connectFailures: connectFailures, seconds: seconds,
            answersPerSecond: answersPerSecond.rounded(), counts: counts,
            latencyMicroseconds: ["p50": microseconds(atPercentile: 50), "p90": microseconds(atPercentile: 90),
                                  "p99": microseconds(atPercentile: 99), "p999": microseconds(atPercentile: 99.9), "max": maxMicroseconds],
            codes: Dictionary(uniqueKeysWithValues: codes.map { ($0.key.description, $0.value) }), problems: problems)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(document), as: UTF8.self)) ?? "{}"
    }
}

extension LoadReport.Counts: CounterSet {
    static var counterFields: [WritableKeyPath<Self, Int>] {
        [
            \.sent, \.matched, \.mismatched, \.timedOut, \.late, \.lostOnClose, \.undecodable, \.unexpected, \.sendFailures, \.closedByPeer,
        ]
    }
}
