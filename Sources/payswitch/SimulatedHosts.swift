import ArgumentParser
import Foundation
import Logging
import Simulators
import Switch
import Transport

/// A simulator for every channel of a configuration, on free ports of 127.0.0.1, with the
/// configuration changed to reach them: how `replay --config` runs a switch with nothing else set up.
///
/// Card issuers answer as the demo's do (amounts over 500.00 declined with 51) and leave an amount
/// of exactly 444.44 unanswered, so a capture can replay a timeout; a bank accepts. A channel with
/// TLS gets the demo certificates on both ends.
struct SimulatedHosts {
    let simulators: [IssuerSimulator]

    /// How simulated card issuers answer, here and in the demo (the `sim issuer --rules` format):
    /// amounts above 500.00 declined for insufficient funds, exactly 444.44 never answered (no demo
    /// amount is), the rest approved, after 1 to 3 ms.
    static let issuerRules = """
        responses:
          - when: {amountEquals: "444.44"}
            answer: false
          - when: {amountOver: "500.00"}
            result: Insufficient funds
        default: Approved
        latency: {distribution: uniform, minMs: 1, maxMs: 3}
        """

    init(for configuration: inout SwitchConfiguration, down: Set<String>, pki: DemoPKI, logger: Logger) throws {
        let unknown = down.subtracting(configuration.channels.map(\.name))
        guard unknown.isEmpty else { throw ValidationError("--down \(unknown.sorted().joined(separator: ", ")): no such channel") }
        let cardBehaviour = try IssuerBehaviour.load(yaml: Self.issuerRules, file: "issuer rules")
        var started: [IssuerSimulator] = []
        do {
            for index in configuration.channels.indices {
                var channel = configuration.channels[index]
                defer { configuration.channels[index] = channel }
                channel.connectTimeout = .seconds(2)
                if down.contains(channel.name) {
                    channel.addresses = [HostAndPort(host: "127.0.0.1", port: Listener.unusedLoopbackPort())]
                    continue
                }
                var serverTLS: TLSContext?
                if channel.tls != nil {
                    serverTLS = try TLSContext(.server(certificateChainFile: pki.path(DemoPKI.issuerCertificate), privateKeyFile: pki.path(DemoPKI.issuerKey),
                                                       clientCAFile: pki.path(DemoPKI.authority)), isClient: false)
                    channel.tls = .client(trustedCAFile: pki.path(DemoPKI.authority), serverName: "localhost",
                                          certificateChainFile: pki.path(DemoPKI.switchCertificate), privateKeyFile: pki.path(DemoPKI.switchKey))
                }
                let simulator: IssuerSimulator
                switch channel.wire {
                case .iso8583(let dialect, _):
                    simulator = try IssuerSimulator(.init(format: channel.framing, wire: .iso8583(dialect), tls: serverTLS, behaviour: cardBehaviour, loops: 1),
                                                    logger: logger)
                case .iso20022:
                    simulator = try IssuerSimulator(.init(format: channel.framing, wire: .iso20022, tls: serverTLS,
                                                          behaviour: IssuerBehaviour(latency: .uniform(min: 1, max: 3)), loops: 1), logger: logger)
                }
                started.append(simulator)
                channel.addresses = [HostAndPort(host: "127.0.0.1", port: try simulator.start())]
            }
        } catch {
            for simulator in started { simulator.stop() }
            throw error
        }
        simulators = started
        for index in configuration.listeners.indices {
            configuration.listeners[index].address.port = 0
            configuration.listeners[index].options.port = 0
        }
        configuration.admin = nil
        configuration.storage?.path = pki.path("switch.sqlite")
        configuration.storage?.keyFile = pki.path("data.key")
    }

    func stop() {
        for simulator in simulators { simulator.stop() }
    }
}
