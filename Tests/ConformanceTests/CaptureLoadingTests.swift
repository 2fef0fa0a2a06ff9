import Conformance
import SpecFiles
import Testing

@Suite("Capture files")
struct CaptureLoadingTests {
    static let good = """
        capture: 1
        name: smoke
        description: "two sessions"
        sessions:
          - name: approval
            listener: pos
            framing: bin2
            iso8583: iso87binary
            steps:
              - send:
                  mti: "0100"
                  fields: {2: "4761739001010119", 3: "000000", 4: "000000001000", 11: "000001", 52: "1A2B3C4D5E6F7081"}
                at: 0.5
              - expect:
                  mti: "0110"
                  only-listed: true
                  fields:
                    39: "00"
                    38: {pattern: "[0-9A-Z]{6}"}
                    11: {echo: true}
                    35: {absent: true}
                    2: "*"
                    55.9F26: "*"
                    48.1: {equals: "*"}
                within: 2
              - expect-silence: 0.25
          - name: garbage
            framing: bin4
            iso20022: true
            steps:
              - send: {raw: "FFFF0000"}
              - send:
                  xml: |
                    <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"/>
              - expect: {message: pacs.002.001.10, paths: {"TxInfAndSts/TxSts": ACCP, "GrpHdr/MsgId": "*"}}
              - expect-close: true
        """

    @Test func aGoodCaptureReadsAsWritten() throws {
        let capture = try Capture.load(yaml: Self.good, file: "good.yaml")
        #expect(capture.name == "smoke")
        #expect(capture.sessions.count == 2)
        let first = capture.sessions[0]
        #expect(first.listener == "pos")
        #expect(first.wire == .iso8583(dialect: "iso87binary"))
        #expect(first.steps.count == 3)
        #expect(first.steps[0].at == .milliseconds(500))
        #expect(first.steps[1].within == .seconds(2))
        #expect(first.steps[1].location == "good.yaml:14:9")
        guard case .send(.iso8583(let mti, let fields)) = first.steps[0].action else {
            Issue.record("the first step is not an ISO 8583 send")
            return
        }
        #expect(mti == "0100")
        #expect(fields.map(\.number) == [2, 3, 4, 11, 52])
        guard case .expect(let expectation) = first.steps[1].action, case .iso8583(let mtiExpectation, let checks, let onlyListed) = expectation.form else {
            Issue.record("the second step is not an ISO 8583 expectation")
            return
        }
        #expect(mtiExpectation == .equals("0110"))
        #expect(onlyListed)
        #expect(checks.map(\.key) == ["39", "38", "11", "35", "2", "55.9F26", "48.1"])
        #expect(checks.map(\.expectation) == [.equals("00"), .pattern("[0-9A-Z]{6}"), .echo, .absent, .any, .any, .equals("*")])
        guard case .expectSilence(let quiet) = first.steps[2].action else {
            Issue.record("the third step is not expect-silence")
            return
        }
        #expect(quiet == .milliseconds(250))
        let second = capture.sessions[1]
        #expect(second.wire == .iso20022)
        guard case .send(.raw(let raw)) = second.steps[0].action, case .send(.xml(let xml)) = second.steps[1].action else {
            Issue.record("the ISO 20022 session's sends are not raw then xml")
            return
        }
        #expect(raw == [0xFF, 0xFF, 0x00, 0x00])
        #expect(xml.hasPrefix("<Document"))
        guard case .expectClose = second.steps[3].action else {
            Issue.record("the last step is not expect-close")
            return
        }
    }

    /// Each broken capture and where its error must point.
    static let broken: [(String, String, String)] = [
        ("capture: 2\nname: x\nsessions: []\n", "1:10", "format 2 is not supported"),
        ("capture: 1\nname: x\nsessions: []\n", "3:11", "at least one session"),
        ("capture: 1\nname: x\nextra: 1\nsessions: []\n", "3:1", "unknown key 'extra'"),
        (session("framing: bin9\n    iso8583: iso87binary", step: "- send: {mti: \"0200\"}"), "5:14", "framing 'bin9' is not a preset"),
        (session("framing: bin2\n    iso8583: iso99", step: "- send: {mti: \"0200\"}"), "6:14", "not a shipped dialect"),
        (session("framing: bin2\n    iso8583: iso87binary\n    iso20022: true", step: "- send: {mti: \"0200\"}"), "4:5", "exactly one of"),
        (session("framing: bin2\n    iso8583: iso87binary", step: "- send: {mti: \"200\"}"), "8:21", "mti must be four digits"),
        (session("framing: bin2\n    iso8583: iso87binary", step: "- send: {hex: \"ABC\"}"), "8:21", "even number of hexadecimal digits"),
        (session("framing: bin2\n    iso8583: iso87binary", step: "- send: {mti: \"0200\", fields: {1: \"x\"}}"), "8:37", "not a data element number"),
        (session("framing: bin2\n    iso8583: iso87binary", step: "- expect: {fields: {39: {pattern: \"[\"}}}"), "8:41", "not a regular expression"),
        (session("framing: bin2\n    iso8583: iso87binary", step: "- expect: {fields: {39x: \"00\"}}"), "8:26", "not a field (39)"),
        (session("framing: bin2\n    iso8583: iso87binary", step: "- expect: {paths: {a: b}}"), "8:25", "for ISO 20022 sessions"),
        (session("framing: bin2\n    iso8583: iso87binary", step: "- expect-silence: -1"), "8:25", "seconds from 0 to 3600"),
        (session("framing: bin2\n    iso8583: iso87binary", step: "- {send: {mti: \"0200\"}, expect-close: true}"), "8:9", "exactly one of send"),
        (session("framing: bin2\n    iso8583: iso87binary", step: "- {send: {mti: \"0200\"}, at: 2}\n      - {expect-close: true, at: 1}"), "9:9", "goes back in time"),
        (session("framing: bin2\n    iso20022: true", step: "- send: {mti: \"0200\"}"), "8:15", "xml, hex or raw"),
    ]

    static func session(_ wire: String, step: String) -> String {
        "capture: 1\nname: x\nsessions:\n  - name: s\n    \(wire)\n    steps:\n      \(step)\n"
    }

    @Test(arguments: broken)
    func aBrokenCaptureIsRefusedAtItsPlace(yaml: String, place: String, reason: String) {
        do {
            _ = try Capture.load(yaml: yaml, file: "broken.yaml")
            Issue.record("loaded: \(yaml)")
        } catch {
            #expect(error.description.hasPrefix("broken.yaml:\(place):"), "\(error)")
            #expect(error.description.contains(reason), "\(error)")
        }
    }

    @Test func writingAndReadingBackKeepsEverything() throws {
        let capture = try Capture.load(yaml: Self.good, file: "good.yaml")
        var edited = capture
        // Values YAML could misread unquoted, and XML a block cannot carry.
        edited.sessions[0].steps[0].action = .send(.iso8583(mti: "0200", fields: [(43, "A \"quoted\" \\ name: #1\t"), (48, "yes"), (61, "*")]))
        edited.sessions[1].steps[1].action = .send(.xml("<a>\n  trailing \n</a>"))
        edited.sessions[0].steps[0].masked = ["2", "35"]
        let written = edited.yaml()
        let reread = try Capture.load(yaml: written, file: "written.yaml")
        #expect(reread.yaml() == written)
        guard case .send(let content) = reread.sessions[0].steps[0].action, case .send(let xml) = reread.sessions[1].steps[1].action else {
            Issue.record("sends did not come back")
            return
        }
        #expect(content == .iso8583(mti: "0200", fields: [(43, "A \"quoted\" \\ name: #1\t"), (48, "yes"), (61, "*")]))
        #expect(xml == .xml("<a>\n  trailing \n</a>"))
        #expect(reread.sessions[0].steps[0].masked == ["2", "35"])
        #expect(reread.sessions[0].steps[0].at == .milliseconds(500))
    }
}
