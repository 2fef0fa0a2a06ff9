import ArgumentParser
import Dispatch
import Foundation
import Logging
import Transport

/// `payswitch transport`: the transport layer on its own, for benchmarks and diagnosis.
struct TransportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport",
        abstract: "Run the transport layer alone: an echo server (drive it with `payswitch sim pos`).",
        subcommands: [Echo.self])
}

/// Framing and TLS options shared by the transport commands.
struct TransportOptions: ParsableArguments {
    @Option(help: "Framing preset: \(FrameFormat.presets.map(\.0).joined(separator: ", ")).") var framing = "bin2"
    @Option(help: "Event loops (serial queues); default one per core but one (at least one).") var loops = EventLoopGroup.defaultCount
    @OptionGroup var tls: TLSOptions

    func format() throws -> FrameFormat {
        guard let format = FrameFormat.preset(named: framing) else {
            throw ValidationError("unknown framing '\(framing)'; presets: \(FrameFormat.presets.map(\.0).joined(separator: ", "))")
        }
        return format
    }
}

/// TLS for a server or a client: certificate, key, CA, and the name a server must carry.
struct TLSOptions: ParsableArguments {
    @Option(help: "PEM certificate chain (server) or client certificate (mutual TLS).") var tlsCert: String?
    @Option(help: "PEM private key for --tls-cert.") var tlsKey: String?
    @Option(help: "PEM CA: for a server, require client certificates from it; for a client, trust it.") var tlsCa: String?
    @Option(help: "Client: the name the server certificate must carry.") var tlsServerName = "localhost"
}

/// A listener's limits: safe for an internet-facing port by default, loosened only on purpose.
struct ListenerLimitOptions: ParsableArguments {
    @Option(help: "Connections held at once from one address.")
    var maxConnectionsPerAddress = ListenerOptions.defaultMaximumConnectionsPerAddress
    @Option(help: "Connections held at once.") var maxConnections = ListenerOptions().maximumConnections
    @Option(help: "Seconds without traffic before a connection is closed (0: never).")
    var idleTimeout = Double(ConnectionOptions.defaultIdleTimeout.components.seconds)
    @Option(help: "Seconds a TLS handshake may take (0: no limit).")
    var handshakeTimeout = Double(ConnectionOptions.defaultHandshakeTimeout.components.seconds)

    func validate() throws {
        guard maxConnectionsPerAddress > 0, maxConnections > 0 else { throw ValidationError("connection limits must be at least 1") }
        guard idleTimeout >= 0, handshakeTimeout >= 0, idleTimeout.isFinite, handshakeTimeout.isFinite else {
            throw ValidationError("timeouts must be 0 or more seconds")
        }
    }

    /// Listener options on `port` with these limits.
    func options(host: String = "127.0.0.1", port: UInt16) -> ListenerOptions {
        var options = ListenerOptions(host: host, port: port, maximumConnections: maxConnections,
                                      maximumConnectionsPerAddress: maxConnectionsPerAddress)
        options.connection.idleTimeout = idleTimeout > 0 ? .milliseconds(Int64(idleTimeout * 1000)) : nil
        options.connection.handshakeTimeout = handshakeTimeout > 0 ? .milliseconds(Int64(handshakeTimeout * 1000)) : nil
        return options
    }
}

/// SIGINT/SIGTERM, watched from before a server starts: Dispatch registers a signal source
/// asynchronously and needs a descriptor for it, so one armed after the listener could come too
/// late for a server whose connections have already taken every descriptor.
final class StopSignal {
    private let done = DispatchSemaphore(value: 0)
    private var watcher: SignalWatcher?

    init() {
        watcher = SignalWatcher { [done] in done.signal() }
    }

    /// Blocks the calling thread until a signal arrives or `seconds` pass.
    func wait(seconds: Double?) {
        if let seconds {
            _ = done.wait(timeout: .now() + seconds)
        } else {
            done.wait()
        }
        watcher?.cancel()
        watcher = nil
    }
}

extension TransportCommand {
    struct Echo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answer every frame with the same payload (MTI 0200 becomes 0210), like ../limit's C echo.")

        @Option(help: "Port on 127.0.0.1 (0: any; printed).") var port: UInt16 = 9101
        @Option(help: "Stop after this many seconds (default: on SIGINT/SIGTERM).") var seconds: Double?
        @OptionGroup var transport: TransportOptions
        @OptionGroup var limits: ListenerLimitOptions

        func run() throws {
            let stop = StopSignal()
            let format = try transport.format()
            let tls = try transport.serverTLS()
            let group = EventLoopGroup(count: transport.loops)
            let listener = Listener(group: group, format: format, tls: tls, options: limits.options(port: port),
                                    logger: Logger(label: "payswitch.echo")) { _ in EchoHandler.handlers() }
            let bound = try listener.start()
            // Unbuffered, so a script reading the port sees it at once.
            FileHandle.standardOutput.write(Data("echo listening on 127.0.0.1:\(bound) framing \(format) tls \(tls != nil) loops \(transport.loops)\n".utf8))
            stop.wait(seconds: seconds)
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
