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
    /// A typical 0200 financial request: 20 fields with track 2, a PIN block and EMV data. It is
    /// conformance/iso8583/0200_default.bin, the frame pyiso8583, moov-io/iso8583 and jPOS encode
    /// identically, embedded at build time; its PAN is a test number.
    static let financialRequest: ISO8583Message = {
        do {
            return try ISO8583Message(decoding: PackageResources._200_default_bin, dialect: Dialect.shipped("iso87binary"))
        } catch {
            fatalError("the embedded reference frame does not decode: \(error)")
        }
    }()
}
