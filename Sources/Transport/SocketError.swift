#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A failed system call: which call, and errno.
public struct SocketError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The system call, such as `connect`.
    public let call: String
    /// The errno value.
    public let code: Int32

    public init(_ call: String, errno code: Int32) {
        self.call = call
        self.code = code
    }

    /// The failure of `call`, with the current errno.
    init(_ call: String) { self.init(call, errno: errno) }

    public var description: String { "\(call) failed: \(String(cString: strerror(code))) (errno \(code))" }
}
