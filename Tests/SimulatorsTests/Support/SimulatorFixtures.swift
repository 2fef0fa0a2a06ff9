import Foundation
import ISO8583
import PaymentModel
import Simulators
import TestSupport
import Transport

/// Requests, simulators and runs the simulator tests share.
enum SimulatorFixtures {
    static let dialect = try! Dialect.shipped("iso87ascii")
    static let format = FrameFormat.preset(named: "bin2")!
    /// A test PAN (Luhn-valid) that must never appear in clear in records or reports.
    static let pan = "4761739001010119"

    /// A 0200 purchase of `amount` minor units of EUR with track 2 and a PIN block.
    static func purchase(amount: Int = 12_550, pan: String = SimulatorFixtures.pan, mti: String = "0200") -> ISO8583Message {
        var message = ISO8583Message(mti: MTI(mti)!)
        message.set(2, pan)
        message.set(3, "000000")
        message.set(4, String(repeating: "0", count: 12 - String(amount).count) + String(amount))
        message.set(7, "1121103000")
        message.set(11, "000001")
        message.set(12, "103000")
        message.set(13, "1121")
        message.set(22, "051")
        message.set(35, pan + "=2512101123400001")
        message.set(37, "000000000001")
        message.set(41, "TERM0001")
        message.set(42, "MERCHANT0000001")
        message.set(49, "978")
        message.set(52, bytes: Hex.decode("0123456789ABCDEF")!)
        return message
    }

    /// An 0800 echo test.
    static var echoTest: ISO8583Message {
        var message = ISO8583Message(mti: MTI("0800")!)
        message.set(7, "1121103000")
        message.set(11, "000001")
        message.set(37, "000000000001")
        message.set(70, "301")
        return message
    }

    static func issuer(_ behaviour: IssuerBehaviour = IssuerBehaviour(), wire: IssuerSimulatorWire = .iso8583, tls: TLSContext? = nil,
                       format: FrameFormat = SimulatorFixtures.format, record: String? = nil, keepsRecords: Bool = true,
                       loops: Int = 1) throws -> (IssuerSimulator, UInt16) {
        let protocolChoice: WireProtocol = wire == .iso8583 ? .iso8583(dialect) : .iso20022
        let simulator = try IssuerSimulator(.init(format: format, wire: protocolChoice, tls: tls, behaviour: behaviour, recordFile: record,
                                                  keepsRecords: keepsRecords, loops: loops))
        return (simulator, try simulator.start())
    }

    enum IssuerSimulatorWire { case iso8583, iso20022 }

    /// Runs the POS simulator against `port` until `count` requests are sent and answered (or time out).
    static func pos(port: UInt16, templates: [(message: ISO8583Message, weight: Int)] = [(purchase(), 1)], count: Int = 40,
                    connections: Int = 2, window: Int = 4, timeoutMilliseconds: Double = 2_000, tls: TLSContext? = nil) throws -> LoadReport {
        let exchange = try ISO8583Exchange(dialect: dialect, templates: templates)
        let generator = LoadGenerator(.init(port: port, format: format, tls: tls, connections: connections, mode: .closedLoop(window: window),
                                            limit: .count(count), timeoutMilliseconds: timeoutMilliseconds, loops: 1), exchange: exchange)
        return generator.run()
    }

    static func serverTLS() throws -> TLSContext {
        try TLSContext(.server(certificateChainFile: TestCertificates.path("server.pem"), privateKeyFile: TestCertificates.path("server.key"),
                               clientCAFile: TestCertificates.path("ca.pem")), isClient: false)
    }

    static func clientTLS() throws -> TLSContext {
        try TLSContext(.client(trustedCAFile: TestCertificates.path("ca.pem"), serverName: "localhost",
                               certificateChainFile: TestCertificates.path("client.pem"), privateKeyFile: TestCertificates.path("client.key")),
                       isClient: true)
    }
}
