import ArgumentParser
import Foundation
import ISO8583
import Logging
import Routing
import Simulators
import Switch
import Transport

/// The hosts the demo's switch forwards to, played by simulators on free ports of 127.0.0.1: issuer
/// A (iso87binary, mutual TLS), issuer B (iso93ascii, plain TCP) and a bank (ISO 20022).
struct DemoHosts {
    let issuerA: IssuerSimulator
    let issuerB: IssuerSimulator
    let bank: IssuerSimulator
    /// Each simulator's port, by the name of the channel that reaches it.
    let ports: [String: UInt16]


    /// Starts the three simulators; issuer A demands the switch's demo client certificate.
    init(pki: DemoPKI, logger: Logger) throws {
        let issuerBehaviour = try IssuerBehaviour.load(yaml: SimulatedHosts.issuerRules, file: "issuer rules")
        let serverTLS = try TLSContext(.server(certificateChainFile: pki.path(DemoPKI.issuerCertificate), privateKeyFile: pki.path(DemoPKI.issuerKey),
                                               clientCAFile: pki.path(DemoPKI.authority)), isClient: false)
        issuerA = try IssuerSimulator(.init(format: .bin2, wire: .iso8583(try Dialect.shipped("iso87binary")), tls: serverTLS,
                                            behaviour: issuerBehaviour, loops: 1), logger: logger)
        issuerB = try IssuerSimulator(.init(format: .bin2, wire: .iso8583(try Dialect.shipped("iso93ascii")), behaviour: issuerBehaviour,
                                            loops: 1), logger: logger)
        bank = try IssuerSimulator(.init(format: .bin4, wire: .iso20022, behaviour: IssuerBehaviour(latency: .uniform(min: 1, max: 3)),
                                         loops: 1), logger: logger)
        ports = ["issuer-a": try issuerA.start(), "issuer-b": try issuerB.start(), "bank": try bank.start()]
    }

    func stop() {
        for simulator in [issuerA, issuerB, bank] { simulator.stop() }
    }

    /// Issuer B stops answering (its connection stays open, requests go unanswered) or answers again.
    func setIssuerBOutage(_ down: Bool) {
        var behaviour = issuerB.behaviour
        behaviour.faults.drop = down ? 1 : 0
        issuerB.setBehaviour(behaviour)
    }
}

extension DemoCommand {
    /// The embedded default configuration (`switch.yaml`, `rules.yaml`) made runnable anywhere:
    /// listeners and the admin endpoint on free ports, each channel at its simulator (issuer A over
    /// mutual TLS with the demo certificates), and short timeouts so the outage plays in seconds.
    static func configuration(hosts: DemoHosts, pki: DemoPKI) throws -> SwitchConfiguration {
        var configuration: SwitchConfiguration
        do {
            configuration = try SwitchConfiguration.embeddedDefault()
        } catch {
            throw ValidationError("the embedded configuration does not load: \(error)")
        }
        // Free ports: another switch, a test or a second demo may hold the default ones.
        for index in configuration.listeners.indices {
            configuration.listeners[index].address.port = 0
            configuration.listeners[index].options.port = 0
        }
        configuration.admin = HostAndPort(host: configuration.admin?.host ?? "127.0.0.1", port: 0)
        // The journal and store-and-forward queue of a demo live and go with its temporary folder.
        configuration.storage?.path = pki.path("switch.sqlite")
        configuration.storage?.keyFile = pki.path("data.key")
        for index in configuration.channels.indices {
            let name = configuration.channels[index].name
            guard let port = hosts.ports[name], let first = configuration.channels[index].addresses.first else {
                throw ValidationError("the embedded configuration has a channel '\(name)' the demo has no simulator for")
            }
            configuration.channels[index].addresses = [HostAndPort(host: first.host, port: port)]
            configuration.channels[index].requestTimeout = .milliseconds(500)
            configuration.channels[index].connectTimeout = .seconds(2)
        }
        guard let issuerA = configuration.channels.firstIndex(where: { $0.name == "issuer-a" }) else {
            throw ValidationError("the embedded configuration has no channel 'issuer-a'")
        }
        configuration.channels[issuerA].tls = .client(trustedCAFile: pki.path(DemoPKI.authority), serverName: "localhost",
                                                      certificateChainFile: pki.path(DemoPKI.switchCertificate),
                                                      privateKeyFile: pki.path(DemoPKI.switchKey))
        // A short window so that a few silent seconds of issuer B outweigh its earlier successes,
        // and a short open time so the breaker is seen to close again.
        var health = configuration.health
        health.window = .seconds(2)
        health.minimumFailures = 5
        health.openDuration = .seconds(1)
        health.halfOpenProbes = 3
        configuration.health = health
        configuration.shutdownGrace = .seconds(2)
        return configuration
    }
}

/// The demo-only certificates made once by `tools/make-demo-pki.sh` and embedded in the binary,
/// written to a private temporary directory for OpenSSL to read, and removed when the demo ends.
///
/// Their keys are public (they are in the repository): they show mutual TLS working, nothing more.
struct DemoPKI {
    static let authority = "demo-ca.pem"
    static let issuerCertificate = "demo-issuer.pem"
    static let issuerKey = "demo-issuer.key"
    static let switchCertificate = "demo-switch.pem"
    static let switchKey = "demo-switch.key"

    let directory: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/payswitch-demo-XXXXXX").utf8CString)
        // mkdtemp makes the directory readable by its owner only.
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ValidationError("cannot make a temporary directory for the demo certificates")
        }
        directory = String(cString: made)
        let files: [(String, [UInt8])] = [
            (Self.authority, PackageResources.demo_ca_pem), (Self.issuerCertificate, PackageResources.demo_issuer_pem),
            (Self.issuerKey, PackageResources.demo_issuer_key), (Self.switchCertificate, PackageResources.demo_switch_pem),
            (Self.switchKey, PackageResources.demo_switch_key),
        ]
        for (name, bytes) in files {
            guard FileManager.default.createFile(atPath: path(name), contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
                remove()
                throw ValidationError("cannot write \(path(name))")
            }
        }
    }

    func path(_ name: String) -> String { directory + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
