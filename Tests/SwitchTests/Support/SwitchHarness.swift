import Foundation
import ISO8583
import Logging
import PaymentModel
import SpecFiles
import SecurityModule
import Switch
import Synchronization
import TestSupport
import Transport

/// Starting a switch from a YAML configuration whose files are given inline.
enum SwitchHarness {
    /// Loads `yaml` (with `rules.yaml` and any other files from `files`) and starts the switch.
    static func start(_ yaml: String, rules: String, files: [String: String] = [:], storage: StorageFixture? = nil,
                      keys: KeyStore? = nil, logger: Logger = SwitchHarness.quietLogger,
                      reread: (@Sendable () throws(SpecError) -> SwitchConfiguration)? = nil,
                      cluster: (any ClusterMembership)? = nil) throws -> (PaymentSwitch, [String: UInt16]) {
        let configuration = try configuration(yaml, rules: rules, files: files)
        let payments = try PaymentSwitch(configuration, storage: storage.map { ($0.storage, $0.protection) }, keys: keys, logger: logger,
                                         reread: reread, cluster: cluster)
        return (payments, try payments.start())
    }

    static func configuration(_ yaml: String, rules: String, files: [String: String] = [:]) throws(SpecError) -> SwitchConfiguration {
        var all = files
        all["rules.yaml"] = rules
        return try SwitchConfiguration.load(yaml: yaml, file: "test.yaml", readFile: { all[$0] })
    }

    /// Logs only errors, so test output stays readable (a test that wants logs passes its own).
    static var quietLogger: Logger {
        var logger = Logger(label: "test.switch")
        // SWITCH_TEST_LOG=debug shows the switch's log while a test runs.
        logger.logLevel = ProcessInfo.processInfo.environment["SWITCH_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }

    /// Polls `condition` every 10 ms for at most `seconds`.
    static func wait(seconds: Double = 5, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    /// A channel block for `port` in YAML.
    static func channel(_ name: String, ports: [UInt16], dialect: String = "iso87ascii", timeout: String = "2s", extra: String = "") -> String {
        """
          - name: \(name)
            addresses: [\(ports.map { "\"127.0.0.1:\($0)\"" }.joined(separator: ", "))]
            framing: bin2
            protocol: iso8583
            dialect: \(dialect)
            request-timeout: \(timeout)
        \(extra.isEmpty ? "" : extra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n")
        """
    }

    /// A configuration with one ISO 8583 listener on a free port and the given channels.
    static func yaml(listenerDialect: String = "iso87ascii", channels: String, extra: String = "") -> String {
        """
        name: test
        rules: rules.yaml
        listeners:
          - {name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso8583, dialect: \(listenerDialect)}
        channels:
        \(channels)
        \(extra)
        """
    }
}

/// A terminal on a blocking socket: sends ISO 8583 requests with a 2-byte length, reads answers.
final class PosClient: @unchecked Sendable {
    let fd: Int32
    let dialect: Dialect
    /// The binary length prefix: 2 (bin2) or 4 (bin4).
    let lengthBytes: Int

    init(port: UInt16, dialect: Dialect = SwitchFixtures.iso87ascii, lengthBytes: Int = 2) throws {
        self.fd = try RawClient.connect(port)
        self.dialect = dialect
        self.lengthBytes = lengthBytes
    }

    deinit { close(fd) }

    func send(_ message: ISO8583Message) throws {
        sendFrame(try message.encoded(as: dialect))
    }

    func sendFrame(_ payload: [UInt8]) {
        let prefix = (0..<lengthBytes).reversed().map { UInt8(truncatingIfNeeded: payload.count >> (8 * $0)) }
        RawClient.send(fd, prefix + payload)
    }

    /// The next answer's bytes, or nil after the 5 s receive timeout or EOF.
    func receiveFrame() -> [UInt8]? {
        let prefix = RawClient.receive(fd, count: lengthBytes)
        guard prefix.count == lengthBytes else { return nil }
        let count = prefix.reduce(0) { $0 << 8 | Int($1) }
        let payload = RawClient.receive(fd, count: count)
        return payload.count == count ? payload : nil
    }

    func receive() throws -> ISO8583Message? {
        try receiveFrame().map { try ISO8583Message(decoding: $0, dialect: dialect) }
    }

    /// Sends and waits for the answer.
    func exchange(_ message: ISO8583Message) throws -> ISO8583Message? {
        try send(message)
        return try receive()
    }
}

/// A host played by the test on our own transport: records every frame and answers as told.
final class ScriptedHost: @unchecked Sendable {
    enum Action {
        case answer(ISO8583Message)
        case answerAfter(milliseconds: Int, ISO8583Message)
        /// These bytes as the answer's frame (a MAC the test computed itself).
        case frame([UInt8])
        case drop
    }

    let dialect: Dialect
    private let group = EventLoopGroup(count: 1)
    private let listener: Listener
    private let state: State
    private(set) var port: UInt16 = 0

    final class State: Sendable {
        let frames = Mutex<[[UInt8]]>([])
        /// The switch's latest connection, for frames the host sends on its own.
        let connection = Mutex<Connection?>(nil)
        let behaviour: Mutex<@Sendable (ISO8583Message) -> Action>
        init(_ answer: @escaping @Sendable (ISO8583Message) -> Action) { behaviour = Mutex(answer) }
    }

    init(dialect: Dialect, answer: @escaping @Sendable (ISO8583Message) -> Action = ScriptedHost.approve) throws {
        self.dialect = dialect
        let state = State(answer)
        self.state = state
        var options = ListenerOptions()
        options.connection.idleTimeout = nil
        listener = Listener(group: group, format: .bin2, options: options, logger: SwitchHarness.quietLogger) { _ in
            Connection.Handlers(onFrame: { connection, frame in
                state.connection.withLock { $0 = connection }
                let bytes = Array(frame.payload)
                state.frames.withLock { $0.append(bytes) }
                guard let request = try? ISO8583Message(decoding: bytes, dialect: dialect) else { return }
                let action = state.behaviour.withLock { $0 }(request)
                switch action {
                case .answer(let answer):
                    if let out = try? answer.encoded(as: dialect) { out.withUnsafeBytes { try? connection.send(payload: $0) } }
                case .answerAfter(let milliseconds, let answer):
                    guard let out = try? answer.encoded(as: dialect) else { return }
                    connection.loop.queue.asyncAfter(deadline: .now() + .milliseconds(milliseconds)) {
                        out.withUnsafeBytes { try? connection.send(payload: $0) }
                    }
                case .frame(let bytes):
                    bytes.withUnsafeBytes { try? connection.send(payload: $0) }
                case .drop: break
                }
            })
        }
        port = try listener.start()
    }

    func stop() { listener.stop() }

    /// Sends a message of the host's own (an 0800) on the switch's latest connection.
    func push(_ message: ISO8583Message) throws {
        let frame = try message.encoded(as: dialect)
        state.connection.withLock { $0 }?.sendFromAnyThread(frame)
    }

    /// Frames received so far, network management included.
    var received: [[UInt8]] { state.frames.withLock { $0 } }

    /// Received frames that are not network management, decoded.
    var requests: [ISO8583Message] {
        received.compactMap { try? ISO8583Message(decoding: $0, dialect: dialect) }.filter { $0.mti.messageClass != 8 }
    }

    func setBehaviour(_ answer: @escaping @Sendable (ISO8583Message) -> Action) { state.behaviour.withLock { $0 = answer } }

    /// Approves everything (1987 `00` or 1993 `000`), network management included.
    static let approve: @Sendable (ISO8583Message) -> Action = { request in .answer(answer(request, code: nil)) }

    /// The answer to `request` with DE 39 `code` (approval, in the request's version, when nil).
    static func answer(_ request: ISO8583Message, code: String?) -> ISO8583Message {
        var answer = request.answerSkeleton()
        let is93 = request.mti.version == 1
        let network = request.mti.messageClass == 8
        answer.set(39, code ?? (is93 ? (network ? "800" : "000") : "00"))
        if code == nil && !network { answer.set(38, "A12345") }
        return answer
    }
}

/// Requests the switch tests send.
enum SwitchFixtures {
    static let pan = "4761739001010119"
    static let iso87ascii = try! Dialect.shipped("iso87ascii")
    static let iso87binary = try! Dialect.shipped("iso87binary")
    static let iso93ascii = try! Dialect.shipped("iso93ascii")

    /// A 0200 purchase from terminal `terminal` with STAN `stan`.
    static func purchase(stan: Int = 1, amount: Int = 12_550, pan: String = SwitchFixtures.pan, terminal: String = "TERM0001",
                         rrn: String? = "000000000001", mcc: String? = nil) -> ISO8583Message {
        var message = ISO8583Message(mti: MTI("0200")!)
        message.set(2, pan)
        message.set(3, "000000")
        message.set(4, digits(amount, 12))
        message.set(7, "1121103000")
        message.set(11, digits(stan, 6))
        message.set(12, "103000")
        message.set(13, "1121")
        if let mcc { message.set(18, mcc) }
        message.set(22, "051")
        message.set(32, "123456")
        message.set(35, pan + "=2512101123400001")
        if let rrn { message.set(37, rrn) }
        message.set(41, terminal)
        message.set(42, "MERCHANT0000001")
        message.set(49, "978")
        message.set(52, bytes: Hex.decode("0123456789ABCDEF")!)
        return message
    }

    /// A 1993 purchase made from a 1987 one: MTI 1200, DE 12 as YYMMDDhhmmss, no DE 13. No DE 22
    /// either: the 1993 POS data code (an12) has no place in the 1987 POS entry mode (n3).
    static func purchase1993(_ purchase: ISO8583Message) -> ISO8583Message {
        var request = purchase
        request.mti = MTI("1200")!
        request.set(12, "261121103000")
        request.remove(13)
        request.remove(22)
        return request
    }

    static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// Rules sending everything to `channels` in order.
    static func rules(_ channels: [String], extraRules: String = "") -> String {
        """
        channels: [\(channels.joined(separator: ", "))]
        rules:
        \(extraRules.isEmpty ? "  []" : extraRules)
        default: {route: [\(channels.joined(separator: ", "))]}
        """
    }
}
