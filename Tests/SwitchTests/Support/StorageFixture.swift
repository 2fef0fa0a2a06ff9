import Foundation
import SQLiteStorage
import SecurityModule
import Switch
import Synchronization

/// A SQLite store and a data key in a fresh temporary folder, removed by ``remove()``.
final class StorageFixture: Sendable {
    let directory: String
    let storage: any SwitchStorage
    let protection: DataProtection
    let sqlite: SQLiteStorage

    init(key: [UInt8]? = nil, directory: String? = nil) throws {
        let folder = directory ?? NSTemporaryDirectory() + "payswitch-store-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        self.directory = folder
        sqlite = try SQLiteStorage(path: folder + "/switch.sqlite")
        storage = sqlite
        protection = try DataProtection(key: key ?? StorageFixture.key)
    }

    /// The same store opened again (a restart).
    func reopened() throws -> StorageFixture { try StorageFixture(key: StorageFixture.key, directory: directory) }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// A fixed test key (never a real one).
    static let key = [UInt8](repeating: 0x5A, count: 32)
}

/// A storage double: keeps batches in memory, and holds every write while `gate` is closed.
final class GatedStorage: SwitchStorage {
    let gate = Mutex(false)
    let batches = Mutex<[StorageBatch]>([])
    private let nextID = Mutex<Int64>(0)

    func write(_ batch: StorageBatch) throws(StorageError) -> [Int64] {
        while gate.withLock({ $0 }) { usleep(1_000) }
        batches.withLock { $0.append(batch) }
        return nextID.withLock { next in batch.newForwards.map { _ in next += 1; return next } }
    }

    func pendingForwards() throws(StorageError) -> [ForwardItem] { [] }
    func openClaims() throws(StorageError) -> [Claim] { [] }
    func lastHostStans() throws(StorageError) -> [String: UInt32] { [:] }
    func journal(_ query: JournalQuery) throws(StorageError) -> [JournalRecord] { [] }
    func journalStats(_ query: JournalQuery) throws(StorageError) -> [JournalCount] { [] }
    func bind(keyCheck check: String) throws(StorageError) {}

    var records: [JournalRecord] { batches.withLock { $0.flatMap(\.journal) } }
}
