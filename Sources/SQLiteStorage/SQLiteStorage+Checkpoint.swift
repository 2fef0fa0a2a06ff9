import Dispatch
internal import GRDB

extension SQLiteStorage {
    /// Copies the write-ahead log into the database on its own connection and thread, every
    /// `interval`: SQLite would otherwise checkpoint inside a commit of the switch's writer, and
    /// every answer waiting on that commit would wait for the copy and its sync too (tens of
    /// milliseconds on this kind of machine).
    final class Checkpointer: @unchecked Sendable {
        private let connection: DatabaseQueue
        private let timer: any DispatchSourceTimer

        init(path: String, interval: DispatchTimeInterval) throws {
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            connection = try DatabaseQueue(path: path, configuration: configuration)
            timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "payswitch.storage.checkpoint", qos: .utility))
            timer.schedule(deadline: .now() + interval, repeating: interval)
            timer.setEventHandler { [connection] in
                // Passive: never blocks the writer; what it cannot copy now it copies next time.
                _ = try? connection.writeWithoutTransaction { try $0.checkpoint(.passive) }
            }
            timer.resume()
        }

        deinit { timer.cancel() }
    }
}
