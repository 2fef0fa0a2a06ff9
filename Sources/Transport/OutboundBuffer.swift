#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The bytes waiting to go out on one connection: a ring buffer flushed with one gathered
/// `sendmsg` (two segments when it wraps), allocated on first use and grown up to a hard limit.
struct OutboundBuffer {
    private var storage: UnsafeMutableRawBufferPointer?
    private var head = 0
    /// Bytes waiting.
    private(set) var count = 0

    var capacity: Int { storage?.count ?? 0 }
    var isEmpty: Bool { count == 0 }

    static let initialCapacity = 4096

    /// Reserves `byteCount` contiguous bytes at the tail and lets `body` write them.
    ///
    /// The ring keeps the reserved region contiguous by growing (and unwrapping) when the tail
    /// segment is too short, so `body` always gets one buffer.
    mutating func append(byteCount: Int, _ body: (UnsafeMutableRawBufferPointer) throws(FramingError) -> Void) throws(FramingError) {
        ensureContiguousTail(byteCount)
        let storage = self.storage!
        let tail = (head + count) & (storage.count - 1)
        try body(UnsafeMutableRawBufferPointer(rebasing: storage[tail..<tail + byteCount]))
        count += byteCount
    }

    /// Appends raw bytes (for TLS ciphertext).
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        try! append(byteCount: bytes.count) { $0.copyMemory(from: bytes) }
    }

    private mutating func ensureContiguousTail(_ needed: Int) {
        if let storage {
            if count == 0 {
                head = 0
                if storage.count >= needed { return }
            } else {
                let tail = (head + count) & (storage.count - 1)
                // Unwrapped, the free run after the data ends at the buffer's end; wrapped, at the head.
                let run = tail > head ? storage.count - tail : (tail < head ? head - tail : 0)
                if run >= needed { return }
            }
        }
        var newCapacity = max(OutboundBuffer.initialCapacity, capacity)
        while newCapacity < count + needed { newCapacity *= 2 }
        if newCapacity == capacity { newCapacity *= 2 }
        let fresh = UnsafeMutableRawBufferPointer.allocate(byteCount: newCapacity, alignment: 16)
        copyOut(into: fresh)
        storage?.deallocate()
        storage = fresh
        head = 0
    }

    /// Copies the waiting bytes, in order, to the start of `target`.
    private func copyOut(into target: UnsafeMutableRawBufferPointer) {
        guard let storage, count > 0 else { return }
        let first = min(count, storage.count - head)
        UnsafeMutableRawBufferPointer(rebasing: target[0..<first]).copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[head..<head + first]))
        if first < count {
            UnsafeMutableRawBufferPointer(rebasing: target[first..<count]).copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[0..<count - first]))
        }
    }

    /// Sends as much as the socket takes in one gathered `sendmsg` with MSG_NOSIGNAL.
    ///
    /// - Returns: Bytes sent (0 when the socket is full), or nil on a fatal error (errno set).
    mutating func flush(to fd: Int32) -> Int? {
        guard let storage, count > 0 else { return 0 }
        let first = min(count, storage.count - head)
        var vectors = (
            iovec(iov_base: storage.baseAddress! + head, iov_len: first),
            iovec(iov_base: storage.baseAddress!, iov_len: count - first)
        )
        let sent: Int = withUnsafeMutableBytes(of: &vectors) { raw in
            var message = msghdr()
            message.msg_iov = raw.baseAddress!.assumingMemoryBound(to: iovec.self)
            message.msg_iovlen = first < count ? 2 : 1
            while true {
                let result = sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                if result >= 0 { return result }
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return 0 }
                return -1
            }
        }
        guard sent >= 0 else { return nil }
        consume(sent)
        return sent
    }

    private mutating func consume(_ byteCount: Int) {
        count -= byteCount
        head = count == 0 ? 0 : (head + byteCount) & (capacity - 1)
        // Give a large buffer back once drained: a burst should not pin memory for the connection's life.
        if count == 0 && capacity > 64 * 1024 {
            storage?.deallocate()
            storage = nil
        }
    }

    /// Hands every waiting byte to `body`, in order (one piece, or two when the ring wraps), and
    /// empties the buffer.
    mutating func drainAll(_ body: (UnsafeRawBufferPointer) -> Void) {
        guard let storage, count > 0 else { return }
        let first = min(count, storage.count - head)
        body(UnsafeRawBufferPointer(rebasing: storage[head..<head + first]))
        if first < count { body(UnsafeRawBufferPointer(rebasing: storage[0..<count - first])) }
        consume(count)
    }

    /// Frees the storage.
    mutating func release() {
        storage?.deallocate()
        storage = nil
        head = 0
        count = 0
    }
}
