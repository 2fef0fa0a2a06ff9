import AdminEndpoint
import ArgumentParser
import Foundation
import ISO8583
import Logging
import Simulators
import Switch

/// `payswitch demo`: the switch on its embedded configuration between simulated hosts, in one
/// process, with no set-up: a short mixed load, an issuer outage that trips a breaker, a summary.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the switch on its embedded configuration between simulated hosts: mixed load, an outage, a summary.",
        discussion: """
            Starts, in this process and on free ports of 127.0.0.1, issuer simulators for the embedded
            configuration's channels (issuer-a over mutual TLS with demo-only certificates, issuer-b in
            another ISO 8583 dialect, a bank in ISO 20022), the switch and its admin endpoint; drives
            POS (ISO 8583) and acquirer (ISO 20022) traffic through it; silences issuer-b for a while so
            its breaker opens and its traffic fails over, and what it left unanswered is reversed once it
            answers again; then prints the switch's answers by listener, rule, channel and result code,
            and the journal's count. Exits 1 when a request goes unanswered, the journal misses an answer,
            or the breaker is not seen to open and close again.
            """)

    @Option(help: "POS requests per second (ISO 8583).") var posRate: Double = 150
    @Option(help: "Acquirer requests per second (ISO 20022).") var acquirerRate: Double = 15
    @Option(help: "Log level of the switch and the simulators, on standard error.") var logLevel = "error"

    func validate() throws {
        guard posRate > 0, posRate <= 5_000, acquirerRate > 0, acquirerRate <= 1_000 else {
            throw ValidationError("--pos-rate must be in (0, 5000] and --acquirer-rate in (0, 1000]")
        }
    }

    func run() throws {
        let demo = DemoTimeline()
        let logger = LogSetup.logger(label: "payswitch.demo", format: .text, level: logLevel)
        // Before the switch exists: its metrics are made at start and must reach this registry.
        let registry = AdminMetrics.bootstrap()
        let pki = try DemoPKI()
        defer { pki.remove() }
        let hosts = try DemoHosts(pki: pki, logger: logger)
        defer { hosts.stop() }
        let configuration = try Self.configuration(hosts: hosts, pki: pki)
        let storage = try StorageSetup.open(configuration.storage)
        let payments = try PaymentSwitch(configuration, storage: storage, logger: logger)
        let ports = try payments.start()
        defer { payments.shutdown(grace: .seconds(1)) }
        let adminAddress = configuration.admin ?? HostAndPort(host: "127.0.0.1", port: 0)
        let admin = AdminServer(host: adminAddress.host, port: 0, administration: payments, registry: registry, logger: logger)
        let adminPort = try admin.startBlocking()
        defer { admin.stopBlocking() }

        demo.say("payswitch demo: the switch on its embedded configuration (`payswitch config show`), between simulators")
        for listener in configuration.listeners {
            let source = listener.name == "pos" ? "POS simulator, ISO 8583" : "acquirer simulator, ISO 20022"
            demo.say("  listener \(pad(listener.name, 9)) \(pad(listener.wire.name, 12)) \(listener.address.host):\(ports[listener.name] ?? 0)  <- \(source)")
        }
        for channel in configuration.channels {
            let transport = channel.tls != nil ? "mutual TLS (demo-only certificates)" : "plain TCP"
            let address = channel.addresses.first.map(\.description) ?? "-"
            demo.say("  channel  \(pad(channel.name, 9)) \(pad(channel.wire.name, 12)) \(address)  -> simulator, \(transport)")
        }
        demo.say("admin: http://\(adminAddress.host):\(adminPort)/metrics  (and /channels, /ready) while the demo runs")

        guard DemoTimeline.wait(seconds: 10, until: { payments.isReady }) else {
            let links = payments.channelReports().map { "\($0.name): \($0.links.map(\.state).joined(separator: ","))" }
            demo.say("FAILED: the channels did not sign on within 10 s (\(links.joined(separator: "; ")))")
            throw ExitCode(1)
        }
        demo.say("\nPOS mix (\(Int(posRate))/s over 2 connections; card numbers are public test PANs, never shown):")
        let totalWeight = DemoTraffic.posMix.reduce(0) { $0 + $1.weight }
        for item in DemoTraffic.posMix { demo.say("  \(pad("\(item.weight * 100 / totalWeight)%", 4)) \(item.label)") }
        let acquirerWeight = DemoTraffic.acquirerMix.reduce(0) { $0 + $1.weight }
        demo.say("acquirer mix (\(Int(acquirerRate))/s): " + DemoTraffic.acquirerMix.map { item in
            "\(item.message) \(item.label) \(item.weight * 100 / acquirerWeight)%"
        }.joined(separator: ", "))

        demo.say("\ntimeline:")
        let (posReport, acquirerReport, breakerOk) = try drive(configuration: configuration, ports: ports, hosts: hosts,
                                                              payments: payments, demo: demo, logger: logger)

        let rows = DemoSummary.rows(AdminMetrics.samples(named: "payswitch_answers_total", in: registry), configuration: configuration)
        demo.say("\nanswers by listener, rule, channel and result (the switch's payswitch_answers_total):\n")
        demo.say(DemoSummary.table(rows))
        demo.say("")
        demo.say(DemoSummary.load("POS simulator (ISO 8583)", posReport))
        demo.say(DemoSummary.load("acquirer simulator (ISO 20022)", acquirerReport))
        let issuerB = hosts.issuerB.counters
        let dropped = AdminMetrics.samples(named: "payswitch_dropped_fields_total", in: registry)
            .filter { $0.labels["channel"] == "issuer-b" }
            .sorted { ($0.labels["field"] ?? "") < ($1.labels["field"] ?? "") }
            .map { "\($0.labels["field"] ?? "?") \($0.count.map(String.init) ?? "\($0.value)")" }
        if !dropped.isEmpty {
            demo.say("fields the 1993 dialect has no element for, dropped on the way to issuer-b as its may-drop allows: "
                     + dropped.joined(separator: ", "))
        }
        demo.say("hosts: issuer-a answered \(hosts.issuerA.counters.answered), issuer-b answered \(issuerB.answered) and ignored \(issuerB.dropped) "
                 + "during its outage, bank answered \(hosts.bank.counters.answered) (network management included)")

        var problems: [String] = []
        if let storage = storage?.storage {
            // issuer-b's timeouts left reversals; once it answers again they are delivered.
            _ = DemoTimeline.wait(seconds: 5) { (try? storage.pendingForwards().isEmpty) == true }
            let records = try storage.journal(JournalQuery(limit: 1_000_000))
            let reversals = records.filter { $0.forward == "reversal" }
            let acknowledged = reversals.filter { $0.forwardState == "acknowledged" }.count
            let answered = rows.filter { $0.rule != "network" }.reduce(0) { $0 + $1.count }
            demo.say("journal (SQLite in the demo's temporary folder): \(records.count) transactions, each written before its answer; "
                     + "\(reversals.count) reversals of requests issuer-b left unanswered, \(acknowledged) acknowledged once it answered again")
            if records.count != answered { problems.append("the journal holds \(records.count) transactions for \(answered) answers") }
        }
        for (name, report) in [("POS", posReport), ("acquirer", acquirerReport)] where !report.isClean {
            problems.append("the \(name) simulator's requests were not all answered" + (report.problems.first.map { ": \($0)" } ?? ""))
        }
        let counted = [("pos", posReport), ("banks", acquirerReport)].filter { name, report in
            rows.filter { $0.listener == name }.reduce(0) { $0 + $1.count } != report.counts.matched
        }
        if !counted.isEmpty { problems.append("the switch's counters disagree with the simulators' on \(counted.map(\.0).joined(separator: ", "))") }
        if !breakerOk { problems.append("issuer-b's breaker was not seen to open and close again") }
        guard problems.isEmpty else {
            demo.say("\nFAILED: " + problems.joined(separator: "; "))
            throw ExitCode(1)
        }
        demo.say(String(format: "\nok: every request answered, issuer-b's breaker opened and closed again (%.1f s)", demo.elapsed))
    }

    /// Runs the traffic with issuer-b's outage in the middle; returns both load reports and whether
    /// the breaker opened during the outage and closed after it.
    private func drive(configuration: SwitchConfiguration, ports: [String: UInt16], hosts: DemoHosts, payments: PaymentSwitch,
                       demo: DemoTimeline, logger: Logger) throws -> (LoadReport, LoadReport, Bool) {
        guard let posListener = configuration.listeners.first(where: { $0.name == "pos" }), case .iso8583(let dialect, _) = posListener.wire,
              let banks = configuration.listeners.first(where: { $0.name == "banks" }), let posPort = ports["pos"], let banksPort = ports["banks"] else {
            throw ValidationError("the embedded configuration lacks the ISO 8583 listener 'pos' or the listener 'banks'")
        }
        // Open loop: the rate holds whatever the answers do, as real terminals would. The limit is a
        // backstop; the timeline stops the load.
        let pos = BackgroundLoad(LoadGenerator(
            LoadConfiguration(host: posListener.address.host, port: posPort, format: posListener.framing, connections: 2,
                              mode: .openLoop(perSecond: posRate), limit: .seconds(45), timeoutMilliseconds: 5_000, loops: 1, seed: 1),
            exchange: try DemoTraffic.posExchange(dialect: dialect), logger: logger))
        let acquirer = BackgroundLoad(LoadGenerator(
            LoadConfiguration(host: banks.address.host, port: banksPort, format: banks.framing, connections: 1,
                              mode: .openLoop(perSecond: acquirerRate), limit: .seconds(45), timeoutMilliseconds: 5_000, loops: 1, seed: 2),
            exchange: try DemoTraffic.acquirerExchange(), logger: logger))
        demo.event("load started: every route, both dialects of ISO 8583, ISO 20022")

        let breaker = { payments.channelReports().first { $0.name == "issuer-b" }?.breaker ?? "?" }
        var state = breaker()
        /// Prints each change of issuer-b's breaker for `seconds`, or until it is `target`.
        func watch(seconds: Double, until target: String? = nil) -> Bool {
            DemoTimeline.wait(seconds: seconds) {
                let now = breaker()
                if now != state {
                    state = now
                    demo.event("issuer-b breaker \(now): " + (DemoTimeline.breakerMeaning[now] ?? ""))
                }
                return target.map { now == $0 } ?? false
            }
        }

        _ = watch(seconds: 2.5)
        hosts.setIssuerBOutage(true)
        demo.event("outage injected: issuer-b stops answering (its link stays up, requests time out)")
        let opened = watch(seconds: 10, until: "open")
        _ = watch(seconds: 1.5)
        hosts.setIssuerBOutage(false)
        demo.event("outage over: issuer-b answers again")
        let closed = watch(seconds: 10, until: "closed")
        _ = watch(seconds: 1.5)
        let reports = (pos.stop(), acquirer.stop())
        demo.event("load stopped; every answer in")
        return (reports.0, reports.1, opened && closed)
    }
}

/// The demo's output: lines on standard output at once (a pipe gets them while the demo runs), and
/// events stamped with the time since the start.
final class DemoTimeline: Sendable {
    private let start = ContinuousClock.now

    static let breakerMeaning = [
        "open": "issuer-b is skipped, its traffic fails over to issuer-a",
        "half-open": "a few probe requests may try issuer-b",
        "closed": "issuer-b takes its traffic again",
    ]

    var elapsed: Double {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    func event(_ text: String) {
        say(String(format: "  %5.1fs  ", elapsed) + text)
    }

    /// Polls `condition` every 10 ms for at most `seconds`; whether it came true.
    static func wait(seconds: Double, until condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }
}

/// `text` padded with spaces to `width`.
private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// Messages the load generator and the demo share.
enum SampleMessages {
    /// A typical 0200 financial request: 20 fields with track 2, a PIN block and EMV data. It is
    /// conformance/frames/0200_default.bin, the frame pyiso8583, moov-io/iso8583 and jPOS encode
    /// identically, embedded at build time; its PAN is a test number.
    static let financialRequest: ISO8583Message = {
        do {
            return try ISO8583Message(decoding: PackageResources._200_default_bin, dialect: Dialect.shipped("iso87binary"))
        } catch {
            fatalError("the embedded reference frame does not decode: \(error)")
        }
    }()
}
