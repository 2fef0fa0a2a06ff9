import ArgumentParser
import Dispatch
import Foundation
import ISO8583
import Logging
import Synchronization
import Transport

/// `payswitch transport`: the transport layer on its own, for benchmarks and diagnosis.
struct TransportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport",
        abstract: "Run the transport layer alone: an echo server and a load generator.",
        subcommands: [Echo.self, Load.self])
}

/// Framing and TLS options shared by the transport commands.
struct TransportOptions: ParsableArguments {
    @Option(help: "Framing preset: \(FrameFormat.presets.map(\.0).joined(separator: ", ")).") var framing = "bin2"
    @Option(help: "Event loops (serial queues); default one per core.") var loops = EventLoopGroup.defaultCount
    @Option(help: "PEM certificate chain (server) or client certificate (mutual TLS).") var tlsCert: String?
    @Option(help: "PEM private key for --tls-cert.") var tlsKey: String?
    @Option(help: "PEM CA: for a server, require client certificates from it; for a client, trust it.") var tlsCa: String?
    @Option(help: "Client: the name the server certificate must carry.") var tlsServerName = "localhost"

    func format() throws -> FrameFormat {
        guard let format = FrameFormat.preset(named: framing) else {
            throw ValidationError("unknown framing '\(framing)'; presets: \(FrameFormat.presets.map(\.0).joined(separator: ", "))")
        }
        return format
    }
}

/// Blocks the calling thread until SIGINT/SIGTERM or the deadline.
func waitForSignalOrDeadline(seconds: Double?) {
    let done = DispatchSemaphore(value: 0)
    let queue = DispatchQueue(label: "payswitch.signals")
    var sources: [any DispatchSourceSignal] = []
    for number in [SIGINT, SIGTERM] {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
        source.setEventHandler { done.signal() }
        source.activate()
        sources.append(source)
    }
    if let seconds {
        _ = done.wait(timeout: .now() + seconds)
    } else {
        done.wait()
    }
    for source in sources { source.cancel() }
}

extension TransportCommand {
    struct Echo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answer every frame with the same payload (MTI 0200 becomes 0210), like ../limit's C echo.")

        @Option(help: "Port on 127.0.0.1 (0: any; printed).") var port: UInt16 = 9101
        @Option(help: "Stop after this many seconds (default: on SIGINT/SIGTERM).") var seconds: Double?
        @OptionGroup var transport: TransportOptions

        func run() throws {
            let format = try transport.format()
            var tls: TLSContext? = nil
            if let cert = transport.tlsCert, let key = transport.tlsKey {
                tls = try TLSContext(.server(certificateChainFile: cert, privateKeyFile: key, clientCAFile: transport.tlsCa), isClient: false)
            }
            let group = EventLoopGroup(count: transport.loops)
            let listener = Listener(group: group, format: format, tls: tls, options: ListenerOptions(port: port),
                                    logger: Logger(label: "payswitch.echo")) { _ in EchoHandler.handlers() }
            let bound = try listener.start()
            // Unbuffered, so a script reading the port sees it at once.
            FileHandle.standardOutput.write(Data("echo listening on 127.0.0.1:\(bound) framing \(format) tls \(tls != nil) loops \(transport.loops)\n".utf8))
            waitForSignalOrDeadline(seconds: seconds)
            listener.stop()
        }
    }
}

/// Echo handlers: the payload back, with the MTI's function digit turned into a response.
enum EchoHandler {
    static func handlers() -> Connection.Handlers {
        Connection.Handlers(onFrame: { connection, frame in
            withUnsafeTemporaryAllocation(byteCount: frame.payload.count, alignment: 1) { copy in
                copy.copyMemory(from: frame.payload)
                if copy.count >= 4, (0x30...0x38).contains(copy[2]) { copy[2] += 1 }
                connection.reply(payload: UnsafeRawBufferPointer(copy), to: frame.header)
            }
        })
    }
}

extension TransportCommand {
    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Closed-loop load: CONNECTIONS x WINDOW frames in flight for SECONDS; prints messages/s and latency.")

        @Option(help: "Port on 127.0.0.1.") var port: UInt16 = 9101
        @Option(help: "Connections.") var connections = 8
        @Option(help: "Frames in flight per connection.") var window = 16
        @Option(help: "Seconds to run.") var seconds: Double = 3
        @Option(help: "The payload as hex (default: the sample 0200 in iso87ascii).") var template: String?
        @Option(help: "Offset of a 6-digit ASCII STAN made unique per message (-1: none).") var stanOffset = -1
        @OptionGroup var transport: TransportOptions

        func run() throws {
            let format = try transport.format()
            var tls: TLSContext? = nil
            if let ca = transport.tlsCa {
                tls = try TLSContext(.client(trustedCAFile: ca, serverName: transport.tlsServerName,
                                             certificateChainFile: transport.tlsCert, privateKeyFile: transport.tlsKey), isClient: true)
            }
            let payload = template.flatMap { Hex.decode($0) } ?? LoadGenerator.sample0200
            let result = try LoadGenerator(port: port, format: format, tls: tls, connections: connections, window: window,
                                           payload: payload, stanOffset: stanOffset, loops: transport.loops).run(seconds: seconds)
            print(result)
            if result.errors > 0 || result.completed == 0 { throw ExitCode(1) }
        }
    }
}
