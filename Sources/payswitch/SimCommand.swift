import ArgumentParser
import Dispatch
import Foundation
import ISO8583
import Logging
import PaymentModel
import SecurityModule
import Simulators
import Transport

/// `payswitch sim`: the issuer, POS and acquirer simulators.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Simulate an issuer host, POS terminals or an acquirer host, over TCP or TLS.",
        subcommands: [Issuer.self, Pos.self, Acquirer.self])
}

extension TransportOptions {
    func serverTLS() throws -> TLSContext? { try tls.serverTLS() }
    func clientTLS() throws -> TLSContext? { try tls.clientTLS() }
}

extension TLSOptions {
    /// The server side's TLS context when --tls-cert and --tls-key are given (mutual TLS with --tls-ca).
    func serverTLS() throws -> TLSContext? {
        guard let cert = tlsCert, let key = tlsKey else { return nil }
        return try TLSContext(.server(certificateChainFile: cert, privateKeyFile: key, clientCAFile: tlsCa), isClient: false)
    }

    /// The client side's TLS context when --tls-ca is given (with a client certificate when --tls-cert is).
    func clientTLS() throws -> TLSContext? {
        guard let ca = tlsCa else { return nil }
        return try TLSContext(.client(trustedCAFile: ca, serverName: tlsServerName, certificateChainFile: tlsCert, privateKeyFile: tlsKey),
                              isClient: true)
    }
}

/// Options every load-generating simulator shares.
struct LoadOptions: ParsableArguments {
    @Option(help: "Host to connect to.") var host = "127.0.0.1"
    @Option(help: "Port to connect to.") var port: UInt16 = 9200
    @Option(help: "Connections.") var connections = 4
    @Option(help: "Closed loop: requests in flight per connection.") var window = 8
    @Option(help: "Open loop: requests per second in all (overrides --window).") var rate: Double?
    @Option(help: "Stop sending after this many seconds.") var seconds: Double?
    @Option(help: "Stop after this many requests (default 1000 when --seconds is not given).") var count: Int?
    @Option(help: "Milliseconds an answer may take.") var timeoutMs: Double = 5_000
    @Option(help: "Seed of the request mix.") var seed: UInt64 = 1
    @Flag(help: "Print the report as JSON.") var json = false
    @Flag(help: "Print no progress line (default: one a second on a terminal).") var quiet = false

    func validate() throws {
        guard connections > 0, window > 0 else { throw ValidationError("--connections and --window must be positive") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if let count, count <= 0 { throw ValidationError("--count must be positive") }
    }

    func configuration(format: FrameFormat, tls: TLSContext?, loops: Int) -> LoadConfiguration {
        .init(host: host, port: port, format: format, tls: tls, connections: connections,
              mode: rate.map { .openLoop(perSecond: $0) } ?? .closedLoop(window: window),
              limit: seconds.map { .seconds($0) } ?? .count(count ?? 1000), timeoutMilliseconds: timeoutMs, loops: loops, seed: seed)
    }

    /// Runs `generator` (SIGINT/SIGTERM stop it early), prints the report and fails when it is not clean.
    func run<E: LoadExchange>(_ generator: LoadGenerator<E>) throws {
        let signals = SignalWatcher { generator.requestStop() }
        let showProgress = !quiet && isatty(STDERR_FILENO) == 1
        let report = generator.run(progress: showProgress ? { progress in
            FileHandle.standardError.write(Data(("\r" + progress.line).utf8))
        } : nil)
        signals.cancel()
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        print(json ? report.json : report.text)
        if !report.isClean { throw ExitCode(1) }
    }
}

/// Calls `handler` on SIGINT or SIGTERM until cancelled.
final class SignalWatcher {
    private let sources: [any DispatchSourceSignal]

    convenience init(_ handler: @escaping @Sendable () -> Void) {
        self.init(signals: [SIGINT, SIGTERM]) { _ in handler() }
    }

    /// Watches `signals`; the handler is told which one arrived.
    init(signals: [Int32], _ handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "payswitch.signals")
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { handler(number) }
            source.activate()
            return source
        }
    }

    func cancel() { for source in sources { source.cancel() } }
}

extension SimCommand {
    struct Issuer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answer requests like an issuer host: by a rules file, with latency and faults; record what arrives.")

        @Option(help: "Port on --host (0: any; printed).") var port: UInt16 = 9200
        @Option(help: "Address to listen on.") var host = "127.0.0.1"
        @Option(help: "ISO 8583 dialect (\(Dialect.shippedNames.joined(separator: ", "))).") var spec = "iso87ascii"
        @Flag(help: "Speak ISO 20022 (pacs.008, pacs.028, camt.056) instead of ISO 8583.") var iso20022 = false
        @Option(help: "Behaviour file (YAML): response rules, latency, faults.") var rules: String?
        @Option(help: "Append every received message to this file as a JSON line (PAN masked).") var record: String?
        @Option(help: "Stop after this many seconds (default: on SIGINT/SIGTERM).") var seconds: Double?
        @OptionGroup var transport: TransportOptions
        @OptionGroup var limits: ListenerLimitOptions
        @Option(help: "Check PIN blocks (DE 52) under this key of the key store; the expected PIN is read from standard input. A wrong one is answered 55 (117).")
        var pinKey: String?
        @Option(help: "Format of the PIN blocks checked: 0, 1, 3 or 4.") var pinFormat = 0
        @OptionGroup var keys: KeyStoreOptions
        @OptionGroup var clearing: ClearingOptions

        func run() throws {
            let stop = StopSignal()
            var pinCheck: PINCheck? = nil
            if let pinKey {
                let zone = try PINBlock.Zone(key: try keys.open().key(named: pinKey), format: try commandLineFormat(pinFormat, "--pin-format"))
                pinCheck = PINCheck(zone: zone, pin: try ZoneOptions.digits("PIN"))
            }
            let behaviour = try rules.map { path in
                try IssuerBehaviour.load(yaml: try String(contentsOfFile: path, encoding: .utf8), file: path)
            } ?? IssuerBehaviour()
            let wire: WireProtocol = iso20022 ? .iso20022 : .iso8583(try Dialect.shipped(spec))
            let simulator = try IssuerSimulator(.init(host: host, port: port, format: try transport.format(), wire: wire,
                                                      tls: try transport.serverTLS(), behaviour: behaviour, recordFile: record,
                                                      keepsRecords: false, loops: transport.loops, listener: limits.options(port: port),
                                                      pinCheck: pinCheck, clearing: try clearing.book(iso20022: iso20022)))
            let bound = try simulator.start()
            FileHandle.standardOutput.write(Data("issuer listening on \(host):\(bound)\n".utf8))
            stop.wait(seconds: seconds)
            simulator.stop()
            let counters = simulator.counters
            print("received \(counters.received), answered \(counters.answered), undecodable \(counters.undecodable), "
                  + "dropped \(counters.dropped), late \(counters.late), closed \(counters.closed), garbage \(counters.garbage), "
                  + "stopped reading \(counters.stoppedReading)")
        }
    }

    struct Pos: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drive a host with ISO 8583 requests from POS terminals; check every answer; report TPS and latency.",
            discussion: "Exits 1 when an answer is missing, late, undecodable or does not match its request (MTI, STAN, RRN, amount).")

        @Option(help: "ISO 8583 dialect.") var spec = "iso87ascii"
        @Option(help: "A request template as hex in --spec, optionally with a weight: HEX[:WEIGHT]. Repeatable. Default: the sample 0200.")
        var template: [String] = []
        @OptionGroup var load: LoadOptions
        @OptionGroup var transport: TransportOptions
        @Option(help: "Enter PINs under this key of the key store: a terminal PIN key, or a base derivation key for DUKPT. The PIN is read from standard input.")
        var pinKey: String?
        @Option(help: "DUKPT: the terminal's initial KSN (20 hexadecimal digits); each request's counter follows its sequence.")
        var ksn = "FFFF9876543210E00000"
        @Option(help: "DUKPT: the data element the KSN goes in (20 hexadecimal characters).") var ksnField = 62
        @Option(help: "PIN block format: 0, 1 or 3.") var pinFormat = 0
        @OptionGroup var keys: KeyStoreOptions

        func run() throws {
            let dialect = try Dialect.shipped(spec)
            var templates: [(message: ISO8583Message, weight: Int)] = []
            for argument in template {
                let parts = argument.split(separator: ":")
                guard let bytes = parts.first.flatMap({ Hex.decode($0) }), parts.count <= 2 else {
                    throw ValidationError("--template must be HEX or HEX:WEIGHT")
                }
                let weight = parts.count == 2 ? Int(parts[1]) ?? 0 : 1
                guard weight > 0 else { throw ValidationError("the weight of a --template must be a positive integer") }
                templates.append((try ISO8583Message(decoding: bytes, dialect: dialect), weight))
            }
            if templates.isEmpty { templates = [(SampleMessages.financialRequest, 1)] }
            var pinEntry: PINEntry? = nil
            if let pinKey {
                guard let initial = Hex.decode(ksn), initial.count == 10 else { throw ValidationError("--ksn is 20 hexadecimal digits") }
                pinEntry = try PINEntry(key: try keys.open().key(named: pinKey), initialKSN: initial, pin: try ZoneOptions.digits("PIN"),
                                        format: try commandLineFormat(pinFormat, "--pin-format"), ksnField: ksnField)
            }
            let exchange = try ISO8583Exchange(dialect: dialect, templates: templates, pinEntry: pinEntry)
            try load.run(LoadGenerator(load.configuration(format: try transport.format(), tls: try transport.clientTLS(), loops: transport.loops),
                                       exchange: exchange))
        }
    }

    struct Acquirer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drive a host like an acquirer host: ISO 20022 credit transfers, status requests and cancellations, or ISO 8583 advices.",
            discussion: "Exits 1 when an answer is missing or does not match its request.")

        @Option(help: "ISO 20022 mix: pacs.008=WEIGHT,pacs.028=WEIGHT,camt.056=WEIGHT.") var mix = "pacs.008=8,pacs.028=1,camt.056=1"
        @Option(help: "Send ISO 8583 advices (0220, 0420) in this dialect instead of ISO 20022.") var iso8583: String?
        @OptionGroup var load: LoadOptions
        @OptionGroup var transport: TransportOptions

        func run() throws {
            let configuration = load.configuration(format: try transport.format(), tls: try transport.clientTLS(), loops: transport.loops)
            if let spec = iso8583 {
                var advice = SampleMessages.financialRequest
                advice.mti = MTI("0220")!
                var reversal = SampleMessages.financialRequest
                reversal.mti = MTI("0420")!
                let exchange = try ISO8583Exchange(dialect: try Dialect.shipped(spec), templates: [(advice, 1), (reversal, 1)])
                return try load.run(LoadGenerator(configuration, exchange: exchange))
            }
            var templates: [ISO20022Exchange.Template] = []
            for item in mix.split(separator: ",") {
                let parts = item.split(separator: "=")
                guard parts.count == 2, let weight = Int(parts[1]), weight >= 0 else { throw ValidationError("--mix items are MESSAGE=WEIGHT") }
                guard let message = ISO20022Exchange.sample(String(parts[0])) else {
                    throw ValidationError("--mix: unknown message \(parts[0]); pacs.008, pacs.028 or camt.056")
                }
                if weight > 0 { templates.append(.init(message: message, weight: weight)) }
            }
            try load.run(LoadGenerator(configuration, exchange: try ISO20022Exchange(templates: templates)))
        }
    }
}

/// `sim issuer --clearing-file`: the simulator's books, and differences to put in them on purpose.
struct ClearingOptions: ParsableArguments {
    @Option(help: """
        Book approvals and reversals into this clearing file (CSV, appended; read back at start): the host side of \
        `payswitch reconcile`. Reversals of requests not approved here are answered 25 (480) and not booked; \
        0520/1520 are answered from its totals.
        """)
    var clearingFile: String?
    @Option(help: "The simulator's cutover (HH:MM or HH:MM:SS), for requests without DE 15.") var cutover = "00:00"
    @Option(help: "The cutover's UTC offset (+HH:MM, -HH:MM or Z).") var utcOffset = "Z"
    @Option(help: "Difference to inject: leave this many reversals of approved requests out of the file.") var dropReversals = 0
    @Option(help: "Difference to inject: write this many approvals one minor unit higher.") var changeAmounts = 0
    @Option(help: "Difference to inject: write this many approvals twice.") var duplicateRows = 0
    @Option(help: "Difference to inject: add this many approvals of transactions that never happened.") var extraRows = 0

    func book(iso20022: Bool) throws -> ClearingBook? {
        guard let clearingFile else { return nil }
        guard !iso20022 else { throw ValidationError("--clearing-file applies to ISO 8583") }
        guard let cutover = BusinessDay.timeOfDay(cutover) else { throw ValidationError("--cutover is HH:MM or HH:MM:SS") }
        guard let offset = BusinessDay.utcOffset(utcOffset) else { throw ValidationError("--utc-offset is +HH:MM, -HH:MM or Z") }
        for (value, name) in [(dropReversals, "--drop-reversals"), (changeAmounts, "--change-amounts"), (duplicateRows, "--duplicate-rows"),
                              (extraRows, "--extra-rows")] where value < 0 {
            throw ValidationError("\(name) cannot be negative")
        }
        return try ClearingBook(path: clearingFile, businessDay: BusinessDay(cutover: cutover, utcOffset: offset),
                                differences: ClearingBook.Differences(droppedReversals: dropReversals, changedAmounts: changeAmounts,
                                                                      duplicates: duplicateRows, extraRows: extraRows))
    }
}
