import ArgumentParser
import ISO8583

/// `payswitch demo`: what the switch does today, on embedded defaults, with no set-up.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a self-contained demonstration on embedded defaults.")

    func run() throws {
        let request = SampleMessages.financialRequest
        print("payswitch demo: one 0200 financial request, encoded in every shipped ISO 8583 dialect,")
        print("decoded back, and shown with sensitive fields masked.\n")
        for name in Dialect.shippedNames where name != "iso93ascii" {
            let dialect = try Dialect.shipped(name)
            let frame = try request.encoded(as: dialect)
            let decoded = try ISO8583Message(decoding: frame, dialect: dialect)
            let again = try decoded.encoded(as: dialect)
            print("\(MessageDump.pad(name, 12)) \(frame.count) bytes, decode+encode byte-exact: \(again == frame)")
            // Only the MTI and bitmap: the rest of a frame carries the PAN in clear.
            let header = dialect.bitmapEncoding == .binary ? 12 : 20
            print("  MTI + bitmap: " + Hex.encode(frame.prefix(header - (dialect.mtiEncoding == .bcd ? 2 : 0))))
        }
        let dialect = try Dialect.shipped("iso87bcd")
        let decoded = try ISO8583Message(decoding: try request.encoded(as: dialect), dialect: dialect)
        print("\nThe iso87bcd frame, decoded:\n")
        print(MessageDump.render(decoded, dialect: dialect, unmask: false))
        print("\nTry: payswitch iso8583 decode --spec iso87binary --hex <HEX>   (add --json, --unmask)")
    }
}

/// Messages the demo and the load generator share.
enum SampleMessages {
    /// A typical 0200 financial request: 20 fields with track 2, a PIN block and EMV data (the message
    /// of ../shared/peers/pyiso8583_bench.py). The PAN is a test number.
    static let financialRequest: ISO8583Message = {
        var request = ISO8583Message(mti: MTI("0200")!)
        let values: [(Int, String)] = [
            (2, "4761739001010119"), (3, "000000"), (4, "000000010000"), (7, "1120153045"), (11, "123456"),
            (12, "153045"), (13, "1120"), (14, "2712"), (18, "5411"), (22, "051"), (25, "00"), (32, "123456"),
            (35, "4761739001010119=27122011143804400000"), (37, "432015123456"), (41, "TERM0001"),
            (42, "MERCHANT0000001"), (43, "ACME STORE 42          SPRINGFIELD  ILUS"), (49, "840"),
        ]
        for (field, value) in values { request.set(field, value) }
        request.set(52, bytes: Hex.decode("1A2B3C4D5E6F7081")!)
        request.set(55, bytes: Hex.decode("9F26081122334455667788" + "9F270180" + "9F3704A1B2C3D4" + "9F36020042" + "5F2A020840")!)
        return request
    }()
}
