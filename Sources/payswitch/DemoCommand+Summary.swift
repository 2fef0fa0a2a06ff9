import AdminEndpoint
import Foundation
import PaymentModel
import Routing
import Simulators
import Switch

/// The demo's closing table: the switch's own answer counters (`payswitch_answers_total`, what
/// `/metrics` serves) by listener, routing rule, channel and canonical result code.
enum DemoSummary {
    struct Row: Equatable {
        var listener: String
        var rule: String
        var channel: String
        var result: String
        var count: Int
        var note = ""
    }

    /// One row per label set, in configuration order: listeners, then rules as written (the
    /// default last), channels, result codes; each with what it shows.
    static func rows(_ samples: [MetricSample], configuration: SwitchConfiguration) -> [Row] {
        let ruleSet = configuration.rules.snapshot.ruleSet
        let listeners = configuration.listeners.map(\.name)
        let rules = ruleSet.rules.map(\.id) + ["default"]
        let channels = ["-"] + configuration.channels.map(\.name)
        func rank(_ list: [String], _ value: String) -> Int { list.firstIndex(of: value) ?? list.count }
        var rows = samples.compactMap { sample -> Row? in
            guard let listener = sample.labels["listener"], let rule = sample.labels["rule"], let channel = sample.labels["channel"],
                  let result = sample.labels["result"], let count = sample.count, count > 0 else { return nil }
            var row = Row(listener: listener, rule: rule, channel: channel, result: result, count: count)
            row.note = note(row, ruleSet: ruleSet, configuration: configuration)
            return row
        }
        rows.sort {
            (rank(listeners, $0.listener), rank(rules, $0.rule), rank(channels, $0.channel), $0.result)
                < (rank(listeners, $1.listener), rank(rules, $1.rule), rank(channels, $1.channel), $1.result)
        }
        return rows
    }

    /// What a row shows: a decline by the switch or the issuer, a failover, a split arm, a timeout,
    /// a translation between dialects, mutual TLS.
    static func note(_ row: Row, ruleSet: RuleSet, configuration: SwitchConfiguration) -> String {
        let action = row.rule == "default" ? ruleSet.defaultAction : ruleSet.rules.first { $0.id == row.rule }?.action
        let code = Int(row.result).flatMap(ResultCode.init)
        guard let channel = configuration.channels.first(where: { $0.name == row.channel }) else {
            if case .decline? = action { return "declined by the switch's rule" }
            return code == .issuerUnavailable ? "no channel could take it" : ""
        }
        var parts: [String] = []
        switch action {
        case .route(let order)? where order.first.map({ ruleSet.channels[$0] }) != row.channel:
            parts.append("failover: \(order.first.map { ruleSet.channels[$0] } ?? "?") skipped")
        case .split(let arms)?:
            if let arm = arms.first(where: { ruleSet.channels[$0.channel] == row.channel }), code?.category != .systemError {
                parts.append("split arm, weight \(arm.weight) of \(arms.reduce(0) { $0 + $1.weight })")
            }
        default:
            break
        }
        if code == .issuerTimeout {
            parts.append("no answer in \(channel.requestTimeout.wholeMilliseconds) ms: counts against the breaker")
        } else if code?.category == .declined {
            parts.append("declined by the issuer")
        } else {
            let listener = configuration.listeners.first { $0.name == row.listener }
            if case .iso8583? = listener?.wire, case .iso8583 = channel.wire, listener?.wire.name != channel.wire.name {
                parts.append("translated to \(channel.wire.name) and back")
            }
            if channel.tls != nil { parts.append("over mutual TLS") }
        }
        return parts.joined(separator: "; ")
    }

    /// The rows as an aligned text table, each result code with its name.
    static func table(_ rows: [Row], results: ResultCodeTable = .shipped) -> String {
        let header = ["listener", "rule", "channel", "result", "answers", "meaning"]
        let cells = rows.map { row -> [String] in
            let name = Int(row.result).flatMap(ResultCode.init).flatMap { results.row($0)?.name } ?? "?"
            return [row.listener, row.rule, row.channel, row.result, String(row.count), name + (row.note.isEmpty ? "" : " (" + row.note + ")")]
        }
        let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        func line(_ values: [String]) -> String {
            values.enumerated().map { column, value in
                // Counts right-aligned, the last column unpadded.
                if column == 4 { return String(repeating: " ", count: widths[column] - value.count) + value }
                return column == values.count - 1 ? value : value.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header)] + cells.map(line)).joined(separator: "\n")
    }

    /// A load generator's counts in one line: every request must have had its matching answer.
    static func load(_ name: String, _ report: LoadReport) -> String {
        let counts = report.counts
        let lost = counts.sent - counts.matched
        return "\(name): \(counts.sent) sent, \(counts.matched) answered, \(lost) lost"
            + [("mismatched", counts.mismatched), ("timed out", counts.timedOut), ("late", counts.late),
               ("lost on close", counts.lostOnClose), ("undecodable", counts.undecodable), ("unexpected", counts.unexpected),
               ("not sent", counts.sendFailures)].filter { $0.1 > 0 }.map { ", \($0.1) \($0.0)" }.joined()
            + (report.connectFailures > 0 ? ", \(report.connectFailures) connection(s) failed" : "")
            + String(format: " (%.0f/s, p99 %.1f ms)", report.answersPerSecond, report.microseconds(atPercentile: 99) / 1000)
    }
}

extension Duration {
    /// Whole milliseconds.
    var wholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
