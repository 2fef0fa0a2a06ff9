public import SpecFiles
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Reconciler {
    /// The longest line read accepts: a guard against a file without line breaks.
    public static let maximumLineLength = 1 << 20

    /// Streams the host's file in chunks of `chunkSize` bytes, line by line (`\n` or `\r\n`; a
    /// last line without a break counts). Lines are split in the read buffer; a line cut by a
    /// chunk's end is moved to the buffer's start and completed by the next read.
    public mutating func read(file path: String, chunkSize: Int = 64 * 1024) throws(ReconciliationError) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw ReconciliationError(file: path, line: 0, column: 0, message: "cannot open the file: \(Self.systemError())")
        }
        defer { close(descriptor) }
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(chunkSize, 1), alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0  // bytes of an unfinished line at the buffer's start
        var lineNumber = 0
        while true {
            if filled == buffer.count {
                // One line fills the buffer: grow it, within reason.
                guard buffer.count < Self.maximumLineLength else {
                    throw ReconciliationError(file: path, line: lineNumber + 1, column: 0,
                                              message: "the line is longer than \(Self.maximumLineLength) bytes")
                }
                let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: min(buffer.count * 2, Self.maximumLineLength), alignment: 16)
                larger.copyMemory(from: UnsafeRawBufferPointer(buffer))
                buffer.deallocate()
                buffer = larger
            }
            let got = systemRead(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
            if got < 0 {
                if errno == EINTR { continue }
                throw ReconciliationError(file: path, line: lineNumber + 1, column: 0, message: "cannot read the file: \(Self.systemError())")
            }
            if got == 0 {
                if filled > 0 {
                    lineNumber += 1
                    try consume(line: UnsafeRawBufferPointer(rebasing: buffer[..<filled]), number: lineNumber, file: path)
                }
                return
            }
            let end = filled + got
            var start = 0
            var cursor = filled  // bytes before it hold no line break
            while cursor < end, let found = memchr(buffer.baseAddress! + cursor, 0x0A, end - cursor) {
                let breakAt = buffer.baseAddress!.distance(to: found)
                lineNumber += 1
                try consume(line: UnsafeRawBufferPointer(rebasing: buffer[start..<breakAt]), number: lineNumber, file: path)
                start = breakAt + 1
                cursor = start
            }
            filled = end - start
            if filled > 0 && start > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + start, filled) }
        }
    }

    private static func systemError() -> String { String(cString: strerror(errno)) }
}

/// read(2), named apart from ``Reconciler/read(file:chunkSize:)``.
@inline(__always)
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
