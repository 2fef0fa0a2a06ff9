import Dispatch
import Synchronization

/// A frame for a connection of a loop, handed over from another thread.
struct HandedOverFrame {
    let connection: Connection
    let payload: [UInt8]
    /// The header to send (nil: the format's default), or the received header a reply answers.
    let header: [UInt8]?
    /// Whether `header` is a received header to answer (a TPDU is swapped) rather than one to send.
    let isReply: Bool
}

extension EventLoop {
    /// Whether the caller runs on this loop's queue.
    public var isCurrent: Bool { DispatchQueue.getSpecific(key: EventLoop.specificKey) == identity }

    /// Ends one (possibly nested) event; the outermost flushes the connections appended to in it.
    func endEvent() {
        eventDepth -= 1
        guard eventDepth == 0, !pendingFlush.isEmpty else { return }
        var flushing: [Connection] = []
        swap(&flushing, &flushSpare)
        swap(&flushing, &pendingFlush)
        // With the depth at 0, anything appended while flushing (a writability callback) is written at once.
        for connection in flushing { connection.flushQueued() }
        flushing.removeAll(keepingCapacity: true)
        flushSpare = flushing
    }

    /// Queues a frame from another thread: frames handed over before the queue runs them go in one
    /// hop and one write per connection, not a block and a `sendmsg` each.
    func hand(_ frame: HandedOverFrame) {
        let first = inbox.withLock { list in
            list.append(frame)
            return list.count == 1
        }
        if first { queue.async { [self] in drainInbox() } }
    }

    private func drainInbox() {
        dispatchPrecondition(condition: .onQueue(queue))
        var batch: [HandedOverFrame] = []
        // The spare is moved out first, so the buffer swapped into the lock is referenced only there.
        swap(&batch, &inboxSpare)
        inbox.withLock { swap(&$0, &batch) }
        eventDepth += 1
        for frame in batch { frame.connection.sendHandedOver(frame) }
        batch.removeAll(keepingCapacity: true)
        inboxSpare = batch
        endEvent()
    }
}
