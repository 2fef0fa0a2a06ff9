import AdminEndpoint
import ArgumentParser
import ClusterStorage
import Dispatch
import Foundation
import Logging
import Routing
import SpecFiles
import Switch

/// `payswitch serve`: the switch.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the switch: listeners, channels to hosts, routing (SIGHUP reloads, SIGTERM drains and stops).")

    @Option(help: "Configuration file (YAML); default: the embedded configuration on loopback.") var config: String?
    @Option(help: "Log format: text or json (JSON lines).") var logFormat: LogFormat = .text
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"
    @Option(help: "Stop after this many seconds (default: on SIGINT/SIGTERM).") var seconds: Double?

    func run() throws {
        let configuration = try SwitchConfigurationFile.load(config)
        // Metrics go to Prometheus only when the endpoint that serves them is configured.
        if configuration.admin != nil { _ = AdminMetrics.bootstrap() }
        let logger = LogSetup.logger(label: "payswitch.switch", format: logFormat, level: logLevel)
        var reread: (@Sendable () throws(SpecError) -> SwitchConfiguration)? = nil
        if let path = config {
            reread = { () throws(SpecError) -> SwitchConfiguration in try SwitchConfigurationFile.read(path) }
        }
        // A cluster's node joins before it serves.
        let node = try configuration.cluster.map { cluster in try ClusterNode(configuration: cluster, logger: logger) }
        let payments = try PaymentSwitch(configuration, storage: try StorageSetup.open(configuration.storage, member: node?.lease),
                                         keys: try SecuritySetup.open(configuration.security), logger: logger, reread: reread, cluster: node)
        // Armed before the listeners: Dispatch registers signal sources asynchronously and needs a
        // descriptor, which a flood of connections could otherwise take first.
        let done = DispatchSemaphore(value: 0)
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM, SIGHUP]) { number in
            if number == SIGHUP {
                _ = payments.reload()
            } else {
                done.signal()
            }
        }
        let ports = try payments.start()
        // Unbuffered, one line per listener, so scripts and tests can read the bound ports.
        for listener in configuration.listeners {
            FileHandle.standardOutput.write(Data("listener \(listener.name) (\(listener.wire.name)) listening on \(listener.address.host):\(ports[listener.name] ?? 0)\n".utf8))
        }
        var admin: AdminServer? = nil
        if let address = configuration.admin {
            // Off the data path: hummingbird on its own threads, reading reports the switch builds on request.
            let server = AdminServer(host: address.host, port: Int(address.port), administration: payments,
                                     registry: AdminMetrics.bootstrap(), logger: logger)
            let bound = try server.startBlocking()
            FileHandle.standardOutput.write(Data("admin endpoint on \(address.host):\(bound)\n".utf8))
            admin = server
        }
        // A fenced node's requests, claims and queue are a survivor's now: it stops at once, without
        // draining (an answer it relayed now could contradict the survivor's reversal), with status
        // 75 (EX_TEMPFAIL) so that its supervisor starts it again, joining with a new epoch.
        let deadline = seconds.map { DispatchTime.now() + $0 }
        while done.wait(timeout: min(deadline ?? .distantFuture, .now() + 0.25)) == .timedOut {
            if let deadline, DispatchTime.now() >= deadline { break }
            if node?.isFenced == true {
                logger.critical("this node was fenced: it stops now, answering nothing more (a new start joins with a new epoch)")
                Foundation.exit(75)
            }
        }
        signals.cancel()
        payments.shutdown()
        node?.leave()
        admin?.stopBlocking()
    }
}

/// Reading a configuration file, with paths inside it relative to the file.
enum SwitchConfigurationFile {
    /// The file at `path`, or the embedded default when nil.
    static func load(_ path: String?) throws -> SwitchConfiguration {
        do {
            guard let path else { return try SwitchConfiguration.embeddedDefault() }
            return try read(path)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// Reads the file at `path`; with `openingTLSFiles`, a certificate, key or CA that cannot be
    /// used is an error at its `tls:` entry.
    static func read(_ path: String, openingTLSFiles: Bool = true) throws(SpecError) -> SwitchConfiguration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SpecError(file: path, line: 0, column: 0, message: "cannot read the configuration file")
        }
        return try SwitchConfiguration.load(
            yaml: text, file: path,
            readFile: { name in try? String(contentsOfFile: SwitchConfiguration.path(name, relativeTo: path), encoding: .utf8) },
            resolvePath: { SwitchConfiguration.path($0, relativeTo: path) }, openingTLSFiles: openingTLSFiles)
    }
}

/// `payswitch config`: configuration files.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check switch configuration files.",
        subcommands: [Check.self, Show.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a configuration (and its rules and dialects) without starting anything.")

        @Argument(help: "The configuration file.") var file: String
        @Flag(help: "Do not open the TLS certificates, keys and CAs (a configuration written for another machine).")
        var withoutTLSFiles = false

        func run() throws {
            do {
                let configuration = try SwitchConfigurationFile.read(file, openingTLSFiles: !withoutTLSFiles)
                print("\(file): ok: \(configuration.listeners.count) listener(s), \(configuration.channels.count) channel(s), rules \(configuration.rules.snapshot.version)")
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the embedded default configuration and its rules.")

        func run() {
            print(SwitchConfiguration.embeddedDefaultText)
            print("# rules.yaml\n" + (SwitchConfiguration.embeddedFile("rules.yaml") ?? ""))
        }
    }
}

/// Text or JSON-lines logs.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
