@testable import Conformance
import Foundation
import ISO20022
import ISO8583
import PaymentModel
import Testing
import Transport

@Suite("Answer expectations")
struct AnswerExpectationTests {
    static let dialect = try! Dialect.shipped("iso87binary")
    static let pan = PAN.testCard(range: "476173", account: "900101011")

    static func message(_ mti: String, _ fields: [(Int, String)]) throws -> ISO8583Message {
        try ISO8583Message(mti: MTI(mti)!, texts: fields, dialect: dialect)
    }

    static let request = try! message("0200", [(2, pan), (3, "000000"), (4, "000000001000"), (11, "000042"), (41, "TERM0001")])
    static let answer = try! message("0210", [
        (2, pan), (3, "000000"), (4, "000000001000"), (11, "000042"), (38, "A1B2C3"), (39, "00"), (41, "TERM0001"),
        (55, "9F2608112233445566778891020102"),
    ]).encoded(as: dialect)

    static func check(_ fields: [(String, ValueExpectation)], mti: ValueExpectation? = .equals("0210"), onlyListed: Bool = false) -> [String] {
        AnswerExpectation(form: .iso8583(mti: mti, fields: fields.map { (key: $0.0, expectation: $0.1) }, onlyListed: onlyListed))
            .differences(in: answer, dialect: dialect, request: .iso8583(request))
    }

    @Test func everyFormOfExpectationHoldsOnAMatchingAnswer() {
        let differences = Self.check([
            ("39", .equals("00")), ("38", .pattern("[0-9A-Z]{6}")), ("11", .echo), ("41", .echo), ("2", .echo), ("35", .absent),
            ("52", .echo), ("4", .any), ("55.9F26", .equals("1122334455667788")), ("55.91", .any),
        ])
        #expect(differences == [])
    }

    /// Each failing expectation and the words its difference must hold.
    static let failing: [(String, ValueExpectation, String)] = [
        ("39", .equals("05"), "DE 39: expected \"05\", got \"00\""),
        ("38", .pattern("[0-9]{6}"), "DE 38: expected a value matching /[0-9]{6}/, got \"A1B2C3\""),
        ("38", .absent, "DE 38: expected none, got \"A1B2C3\""),
        ("35", .any, "DE 35: expected a value, got none"),
        ("3", .pattern("00.*"), ""),
        ("55.9F27", .any, "DE 55.9F27: expected a value, got none"),
        ("55.9F26", .equals("00"), "DE 55.9F26: expected \"00\", got \"1122334455667788\""),
        ("37", .echo, ""),
    ]

    @Test(arguments: failing)
    func aFailingExpectationSaysWhatItExpectedAndGot(key: String, expectation: ValueExpectation, words: String) {
        let differences = Self.check([(key, expectation)])
        if words.isEmpty {
            #expect(differences == [])
        } else {
            #expect(differences == [words])
        }
    }

    @Test func theMTIAndUnlistedFieldsAreChecked() {
        let differences = Self.check([("39", .equals("00"))], mti: .equals("0110"), onlyListed: true)
        #expect(differences.first == "MTI: expected \"0110\", got \"0210\"")
        // Every present field but 39 is reported once.
        #expect(differences.count == 1 + 7)
        #expect(differences.contains("DE 38: present, and the expectation lists only its own fields"))
    }

    @Test func aCardNumberNeverAppearsInADifference() {
        let differences = Self.check([("2", .equals(PAN.testCard(range: "411111", account: "111111111"))), ("2", .absent), ("2", .pattern("9.*"))])
        #expect(differences.count == 3)
        for difference in differences {
            #expect(!difference.contains(Self.pan))
            #expect(!difference.contains("411111111111"))
            #expect(difference.contains("476173******"))
        }
    }

    @Test func anEchoOfAFieldTheRequestLackedExpectsNone() {
        let differences = AnswerExpectation(form: .iso8583(mti: nil, fields: [(key: "38", expectation: .echo)], onlyListed: false))
            .differences(in: Self.answer, dialect: Self.dialect, request: .iso8583(Self.request))
        #expect(differences == ["DE 38: expected none (the request had none), got \"A1B2C3\""])
    }

    @Test func exactBytesReportTheFirstDifferenceWithoutShowingThem() {
        var other = Self.answer
        other[7] ^= 0xFF
        let differences = AnswerExpectation(form: .bytes(other)).differences(in: Self.answer, dialect: nil, request: .none)
        #expect(differences == ["the answer's bytes differ from byte 7 (expected \(other.count) bytes, got \(other.count))"])
        #expect(AnswerExpectation(form: .bytes(Self.answer)).differences(in: Self.answer, dialect: nil, request: .none) == [])
    }

    @Test func anAnswerThatDoesNotDecodeIsADifference() {
        let differences = AnswerExpectation(form: .iso8583(mti: nil, fields: [], onlyListed: false))
            .differences(in: [0x30, 0x32], dialect: Self.dialect, request: .none)
        #expect(differences.count == 1)
        #expect(differences[0].hasPrefix("the answer does not decode as iso87binary:"))
    }

    static let status = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt>
        <GrpHdr><MsgId>STS-1</MsgId><CreDtTm>2026-12-01T10:00:00Z</CreDtTm></GrpHdr>
        <TxInfAndSts><OrgnlEndToEndId>E2E-1</OrgnlEndToEndId><TxSts>ACCP</TxSts></TxInfAndSts>
        <TxInfAndSts><OrgnlEndToEndId>E2E-2</OrgnlEndToEndId><TxSts>RJCT</TxSts></TxInfAndSts>
        </FIToFIPmtStsRpt></Document>
        """

    /// The YAML `--record` writes for an ISO 20022 session whose one answer was `answer`.
    static func recordedYAML(answer: [UInt8]) -> String {
        let capture = Capture(name: "c", sessions: [CaptureSession(name: "s", framing: .bin4, framingName: "bin4", wire: .iso20022, steps: [
            CaptureStep(action: .expect(AnswerExpectation(form: .iso20022(message: nil, paths: [])))),
        ])])
        let outcome = SessionOutcome(capture: "c", session: "s", steps: [StepOutcome(location: "", summary: "", differences: ["x"], answer: answer)],
                                     elapsed: .zero, unexpectedFrames: 0)
        var recorded = capture
        recorded.sessions[0] = capture.sessions[0].recorded(from: outcome)
        return recorded.yaml()
    }

    @Test func aCardNumberInAnISO20022LeafIsMaskedInDifferencesAndNeverRecorded() throws {
        let document = Self.status.replacingOccurrences(of: "<OrgnlEndToEndId>E2E-1</OrgnlEndToEndId>",
                                                        with: "<OrgnlEndToEndId>\(Self.pan)</OrgnlEndToEndId>")
        let answer = Array(document.utf8)
        let differences = AnswerExpectation(form: .iso20022(message: nil, paths: [(key: "TxInfAndSts/OrgnlEndToEndId", expectation: .equals("X"))]))
            .differences(in: answer, dialect: nil, request: .none)
        #expect(differences == ["TxInfAndSts/OrgnlEndToEndId: expected \"X\", got \"476173******0119\""])
        let yaml = Self.recordedYAML(answer: answer)
        #expect(!yaml.contains(Self.pan))
        #expect(yaml.contains("TxInfAndSts/OrgnlEndToEndId: \"*\""))
    }

    /// An IBAN is personal data: masked in differences and never written into a recorded expectation.
    @Test func anIBANInAnISO20022LeafIsMaskedInDifferencesAndNeverRecorded() throws {
        let iban = "DE89370400440532013000"
        let document = Self.status.replacingOccurrences(
            of: "<OrgnlEndToEndId>E2E-1</OrgnlEndToEndId><TxSts>ACCP</TxSts>",
            with: "<OrgnlEndToEndId>E2E-1</OrgnlEndToEndId><TxSts>ACCP</TxSts><OrgnlTxRef><DbtrAcct><Id><IBAN>\(iban)</IBAN></Id></DbtrAcct></OrgnlTxRef>")
        let answer = Array(document.utf8)
        let key = "TxInfAndSts/OrgnlTxRef/DbtrAcct/Id/IBAN"
        let differences = AnswerExpectation(form: .iso20022(message: nil, paths: [(key: key, expectation: .equals("FR1420041010050500013M02606"))]))
            .differences(in: answer, dialect: nil, request: .none)
        #expect(differences == ["\(key): expected \"FR14*******************2606\", got \"DE89**************3000\""])
        let yaml = Self.recordedYAML(answer: answer)
        #expect(!yaml.contains("370400440532013000"))
        #expect(yaml.contains("\(key): \"*\""), "\(yaml)")
    }

    @Test func iso20022PathsNameLeavesBlocksAndTheMessage() {
        let expectation = AnswerExpectation(form: .iso20022(message: "pacs.002.001.10", paths: [
            (key: "GrpHdr/MsgId", expectation: .pattern("STS-[0-9]+")), (key: "TxInfAndSts/TxSts", expectation: .equals("ACCP")),
            (key: "TxInfAndSts[1]/TxSts", expectation: .equals("ACCP")), (key: "TxInfAndSts[2]/TxSts", expectation: .equals("RJCT")),
            (key: "TxInfAndSts[2]/OrgnlEndToEndId", expectation: .equals("E2E-2")), (key: "GrpHdr/NbOfTxs", expectation: .absent),
        ]))
        #expect(expectation.differences(in: Array(Self.status.utf8), dialect: nil, request: .none) == [])
        let wrong = AnswerExpectation(form: .iso20022(message: "pacs.008.001.08", paths: [(key: "TxInfAndSts[2]/TxSts", expectation: .equals("ACCP"))]))
        #expect(wrong.differences(in: Array(Self.status.utf8), dialect: nil, request: .none) == [
            "message: expected pacs.008.001.08, got pacs.002.001.10", "TxInfAndSts[2]/TxSts: expected \"ACCP\", got \"RJCT\"",
        ])
    }
}
