// The per-message work of the switch, shared by PerMessageBenchmarks and PerMessageLoop so that the
// benchmark and the profiled loop run exactly the same code: decode of the typical 0200 to the
// canonical message, the routing decision, and the message and frame for the destination dialect.
// Everything in `init` runs once, before any measurement.
import Foundation
import ISO8583
import PaymentModel
import Routing

/// Field 55 of the typical 0200: the ICC data set of `ICC_HEX` in shared/peers/pyiso8583_bench.py,
/// the same bytes as ISO8583Benchmarks/Fixtures.swift.
let iccHex =
    "9F26081122334455667788" + "9F270180" + "9F10120110A00003220000000000000000000000FF" + "9F3704A1B2C3D4"
    + "9F36020042" + "95050000080000" + "9A03261120" + "9C0100" + "9F0206000000010000" + "5F2A020840"
    + "82023900" + "9F1A020840" + "9F3303E0F0C8"

public struct PerMessageFixtureError: Error, CustomStringConvertible {
    public let description: String
}

/// The typical 1987 financial request (20 fields, track 2 and ICC data): the values of
/// `typicalRequest(for:)` in ISO8583Benchmarks/Fixtures.swift for a 1987 dialect.
public func typical0200() throws -> ISO8583Message {
    guard let pinBlock = Hex.decode("1A2B3C4D5E6F7081"), let icc = Hex.decode(iccHex) else {
        throw PerMessageFixtureError(description: "bad hexadecimal in the fixture")
    }
    var m = ISO8583Message(mti: MTI("0200")!)
    m.set(2, "4761739001010119")
    m.set(3, "000000")
    m.set(4, "000000010000")
    m.set(7, "1120153045")
    m.set(11, "123456")
    m.set(12, "153045")
    m.set(13, "1120")
    m.set(14, "2712")
    m.set(18, "5411")
    m.set(22, "051")
    m.set(25, "00")
    m.set(32, "123456")
    m.set(35, "4761739001010119=27122011143804400000")
    m.set(37, "432015123456")
    m.set(41, "TERM0001")
    m.set(42, "MERCHANT0000001")
    m.set(43, "ACME STORE 42          SPRINGFIELD  ILUS")
    m.set(49, "840")
    m.set(52, bytes: pinBlock)
    m.set(55, bytes: icc)
    return m
}

/// One source dialect's frame, the mappings both ways, and the router over specs/routing/example.yaml.
public struct PerMessageFixture: Sendable {
    public let source: Dialect
    public let destination: Dialect
    public let sourceMapping: ISO8583Mapping
    public let destinationMapping: ISO8583Mapping
    public let frame: [UInt8]
    /// The canonical message the frame carries (for the steps measured on their own).
    public let payment: PaymentMessage
    public let snapshot: RoutingSnapshot
    public let router: Router
    public let context = RoutingContext(hour: 14, minute: 30)

    /// Builds and checks everything: the frame decodes to the expected canonical values, the
    /// router sends the Visa BIN to the 70/30 split, and the destination frame decodes back.
    public init(source sourceName: String, destination destinationName: String = "iso87bcd") throws {
        source = try Dialect.shipped(sourceName)
        destination = try Dialect.shipped(destinationName)
        sourceMapping = try ISO8583Mapping.shipped(for: sourceName)
        destinationMapping = try ISO8583Mapping.shipped(for: destinationName)
        frame = try typical0200().encoded(as: source)

        // specs/routing/example.yaml with its BIN table, found from this file.
        let routing = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../specs/routing").standardizedFileURL
        let yaml = try String(contentsOf: routing.appendingPathComponent("example.yaml"), encoding: .utf8)
        let (compiled, check) = RoutingSnapshot.compile(yaml: yaml, file: "specs/routing/example.yaml") { path in
            try? String(contentsOf: routing.appendingPathComponent(path), encoding: .utf8)
        }
        guard let compiled else { throw PerMessageFixtureError(description: "example.yaml: \(check.errors)") }
        snapshot = compiled
        router = Router(compiled)

        payment = try sourceMapping.canonical(from: ISO8583Message(decoding: frame, dialect: source), dialect: source)
        guard payment.pan?.revealed == "4761739001010119", payment.amount?.minorUnits == 10_000,
              payment.amount?.currency.code == "USD", payment.stan == "123456", payment.rrn == "432015123456",
              payment.localDateTime == "1120153045", payment.merchant?.name == "ACME STORE 42",
              payment.merchant?.city == "SPRINGFIELD", payment.pinBlock?.count == 8, payment.unmapped.isEmpty else {
            throw PerMessageFixtureError(description: "\(sourceName): unexpected canonical message \(payment)")
        }
        let routed = router.route(payment, context)
        guard routed.ruleID == "visa-split", routed.candidates.count == 2 else {
            throw PerMessageFixtureError(description: "expected the visa-split rule, got \(routed.ruleID) \(routed.candidates)")
        }
        let outbound = try ISO8583Message(decoding: try forward(payment), dialect: destination)
        guard outbound.fieldNumbers == [2, 3, 4, 7, 11, 12, 13, 14, 18, 22, 25, 32, 35, 37, 41, 42, 43, 49, 52, 55],
              outbound.string(35) == "4761739001010119=27122011143804400000" else {
            throw PerMessageFixtureError(description: "\(destinationName): the forwarded frame has \(outbound.fieldNumbers)")
        }
    }

    /// The lazy decode alone (an index of the fields), for comparison.
    @inline(never)
    public func decode() throws -> ISO8583Message {
        try ISO8583Message(decoding: frame, dialect: source)
    }

    /// Decode to the canonical message, with every mapped field materialised.
    @inline(never)
    public func canonical() throws -> PaymentMessage {
        try sourceMapping.canonical(from: ISO8583Message(decoding: frame, dialect: source), dialect: source)
    }

    /// The static decision and its channel list, without channel health.
    @inline(never)
    public func decide(_ payment: PaymentMessage) -> [String] {
        snapshot.channels(for: snapshot.decide(payment, context))
    }

    /// The router's decision: the static decision, then channel health.
    @inline(never)
    public func route(_ payment: PaymentMessage) -> RouteResult {
        router.route(payment, context)
    }

    /// The destination dialect's message for a canonical message, and its frame.
    @inline(never)
    public func forward(_ payment: PaymentMessage) throws -> [UInt8] {
        try destinationMapping.message(from: payment, dialect: destination).encoded(as: destination)
    }

    /// The whole chain: decode, canonical, route, message and frame for the destination.
    @inline(never)
    public func chain() throws -> (RouteResult, [UInt8]) {
        let payment = try canonical()
        let routed = route(payment)
        return (routed, try forward(payment))
    }
}
