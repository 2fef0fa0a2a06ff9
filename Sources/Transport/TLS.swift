internal import COpenSSL
internal import CShims

/// A TLS failure, with OpenSSL's whole error queue at the time it happened.
public struct TLSError: Error, Hashable, CustomStringConvertible, Sendable {
    /// What we were doing, such as `SSL_do_handshake`.
    public let operation: String
    /// Our own words on what failed, such as the certificate verification result.
    public let reason: String
    /// OpenSSL's error queue, oldest first.
    public let stack: [String]

    public var description: String {
        var text = "TLSError: \(operation) failed"
        if !reason.isEmpty { text += ": \(reason)" }
        if !stack.isEmpty { text += " [" + stack.joined(separator: "; ") + "]" }
        return text
    }

    /// Drains OpenSSL's thread-local error queue into an error.
    static func drain(_ operation: String, reason: String = "") -> TLSError {
        var stack: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            stack.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return TLSError(operation: operation, reason: reason, stack: stack)
    }
}

/// What a TLS endpoint presents and what it accepts from its peer.
public struct TLSConfiguration: Sendable, Hashable {
    /// PEM file with our certificate chain (leaf first); required for servers and for mutual TLS clients.
    public var certificateChainFile: String?
    /// PEM file with our private key.
    public var privateKeyFile: String?
    /// PEM file with the CA certificates the peer's chain must lead to. For a server, setting it
    /// turns on mutual TLS: a client without a certificate from this CA is refused.
    public var trustedCAFile: String?
    /// Whether to verify the peer's certificate chain (on by default; off only for tests).
    public var verifyPeer: Bool
    /// The name the server's certificate must carry (client side); also sent as SNI. A verifying
    /// client needs one unless ``allowsAnyServerName`` says otherwise.
    public var serverName: String?
    /// Accept a server certificate for any name (no hostname check): only when explicitly set.
    public var allowsAnyServerName: Bool

    /// A configuration from its parts (configuration files); ``server(certificateChainFile:privateKeyFile:clientCAFile:)``
    /// and ``client(trustedCAFile:serverName:certificateChainFile:privateKeyFile:)`` cover the usual cases.
    public init(certificateChainFile: String? = nil, privateKeyFile: String? = nil, trustedCAFile: String? = nil,
                verifyPeer: Bool = true, serverName: String? = nil, allowsAnyServerName: Bool = false) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.trustedCAFile = trustedCAFile
        self.verifyPeer = verifyPeer
        self.serverName = serverName
        self.allowsAnyServerName = allowsAnyServerName
    }

    /// A server: presents a chain, and asks for client certificates when `clientCAFile` is set.
    public static func server(certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil) -> TLSConfiguration {
        TLSConfiguration(certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile,
                         trustedCAFile: clientCAFile, verifyPeer: clientCAFile != nil, serverName: nil)
    }

    /// A client: verifies the server's chain against `trustedCAFile` and its name against `serverName`;
    /// presents a chain of its own for mutual TLS when given.
    public static func client(trustedCAFile: String, serverName: String, certificateChainFile: String? = nil,
                              privateKeyFile: String? = nil) -> TLSConfiguration {
        TLSConfiguration(certificateChainFile: certificateChainFile, privateKeyFile: privateKeyFile,
                         trustedCAFile: trustedCAFile, verifyPeer: true, serverName: serverName)
    }
}

/// An OpenSSL `SSL_CTX` built from a ``TLSConfiguration``: TLS 1.2 and 1.3 only, renegotiation and
/// compression off, chain and hostname verification on.
public final class TLSContext: @unchecked Sendable {
    // SSL_CTX is reference counted and safe to share once configured; nothing mutates it after init.
    let context: OpaquePointer
    /// Whether connections made with this context are the client side.
    public let isClient: Bool
    let serverName: String?

    /// Builds the context; fails with the OpenSSL error queue when a file is missing or does not match.
    public init(_ configuration: TLSConfiguration, isClient: Bool) throws(TLSError) {
        guard let context = SSL_CTX_new(isClient ? TLS_client_method() : TLS_server_method()) else {
            throw TLSError.drain("SSL_CTX_new")
        }
        self.context = context
        self.isClient = isClient
        self.serverName = configuration.serverName
        if isClient && configuration.verifyPeer && configuration.serverName == nil && !configuration.allowsAnyServerName {
            throw TLSError(operation: "TLSContext", reason: "a verifying client needs a server name to check the certificate against "
                           + "(set allowsAnyServerName to skip the hostname check)", stack: [])
        }
        guard CShims_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1,
              CShims_SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION) == 1 else {
            throw TLSError.drain("SSL_CTX_set_min_proto_version")
        }
        _ = SSL_CTX_set_options(context, CShims_SSL_OP_hardening())
        CShims_SSL_CTX_release_buffers(context)
        if let chain = configuration.certificateChainFile {
            guard SSL_CTX_use_certificate_chain_file(context, chain) == 1 else {
                throw TLSError.drain("SSL_CTX_use_certificate_chain_file", reason: chain)
            }
        }
        if let key = configuration.privateKeyFile {
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1, SSL_CTX_check_private_key(context) == 1 else {
                throw TLSError.drain("SSL_CTX_use_PrivateKey_file", reason: key)
            }
        }
        if let ca = configuration.trustedCAFile {
            guard SSL_CTX_load_verify_locations(context, ca, nil) == 1 else {
                throw TLSError.drain("SSL_CTX_load_verify_locations", reason: ca)
            }
            if !isClient, let names = SSL_load_client_CA_file(ca) { SSL_CTX_set_client_CA_list(context, names) }
        }
        if configuration.verifyPeer {
            let mode = isClient ? SSL_VERIFY_PEER : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
            SSL_CTX_set_verify(context, mode, nil)
        }
        // Every failure below `self.context = context` leaves the freeing to deinit, which Swift runs
        // when a fully initialised instance throws out of its initialiser.
        if !isClient && configuration.certificateChainFile == nil {
            throw TLSError(operation: "TLSContext", reason: "a server needs a certificate chain and a private key", stack: [])
        }
    }

    deinit { SSL_CTX_free(context) }

    /// A session for one connection.
    func makeSession() throws(TLSError) -> TLSSession { try TLSSession(context: self) }
}

/// One connection's TLS state over two memory BIOs: ciphertext read from the socket is written into
/// `input`, ciphertext OpenSSL produces is taken from `output`; OpenSSL never touches the socket.
final class TLSSession {
    private let ssl: OpaquePointer
    private let input: OpaquePointer
    private let output: OpaquePointer
    let isClient: Bool
    private(set) var isHandshakeComplete = false

    init(context: TLSContext) throws(TLSError) {
        guard let ssl = SSL_new(context.context) else { throw TLSError.drain("SSL_new") }
        let input = BIO_new(BIO_s_mem())
        let output = BIO_new(BIO_s_mem())
        guard let input, let output else {
            // Not yet owned by the SSL, and deinit will not run: free what was made.
            if let input { BIO_free(input) }
            if let output { BIO_free(output) }
            SSL_free(ssl)
            throw TLSError.drain("BIO_new")
        }
        self.ssl = ssl
        self.input = input
        self.output = output
        self.isClient = context.isClient
        SSL_set_bio(ssl, input, output)  // the SSL now owns both BIOs
        if context.isClient {
            if let name = context.serverName {
                guard CShims_SSL_set_tlsext_host_name(ssl, name) == 1, SSL_set1_host(ssl, name) == 1 else {
                    // Fully initialised: deinit frees the SSL (and its BIOs).
                    throw TLSError.drain("SSL_set1_host", reason: name)
                }
            }
            SSL_set_connect_state(ssl)
        } else {
            SSL_set_accept_state(ssl)
        }
    }

    deinit { SSL_free(ssl) }

    /// Passes ciphertext from the socket to OpenSSL.
    func feed(_ bytes: UnsafeRawBufferPointer) throws(TLSError) {
        guard !bytes.isEmpty else { return }
        let written = BIO_write(input, bytes.baseAddress, Int32(bytes.count))
        guard written == Int32(bytes.count) else { throw TLSError.drain("BIO_write") }
    }

    /// Advances the handshake; true once it is complete.
    func handshake() throws(TLSError) -> Bool {
        guard !isHandshakeComplete else { return true }
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            isHandshakeComplete = true
            return true
        }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return false }
        var reason = ""
        let verify = SSL_get_verify_result(ssl)
        if verify != X509_V_OK, let text = X509_verify_cert_error_string(verify) {
            reason = "certificate verification: " + String(cString: text)
        }
        throw TLSError.drain("SSL_do_handshake", reason: reason)
    }

    /// Decrypts everything available, handing each piece of plaintext to `body`; true when the
    /// peer has sent close_notify (a clean end, like EOF on a plain socket).
    func readPlaintext(into buffer: UnsafeMutableRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) throws(TLSError) -> Bool {
        while true {
            ERR_clear_error()
            let count = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
            if count > 0 {
                body(UnsafeRawBufferPointer(rebasing: buffer[0..<Int(count)]))
                continue
            }
            let error = SSL_get_error(ssl, count)
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return false
            case SSL_ERROR_ZERO_RETURN: return true
            default: throw TLSError.drain("SSL_read")
            }
        }
    }

    /// Encrypts plaintext into the output BIO.
    func write(_ plaintext: UnsafeRawBufferPointer) throws(TLSError) {
        guard !plaintext.isEmpty else { return }
        ERR_clear_error()
        let written = SSL_write(ssl, plaintext.baseAddress, Int32(plaintext.count))
        guard written == Int32(plaintext.count) else { throw TLSError.drain("SSL_write") }
    }

    /// Whether ciphertext waits to be sent.
    var hasPendingOutput: Bool { BIO_ctrl_pending(output) > 0 }

    /// Moves produced ciphertext out, in pieces, to `body`.
    func drainCiphertext(_ body: (UnsafeRawBufferPointer) -> Void) {
        withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 16) { chunk in
            while BIO_ctrl_pending(output) > 0 {
                let count = BIO_read(output, chunk.baseAddress, Int32(chunk.count))
                guard count > 0 else { return }
                body(UnsafeRawBufferPointer(rebasing: chunk[0..<Int(count)]))
            }
        }
    }

    /// Queues a close_notify alert.
    func shutdown() {
        guard isHandshakeComplete else { return }
        _ = SSL_shutdown(ssl)
    }
}
