import Dispatch
import Synchronization

extension AdminServer {
    /// ``start()`` for callers without an async context (a CLI's synchronous `run()`): blocks the
    /// calling thread until the server listens or fails, and returns the bound port.
    ///
    /// It parks the thread on a semaphore while a task does the work; that is acceptable here
    /// because it happens once at start-up, off the data path. Never call it from async code: it
    /// would hold one of the few cooperative threads the start-up itself needs.
    @available(*, noasync, message: "use start() from async code")
    public func startBlocking() throws -> Int {
        let result = Self.waitFor { try await self.start() }
        return try result.get()
    }

    /// ``stop()`` for callers without an async context: blocks until the server has shut down.
    @available(*, noasync, message: "use stop() from async code")
    public func stopBlocking() {
        _ = Self.waitFor { await self.stop() }
    }

    /// Runs `operation` in a new task and blocks the calling thread until it finishes.
    private static func waitFor<Value: Sendable>(
        _ operation: @escaping @Sendable () async throws -> Value
    ) -> Result<Value, any Error> {
        let outcome = Outcome<Value>()
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<Value, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            outcome.result.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        // The task stored the result before signalling.
        return outcome.result.withLock { $0! }
    }
}

/// The result of a task handed to a blocked thread (a `Mutex` cannot be captured by the escaping task itself).
private final class Outcome<Value: Sendable>: Sendable {
    let result = Mutex<Result<Value, any Error>?>(nil)
}
