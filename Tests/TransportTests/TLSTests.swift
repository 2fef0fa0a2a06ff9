import Foundation
import TestSupport
import Testing
import Transport

/// TLS over memory BIOs: what must succeed and what must be refused.
@Suite(.serialized)
struct TLSTests {
    let group = EventLoopGroup(count: 2)

    func server(chain: String = "server.pem", key: String = "server.key", clientCA: String? = nil) throws -> TLSContext {
        try TLSContext(.server(certificateChainFile: TestCertificates.path(chain), privateKeyFile: TestCertificates.path(key),
                               clientCAFile: clientCA.map(TestCertificates.path)), isClient: false)
    }

    func client(serverName: String = "localhost", withCertificate: Bool = false) throws -> TLSContext {
        try TLSContext(.client(trustedCAFile: TestCertificates.path("ca.pem"), serverName: serverName,
                               certificateChainFile: withCertificate ? TestCertificates.path("client.pem") : nil,
                               privateKeyFile: withCertificate ? TestCertificates.path("client.key") : nil), isClient: true)
    }

    /// Connects, sends three frames, and returns what the client saw.
    func exchange(serverTLS: TLSContext, clientTLS: TLSContext) throws -> (client: Observed, server: Observed) {
        let server = try EchoServer(group: group, format: .bin2, tls: serverTLS)
        defer { server.listener.stop() }
        let observed = Observed()
        let connection = try Connection.connect(host: "127.0.0.1", port: server.port, loop: group.nextLoop(), format: .bin2,
                                                tls: clientTLS, timeout: .seconds(5), handlers: observed.handlers(echo: false))
        _ = eventually { observed.activeCount == 1 || !observed.closes.isEmpty }
        if observed.activeCount == 1 {
            connection.execute { connection in
                for text in ["one", "two", String(repeating: "three", count: 5000)] {
                    Array(text.utf8).withUnsafeBytes { try? connection.send(payload: $0) }
                }
            }
            _ = eventually { observed.frames.count == 3 || !observed.closes.isEmpty }
            connection.execute { $0.close() }
        }
        _ = eventually { !observed.closes.isEmpty && !server.observed.closes.isEmpty }
        return (observed, server.observed)
    }

    @Test func handshakeAndEchoSucceed() throws {
        let (client, server) = try exchange(serverTLS: try server(), clientTLS: try client())
        #expect(client.activeCount == 1)
        #expect(client.frames.map { String(decoding: $0, as: UTF8.self) } == ["one", "two", String(repeating: "three", count: 5000)])
        #expect(server.frames.count == 3)
        // The client's close sends close_notify: a clean end for the server, like EOF, not a TLS failure.
        #expect(server.closes == [.peerClosed])
    }

    @Test func mutualTLSSucceedsWithAClientCertificate() throws {
        let (client, _) = try exchange(serverTLS: try server(clientCA: "ca.pem"), clientTLS: try client(withCertificate: true))
        #expect(client.frames.count == 3)
    }

    @Test func certificateFromAnotherCAIsRefused() throws {
        let (client, server) = try exchange(serverTLS: try server(chain: "rogue-server.pem", key: "rogue-server.key"), clientTLS: try client())
        #expect(client.activeCount == 0)
        #expect(server.frames.isEmpty)
        guard case .tls(let error)? = client.closes.first else {
            Issue.record("expected a TLS failure, got \(client.closes)")
            return
        }
        #expect(error.reason.contains("certificate verification"))
        #expect(!error.stack.isEmpty)
    }

    @Test func wrongHostnameIsRefused() throws {
        let (client, _) = try exchange(serverTLS: try server(), clientTLS: try client(serverName: "issuer.example.com"))
        #expect(client.activeCount == 0)
        guard case .tls(let error)? = client.closes.first else {
            Issue.record("expected a TLS failure, got \(client.closes)")
            return
        }
        #expect(error.reason.contains("hostname mismatch"))
    }

    @Test func clientWithoutCertificateIsRefusedUnderMutualTLS() throws {
        let (client, server) = try exchange(serverTLS: try server(clientCA: "ca.pem"), clientTLS: try client(withCertificate: false))
        #expect(server.frames.isEmpty)
        #expect(client.frames.isEmpty)
        guard case .tls(let error)? = server.closes.first else {
            Issue.record("expected the server to refuse with a TLS error, got \(server.closes)")
            return
        }
        #expect(error.description.contains("certificate"))
    }

    @Test func tls11IsRefused() throws {
        // An independent peer: the openssl command line, forced to offer TLS 1.1 only.
        let server = try EchoServer(group: group, format: .bin2, tls: try server())
        defer { server.listener.stop() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0",
                             "-CAfile", TestCertificates.path("ca.pem")]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = Pipe()
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(text.contains("alert protocol version"))
        #expect(eventually { !server.observed.closes.isEmpty })
        guard case .tls(let error)? = server.observed.closes.first else {
            Issue.record("expected a TLS failure, got \(server.observed.closes)")
            return
        }
        #expect(error.description.contains("protocol"))
    }

    @Test func serverWithoutACertificateChainIsRefusedRepeatedly() {
        // Each failure frees its context exactly once (repeating it would trip a double free).
        for _ in 0..<50 {
            #expect(throws: TLSError.self) {
                try TLSContext(TLSConfiguration(certificateChainFile: nil, privateKeyFile: nil, trustedCAFile: nil,
                                                verifyPeer: false, serverName: nil), isClient: false)
            }
        }
    }

    @Test func missingKeyFileGivesTheOpenSSLErrorQueue() {
        #expect {
            try TLSContext(.server(certificateChainFile: TestCertificates.path("server.pem"), privateKeyFile: "/nonexistent.key"), isClient: false)
        } throws: { error in
            guard let error = error as? TLSError else { return false }
            return error.operation == "SSL_CTX_use_PrivateKey_file" && !error.stack.isEmpty
        }
    }
}
