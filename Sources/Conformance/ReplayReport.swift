import Foundation
import ISO20022

/// The outcomes of a replay, as a table for people and as JUnit XML for CI.
public struct ReplayReport: Sendable {
    public var outcomes: [SessionOutcome]

    public init(outcomes: [SessionOutcome]) { self.outcomes = outcomes }

    public var passed: Bool { outcomes.allSatisfy(\.passed) }
    public var failedCount: Int { outcomes.filter { !$0.passed }.count }

    /// One line per session (PASS or FAIL, steps, time), each failure's differences below it, and a total.
    public func table() -> String {
        let width = min(60, outcomes.map { $0.capture.count + $0.session.count + 3 }.max() ?? 10)
        var out = ""
        for outcome in outcomes {
            let title = "\(outcome.capture) / \(outcome.session)"
            let padded = title.count >= width ? title : title + String(repeating: " ", count: width - title.count)
            let milliseconds = Int(outcome.elapsed.components.seconds * 1000 + outcome.elapsed.components.attoseconds / 1_000_000_000_000_000)
            out += "\(outcome.passed ? "PASS" : "FAIL")  \(padded)  \(outcome.steps.count) steps  \(milliseconds) ms\n"
            for failure in outcome.failures { out += "      \(failure)\n" }
        }
        let passedCount = outcomes.count - failedCount
        out += "\(passedCount) of \(outcomes.count) sessions passed"
        out += failedCount == 0 ? "\n" : ", \(failedCount) failed\n"
        return out
    }

    /// JUnit XML: a test suite per capture, a test case per session, a failure with its differences.
    public func junit() -> String {
        var captures: [String] = []
        var byCapture: [String: [SessionOutcome]] = [:]
        for outcome in outcomes {
            if byCapture[outcome.capture] == nil { captures.append(outcome.capture) }
            byCapture[outcome.capture, default: []].append(outcome)
        }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"payswitch replay\" tests=\"\(outcomes.count)\" failures=\"\(failedCount)\">\n"
        for capture in captures {
            let sessions = byCapture[capture] ?? []
            let seconds = sessions.reduce(0.0) { $0 + Self.seconds($1.elapsed) }
            out += "  <testsuite name=\"\(Self.escape(capture))\" tests=\"\(sessions.count)\" failures=\"\(sessions.filter { !$0.passed }.count)\" "
            out += "errors=\"0\" time=\"\(String(format: "%.3f", seconds))\">\n"
            for session in sessions {
                out += "    <testcase classname=\"\(Self.escape(capture))\" name=\"\(Self.escape(session.session))\" "
                out += "time=\"\(String(format: "%.3f", Self.seconds(session.elapsed)))\""
                if session.passed {
                    out += "/>\n"
                } else {
                    let failures = session.failures
                    out += ">\n      <failure message=\"\(Self.escape(failures.first ?? "failed"))\">"
                    out += Self.escape(failures.joined(separator: "\n")) + "</failure>\n    </testcase>\n"
                }
            }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// XML text; characters XML 1.0 cannot carry (control characters in a difference) become `?`.
    static func escape(_ text: String) -> String { XMLText.escaped(text, replacingUncarriable: "?") }
}
