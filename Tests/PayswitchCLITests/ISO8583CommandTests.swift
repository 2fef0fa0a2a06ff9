import Foundation
import ISO8583
import Testing

/// End-to-end tests of `payswitch iso8583 …`: the built binary, run as a process.
struct ISO8583CommandTests {
    static let binaryHex = "30323030723C448128E0920031363437363137333930303130313031313930303030303030303030303030313030303031313230313533303435313233343536313533303435313132303237313235343131303531303030363132333435363337343736313733393030313031303131393D32373132323031313134333830343430303030303433323031353132333435365445524D303030314D45524348414E543030303030303141434D452053544F524520343220202020202020202020535052494E474649454C442020494C55533834301A2B3C4D5E6F70813039329F260811223344556677889F2701809F10120110A00003220000000000000000000000FF9F3704A1B2C3D49F36020042950500000800009A032611209C01009F02060000000100005F2A020840820239009F1A0208409F3303E0F0C8"
    static let pan = "4761739001010119"

    @Test func decodeDumpMasksSensitiveFields() throws {
        let result = try PayswitchRunner.run(["iso8583", "decode", "--spec", "iso87binary", "--hex", Self.binaryHex])
        #expect(result.status == 0)
        #expect(result.stdout.contains("476173******0119"))
        #expect(!result.stdout.contains(Self.pan))
        #expect(!result.stdout.contains("1A2B3C4D5E6F7081"))  // PIN block
        #expect(result.stdout.contains("9F26   Application Cryptogram"))
        #expect(result.stdout.contains("DE  43  Card Acceptor Name/Location"))
    }

    @Test func decodeJSONUnmaskedThenEncodeGivesTheSameBytes() throws {
        let decoded = try PayswitchRunner.run(["iso8583", "decode", "--spec", "iso87binary", "--json", "--unmask", "--hex", Self.binaryHex])
        #expect(decoded.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(decoded.stdout.utf8)) as? [String: Any]
        let fields = object?["fields"] as? [String: String]
        #expect(object?["mti"] as? String == "0200")
        #expect(fields?["2"] == Self.pan)
        #expect(fields?["52"] == "1A2B3C4D5E6F7081")
        #expect((object?["tlv"] as? [String: Any])?["9F26"] as? String == "1122334455667788")
        let encoded = try PayswitchRunner.run(["iso8583", "encode", "--spec", "iso87binary"], input: decoded.stdout)
        #expect(encoded.status == 0)
        #expect(encoded.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == Self.binaryHex)
    }

    @Test func decodeReadsStandardInputAndRawFiles() throws {
        let fromStdin = try PayswitchRunner.run(["iso8583", "decode", "--spec", "iso87binary", "--json"], input: Self.binaryHex + "\n")
        #expect(fromStdin.status == 0 && fromStdin.stdout.contains("\"11\":\"123456\""))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("payswitch-\(getpid()).bin")
        try Data(hexBytes(Self.binaryHex)).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let fromFile = try PayswitchRunner.run(["iso8583", "decode", "--spec", "iso87binary", "--json", file.path])
        #expect(fromFile.status == 0 && fromFile.stdout == fromStdin.stdout)
    }

    @Test func malformedInputExitsNonZeroWithAPreciseError() throws {
        let broken = String(Self.binaryHex.dropLast(10))
        let result = try PayswitchRunner.run(["iso8583", "decode", "--spec", "iso87binary", "--hex", broken])
        #expect(result.status == 1)
        #expect(result.stderr.contains("ISO8583Error.truncated"))
        #expect(result.stderr.contains("DE 55"))
        #expect(!result.stderr.contains(Self.pan))
    }

    @Test func linesModeReportsEachLine() throws {
        let input = Self.binaryHex + "\n" + "3032" + "\n" + Self.binaryHex + "\n"
        let result = try PayswitchRunner.run(["iso8583", "decode", "--spec", "iso87binary", "--lines"], input: input)
        let lines = result.stdout.split(separator: "\n")
        #expect(result.status == 1)
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix("{\"error\":"))
        #expect(!result.stdout.contains(Self.pan))
    }

    @Test func encodeRefusesABadValue() throws {
        let json = #"{"mti":"0200","fields":{"3":"00A000"}}"#
        let result = try PayswitchRunner.run(["iso8583", "encode", "--spec", "iso87ascii"], input: json)
        #expect(result.status == 1)
        #expect(result.stderr.contains("DE 3 (Processing Code)"))
    }

    @Test func specsListsShippedDialectsAndDescribesOne() throws {
        let list = try PayswitchRunner.run(["iso8583", "specs"])
        for name in ["iso87ascii", "iso87binary", "iso87bcd", "iso87ebcdic", "iso93ascii"] {
            #expect(list.stdout.contains(name))
        }
        let described = try PayswitchRunner.run(["iso8583", "specs", "--describe", "iso87bcd", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(described.stdout.utf8)) as? [String: Any]
        #expect(object?["mti"] as? String == "bcd")
    }

    @Test func specFileArgumentWithAnErrorNamesItsPosition() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("payswitch-\(getpid())-bad.yaml")
        try "dialect: mine\nextends: iso87ascii\nfields:\n  - {field: 3, clas: n}\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try PayswitchRunner.run(["iso8583", "decode", "--spec", file.path, "--hex", "00"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(file.path):4:16: error: unknown key 'clas'"))
    }

    func hexBytes(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}

/// End-to-end tests of `payswitch translate`.
struct TranslateCommandTests {
    @Test func translatesBetweenDialectsAndBack() throws {
        let bcd = try PayswitchRunner.run(["translate", "--from", "iso87binary", "--to", "iso87bcd", "--hex", ISO8583CommandTests.binaryHex])
        #expect(bcd.status == 0)
        #expect(bcd.stdout.hasPrefix("0200723C"))
        let back = try PayswitchRunner.run(["translate", "--from", "iso87bcd", "--to", "iso87binary", "--hex", bcd.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
        let dialect = try Dialect.shipped("iso87binary")
        let original = try ISO8583Message(decoding: Hex.decode(ISO8583CommandTests.binaryHex)!, dialect: dialect)
        let returned = try ISO8583Message(decoding: Hex.decode(back.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!, dialect: dialect)
        // Every field comes back, the PIN block (unmapped, carried unchanged between dialects) too.
        #expect(returned.fieldNumbers == original.fieldNumbers)
        for field in returned.fieldNumbers { #expect(returned.string(field) == original.string(field), "DE \(field)") }
    }

    @Test func translatingIntoTheSameDialectIsByteExact() throws {
        let result = try PayswitchRunner.run(["translate", "--from", "iso87binary", "--to", "iso87binary", "--hex", ISO8583CommandTests.binaryHex])
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == ISO8583CommandTests.binaryHex)
    }

    @Test func canonicalViewIsMasked() throws {
        let result = try PayswitchRunner.run(["translate", "--from", "iso87binary", "--canonical", "--hex", ISO8583CommandTests.binaryHex])
        #expect(result.status == 0)
        #expect(result.stdout.contains("\"pan\":\"476173******0119\""))
        #expect(result.stdout.contains("\"amount\":\"100.00\""))
        #expect(!result.stdout.contains(ISO8583CommandTests.pan))
        #expect(!result.stdout.contains("1A2B3C4D5E6F7081"))
        #expect(result.stdout.contains("\"pinBlock\":\"(8 bytes)\""), "the PIN block is a canonical value, shown masked")
    }
}

/// End-to-end tests of `payswitch iso20022` and ISO 20022 in `translate`.
struct ISO20022CommandTests {
    static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ISO20022Tests/Samples/pacs.008.001.08_valid.xml").path
    static let xsd = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("specs/iso20022/pacs.008.001.08.xsd").path

    @Test func decodeThenEncodeGivesASchemaValidDocument() throws {
        let decoded = try PayswitchRunner.run(["iso20022", "decode", "--check", "--unmask", Self.sample])
        #expect(decoded.status == 0)
        #expect(decoded.stdout.contains("\"endToEndId\":\"E2E-000001\""))
        #expect(decoded.stdout.contains("\"amount\":\"100.00\""))
        let encoded = try PayswitchRunner.run(["iso20022", "encode", "--message", "pacs.008.001.08"], input: decoded.stdout)
        #expect(encoded.status == 0)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("payswitch-\(getpid())-pacs008.xml")
        try encoded.stdout.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let lint = Process()
        lint.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        lint.arguments = ["xmllint", "--noout", "--nonet", "--schema", Self.xsd, file.path]
        lint.standardError = FileHandle.nullDevice
        try lint.run()
        lint.waitUntilExit()
        #expect(lint.terminationStatus == 0)
        // And the round trip keeps every mapped value.
        let again = try PayswitchRunner.run(["iso20022", "decode", "--unmask", file.path])
        #expect(again.stdout == decoded.stdout)
    }

    /// The pipeline of the issue: a two-transaction pacs.008 with postal addresses, ultimate parties,
    /// purpose, regulatory reporting, a creditor reference and a SEPA instant payment type, through
    /// `decode --unmask | encode`, keeps every leaf; to pain.001 what has no place is listed, and the
    /// document refused unless `--allow-loss`.
    @Test func decodeThenEncodeKeepsEveryLeafOfABatch() throws {
        let batch = Self.sample.replacingOccurrences(of: "_valid.xml", with: "_batch_two.xml")
        let original = try String(contentsOfFile: batch, encoding: .utf8)
        let decoded = try PayswitchRunner.run(["iso20022", "decode", "--unmask", batch])
        #expect(decoded.status == 0)
        let encoded = try PayswitchRunner.run(["iso20022", "encode", "--message", "pacs.008.001.08"], input: decoded.stdout)
        #expect(encoded.status == 0, "\(encoded.stderr)")
        func leaves(_ xml: String) -> [String] {
            xml.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("<") && !$0.hasPrefix("</") && $0.contains("</") }
        }
        #expect(leaves(encoded.stdout) == leaves(original))
        #expect(leaves(original).count == 74)
        // One transfer to pain.001: the settlement method and transaction id have no place there.
        let single = try PayswitchRunner.run(["iso20022", "decode", "--unmask", Self.sample])
        let refused = try PayswitchRunner.run(["iso20022", "encode", "--message", "pain.001.001.09"], input: single.stdout)
        #expect(refused.status != 0 && refused.stdout.isEmpty)
        #expect(refused.stderr.contains("2 element(s) of the source have no place in pain.001.001.09: transactionId, settlementMethod"),
                "\(refused.stderr)")
        #expect(!refused.stderr.contains("TX-000001") && !refused.stderr.contains("CLRG"), "names only, never values")
        let allowed = try PayswitchRunner.run(["iso20022", "encode", "--message", "pain.001.001.09", "--allow-loss"], input: single.stdout)
        #expect(allowed.status == 0 && allowed.stdout.contains("<CstmrCdtTrfInitn>") && allowed.stderr.hasPrefix("warning: 2 element(s)"))
    }

    /// `decode --batch` prints one canonical message per transaction (a JSON line each, every
    /// transaction's values canonical); `encode` writes the lines back as one document.
    @Test func aBatchDecodesToALinePerTransactionAndBack() throws {
        let batch = Self.sample.replacingOccurrences(of: "_valid.xml", with: "_batch_two.xml")
        let original = try String(contentsOfFile: batch, encoding: .utf8)
        let decoded = try PayswitchRunner.run(["iso20022", "decode", "--batch", "--unmask", batch])
        #expect(decoded.status == 0, "\(decoded.stderr)")
        let lines = decoded.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.contains("\"creditorAgent\":\"BNPAFRPPXXX\"") == true && lines.last?.contains("\"creditorAgent\":\"INGBNL2AXXX\"") == true)
        let encoded = try PayswitchRunner.run(["iso20022", "encode", "--message", "pacs.008.001.08"], input: decoded.stdout)
        #expect(encoded.status == 0, "\(encoded.stderr)")
        func leaves(_ xml: String) -> [String] {
            xml.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("<") && !$0.hasPrefix("</") && $0.contains("</") }
        }
        #expect(leaves(encoded.stdout) == leaves(original))
    }

    /// Without --unmask the IBANs print masked, and that output cannot be encoded into a payment.
    @Test func ibansAreMaskedUnlessAsked() throws {
        let decoded = try PayswitchRunner.run(["iso20022", "decode", Self.sample])
        #expect(decoded.status == 0)
        #expect(decoded.stdout.contains("\"debtorIBAN\":\"DE89**************3000\""))
        #expect(!decoded.stdout.contains("370400440532013000"))
        let encoded = try PayswitchRunner.run(["iso20022", "encode", "--message", "pacs.008.001.08"], input: decoded.stdout)
        #expect(encoded.status != 0)
        #expect(encoded.stderr.contains("DbtrAcct/Id/IBAN"))
    }

    /// A further transaction's IBAN, kept unmapped under its path, prints masked too.
    @Test func anUnmappedIBANIsMaskedUnlessAsked() throws {
        let xml = """
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>
        <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-01-01T00:00:00Z</CreDtTm><NbOfTxs>2</NbOfTxs><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>
        <CdtTrfTxInf><PmtId><EndToEndId>A</EndToEndId></PmtId><IntrBkSttlmAmt Ccy="EUR">15.00</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr>
        <Dbtr/><DbtrAgt><FinInstnId><BICFI>COBADEFF</BICFI></FinInstnId></DbtrAgt><CdtrAgt><FinInstnId><BICFI>BNPAFRPP</BICFI></FinInstnId></CdtrAgt><Cdtr/></CdtTrfTxInf>
        <CdtTrfTxInf><PmtId><EndToEndId>B</EndToEndId></PmtId><IntrBkSttlmAmt Ccy="EUR">7.00</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr>
        <Dbtr/><DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct><DbtrAgt><FinInstnId><BICFI>COBADEFF</BICFI></FinInstnId></DbtrAgt>
        <CdtrAgt><FinInstnId><BICFI>BNPAFRPP</BICFI></FinInstnId></CdtrAgt><Cdtr/></CdtTrfTxInf>
        </FIToFICstmrCdtTrf></Document>
        """
        let masked = try PayswitchRunner.run(["iso20022", "decode"], input: xml)
        #expect(masked.status == 0, "\(masked.stderr)")
        #expect(masked.stdout.contains("\"CdtTrfTxInf[2]/DbtrAcct/Id/IBAN\":\"DE89**************3000\""), "\(masked.stdout)")
        #expect(!masked.stdout.contains("370400440532013000"))
        let clear = try PayswitchRunner.run(["iso20022", "decode", "--unmask"], input: xml)
        #expect(clear.stdout.contains("\"CdtTrfTxInf[2]/DbtrAcct/Id/IBAN\":\"DE89370400440532013000\""))
    }

    @Test func aCreditTransferHasNoCardForm() throws {
        let result = try PayswitchRunner.run(["translate", "--from", "pacs.008.001.08", "--to", "iso87binary", Self.sample])
        #expect(result.status == 1)
        #expect(result.stderr.contains("has no ISO 8583 form"))
    }

    @Test func xxeIsRefused() throws {
        let xml = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/hostname\">]><r>&x;</r>"
        let result = try PayswitchRunner.run(["iso20022", "decode"], input: xml)
        #expect(result.status == 1)
        #expect(result.stderr.contains("DOCTYPE"))
    }
}
