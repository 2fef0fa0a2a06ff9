public import Dispatch
import Synchronization

/// A small fixed set of serial queues (one per core but one) that drive every connection.
///
/// Each connection is pinned to one loop for its life; its sources, timers and state live on that
/// loop's queue. Each loop owns one read buffer shared by its connections, so an idle connection
/// holds no buffer at all.
public final class EventLoopGroup: Sendable {
    /// The loops.
    public let loops: [EventLoop]
    private let next = Atomic<Int>(0)

    /// Creates `count` loops (default: one per active processor).
    public init(count: Int = EventLoopGroup.defaultCount) {
        loops = (0..<max(1, count)).map { EventLoop(index: $0) }
        _ = Socket.ignoreSIGPIPE
    }

    /// One loop per processor but one (at least one): libdispatch's event thread takes part in every
    /// read event on Linux (epoll, FIONREAD, disarm and re-arm), so it needs a core of its own. On
    /// 2 cores, one loop answered 80–88k requests/s with p99 3.0–3.8 ms where two loops answered
    /// 71–74k with p99 5.6–6.3 ms (tools/bench/responder.sh's load, Benchmarks/README.md).
    public static var defaultCount: Int { max(1, System.activeProcessorCount - 1) }

    /// The next loop, round robin.
    public func nextLoop() -> EventLoop {
        loops[next.add(1, ordering: .relaxed).oldValue % loops.count]
    }
}

/// One serial queue and the state its connections share.
public final class EventLoop: @unchecked Sendable {
    // Invariant: everything below `queue` is touched only on `queue` (checked with dispatchPrecondition).

    /// The serial queue every connection of this loop runs on.
    public let queue: DispatchQueue
    /// The read buffer: each read event reads into it, and frames are handled in place.
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Connections with an idle timeout, swept by one timer per loop instead of one timer each.
    var idleWatched: [ObjectIdentifier: Connection] = [:]
    private var plaintextStorage: UnsafeMutableRawBufferPointer?

    /// Where TLS connections of this loop decrypt into; allocated by the first one.
    var plaintextBuffer: UnsafeMutableRawBufferPointer {
        if let plaintextStorage { return plaintextStorage }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16)
        plaintextStorage = buffer
        return buffer
    }
    var sweeper: (any DispatchSourceTimer)?
    /// Nesting depth of the events running now; while above 0, a frame appended to a connection
    /// outside its own event is written once, when the outermost event ends (``pendingFlush``).
    var eventDepth = 0
    /// Connections with frames appended in the current event, written when it ends.
    var pendingFlush: [Connection] = []
    var flushSpare: [Connection] = []
    /// Frames handed over from other threads, sent in one queue hop per batch.
    let inbox = Mutex<[HandedOverFrame]>([])
    var inboxSpare: [HandedOverFrame] = []
    /// This loop's mark on its queue, read back by ``isCurrent``.
    let identity: Int
    /// This loop's position in its group's ``EventLoopGroup/loops``: an index for per-loop state.
    public let index: Int

    static let readBufferSize = 64 * 1024
    static let specificKey = DispatchSpecificKey<Int>()
    private static let identities = Atomic<Int>(0)

    init(index: Int) {
        self.index = index
        queue = DispatchQueue(label: "payswitch.loop.\(index)")
        readBuffer = .allocate(byteCount: EventLoop.readBufferSize, alignment: 16)
        identity = EventLoop.identities.add(1, ordering: .relaxed).newValue
        queue.setSpecific(key: EventLoop.specificKey, value: identity)
    }

    deinit {
        sweeper?.cancel()
        readBuffer.deallocate()
        plaintextStorage?.deallocate()
    }

    /// Watches `connection` for idleness (on the loop's queue).
    func watchIdle(_ connection: Connection) {
        dispatchPrecondition(condition: .onQueue(queue))
        idleWatched[ObjectIdentifier(connection)] = connection
        guard sweeper == nil else { return }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + .milliseconds(250), repeating: .milliseconds(250), leeway: .milliseconds(50))
        timer.setEventHandler { [unowned self] in sweepIdle() }
        timer.activate()
        sweeper = timer
    }

    func unwatchIdle(_ connection: Connection) {
        dispatchPrecondition(condition: .onQueue(queue))
        idleWatched.removeValue(forKey: ObjectIdentifier(connection))
    }

    private func sweepIdle() {
        let now = DispatchTime.now().uptimeNanoseconds
        for connection in idleWatched.values where connection.isIdle(now: now) {
            connection.close(reason: .idleTimeout)
        }
    }
}

/// Processor count without Foundation.
enum System {
    static var activeProcessorCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}

#if canImport(Glibc)
@preconcurrency import Glibc
#endif
