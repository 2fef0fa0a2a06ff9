import ArgumentParser
import Conformance
import Foundation
import Logging
import SpecFiles
import Switch
import Transport

/// `payswitch replay`: plays conformance captures against a switch or host and judges every answer.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay conformance captures against a host and compare every answer, field by field.",
        discussion: """
            Each session of each capture runs on its own connection, one after another, keeping the
            recorded pacing unless --as-fast-as-possible. PATH is a capture file or a folder, searched
            for *.capture.yaml. With --target every session goes to that address (NAME=HOST:PORT sends
            the sessions of listener NAME there). With --config the switch runs in this process on that
            configuration (`embedded` for the built-in one), on free ports of 127.0.0.1, with an issuer
            simulator for each channel (amounts over 500.00 declined with 51, exactly 444.44 left
            unanswered so a timeout can be replayed, others approved); --down
            leaves a channel's host unreachable. Exits 1 when any session fails.
            """)

    @Argument(help: "Capture files, or folders holding *.capture.yaml files.") var paths: [String]
    @Option(help: "HOST:PORT for every session, or NAME=HOST:PORT for the sessions of listener NAME (repeatable).")
    var target: [String] = []
    @Option(help: "Start the switch on this configuration file (or `embedded`) and its simulated hosts, and replay against it.")
    var config: String?
    @Option(help: "With --config: a channel whose host stays down (repeatable).") var down: [String] = []
    @Flag(help: "Send each frame as soon as the previous step is done, ignoring recorded times.") var asFastAsPossible = false
    @Option(help: "Seconds an expectation waits for its answer when the capture gives none.") var within: Double = 5
    @Option(help: "Only sessions whose `capture / session` title contains this text.") var filter: String?
    @Option(help: "Write JUnit XML here.") var junit: String?
    @Option(help: "Write the captures with expectations taken from the answers received: a file for one capture, else a folder.")
    var record: String?
    @Option(help: "Write every frame sent and received as a pcapng file (open it in Wireshark); card data is replaced.") var pcap: String?
    @OptionGroup(title: "TLS towards --target (with --tls-ca)") var tls: TLSOptions
    @Option(help: "Log level of the switch and simulators started by --config, on standard error.") var logLevel = "error"

    func validate() throws {
        guard (target.isEmpty) != (config == nil) else { throw ValidationError("give exactly one of --target and --config") }
        guard down.isEmpty || config != nil else { throw ValidationError("--down goes with --config") }
        guard tls.tlsCa == nil || config == nil else { throw ValidationError("--tls-ca goes with --target (the switch --config starts listens as configured)") }
        guard within > 0, within <= 3600 else { throw ValidationError("--within must be in (0, 3600] seconds") }
    }

    func run() throws {
        let captures = try Self.loadCaptures(paths)
        let runner = ReplayRunner(options: ReplayOptions(asFastAsPossible: asFastAsPossible, defaultWithin: .milliseconds(Int64(within * 1000)),
                                                         tls: try tls.clientTLS(), keepsExchange: pcap != nil))
        var outcomes: [SessionOutcome] = []
        var recorded: [(file: String, capture: Capture)] = []
        try withTargets { address in
            for (file, capture) in captures {
                var rewritten = capture
                for (index, session) in capture.sessions.enumerated() {
                    guard filter.map({ "\(capture.name) / \(session.name)".contains($0) }) ?? true else { continue }
                    let outcome: SessionOutcome
                    if let (host, port) = address(session) {
                        outcome = runner.run(session, of: capture.name, host: host, port: port)
                    } else {
                        outcome = .failed(capture: capture.name, session: session.name, location: session.steps.first?.location ?? file,
                                          reason: "no target for listener '\(session.listener ?? "-")'")
                    }
                    outcomes.append(outcome)
                    rewritten.sessions[index] = session.recorded(from: outcome)
                }
                recorded.append((file, rewritten))
            }
        }
        let report = ReplayReport(outcomes: outcomes)
        print(report.table(), terminator: "")
        if let junit {
            try writeFile(Data(report.junit().utf8), to: junit)
        }
        if let record { try Self.write(recorded, to: record) }
        if let pcap {
            // Each session on its own client port, at the port of the listener it went to (or 9100).
            let conversations = outcomes.enumerated().map { index, outcome in
                ExportedConversation(clientPort: UInt16(40_000 + index % 20_000), serverPort: 9100, chunks: outcome.exchanged)
            }
            let bytes = PcapngWriter.write(conversations, comment: "payswitch replay of \(paths.joined(separator: " "))")
            try writeFile(Data(bytes), to: pcap)
        }
        if outcomes.isEmpty { throw ValidationError("no session matched") }
        if !report.passed { throw ExitCode(1) }
    }

    /// Runs `body` with the address each session goes to, starting the switch and hosts first with --config.
    func withTargets(_ body: ((CaptureSession) -> (String, UInt16)?) throws -> Void) throws {
        guard let config else {
            var byListener: [String: (String, UInt16)] = [:]
            var everyone: (String, UInt16)?
            for item in target {
                let (name, address) = item.contains("=") ? (String(item.prefix { $0 != "=" }), String(item.drop { $0 != "=" }.dropFirst())) : (nil, item)
                guard let parsed = HostAndPort(address) else { throw ValidationError("--target \(item): expected HOST:PORT or NAME=HOST:PORT") }
                if let name { byListener[name] = (parsed.host, parsed.port) } else { everyone = (parsed.host, parsed.port) }
            }
            try body { session in session.listener.flatMap { byListener[$0] } ?? everyone }
            return
        }
        let logger = LogSetup.logger(label: "payswitch.replay", format: .text, level: logLevel)
        let pki = try DemoPKI()
        defer { pki.remove() }
        var configuration = try SwitchConfigurationFile.load(config == "embedded" ? nil : config)
        let hosts = try SimulatedHosts(for: &configuration, down: Set(down), pki: pki, logger: logger)
        defer { hosts.stop() }
        let payments = try PaymentSwitch(configuration, storage: try StorageSetup.open(configuration.storage), logger: logger)
        let ports = try payments.start()
        defer { payments.shutdown(grace: .seconds(1)) }
        // Ready as far as the hosts that are up allow: a channel left down never signs on.
        let expected = Set(configuration.channels.map(\.name)).subtracting(down)
        // A link takes traffic once signed on, or once connected on a channel that signs on to nothing.
        let signsOn = Dictionary(uniqueKeysWithValues: configuration.channels.map { ($0.name, $0.signOn) })
        let upChannels = {
            Set(payments.channelReports().filter { report in
                report.links.contains { $0.state == "signed-on" || ($0.state == "connected" && signsOn[report.name] == false) }
            }.map(\.name))
        }
        guard DemoTimeline.wait(seconds: 10, until: { expected.isSubset(of: upChannels()) }) else {
            let missing = expected.subtracting(upChannels()).sorted().joined(separator: ", ")
            throw ValidationError("the switch's channels \(missing) did not come up within 10 s")
        }
        try body { session in
            let listener = session.listener.flatMap { name in configuration.listeners.first { $0.name == name } }
                ?? configuration.listeners.first { $0.wire.name == session.wireName }
            return listener.flatMap { ports[$0.name] }.map { ("127.0.0.1", $0) }
        }
    }

    /// Every capture named by `paths`, in path order; a folder gives its `*.capture.yaml` files.
    static func loadCaptures(_ paths: [String]) throws -> [(String, Capture)] {
        var files: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw ValidationError("\(path): no such file or folder") }
            if isFolder.boolValue {
                let found = FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".capture.yaml") } ?? []
                files += found.sorted().map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        guard !files.isEmpty else { throw ValidationError("no capture files in \(paths.joined(separator: ", "))") }
        return try files.map { file in
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("cannot read \(file)") }
            do {
                return (file, try Capture.load(yaml: text, file: file))
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    static func write(_ captures: [(file: String, capture: Capture)], to destination: String) throws {
        if captures.count == 1, !destination.hasSuffix("/") {
            return try writeFile(Data(captures[0].capture.yaml().utf8), to: destination)
        }
        // The captures' folders are kept below the destination, so files of the same name in two
        // suites do not overwrite each other.
        for (file, capture) in captures {
            let relative = file.hasPrefix("/") ? String(file.dropFirst()) : file
            let path = (destination as NSString).appendingPathComponent(relative)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try writeFile(Data(capture.yaml().utf8), to: path)
        }
    }
}

extension CaptureSession {
    /// The name of the session's wire as the switch's configuration names it (`iso87binary`, `iso20022`).
    var wireName: String {
        switch wire {
        case .iso8583(let dialect): dialect
        case .iso20022: "iso20022"
        }
    }
}
