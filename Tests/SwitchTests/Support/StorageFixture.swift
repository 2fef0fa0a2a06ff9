import ClusterStorage
import Foundation
import SQLiteStorage
import SecurityModule
import Switch
import Synchronization
import TestSupport
import Testing

/// The stores the storage tests run against.
enum StorageBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A store (SQLite in a fresh temporary folder, or a fresh PostgreSQL database on the tests'
/// server) and a data key; ``remove()`` removes the folder.
final class StorageFixture: Sendable {
    let directory: String
    let storage: any SwitchStorage
    let protection: DataProtection
    /// The PostgreSQL database, for the `postgres` backend.
    let url: String?

    /// - Parameter member: The cluster node whose storage it is (`postgres`).
    init(key: [UInt8]? = nil, directory: String? = nil, backend: StorageBackend = .sqlite, url: String? = nil, member: NodeLease? = nil) throws {
        let folder = directory ?? NSTemporaryDirectory() + "payswitch-store-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        self.directory = folder
        switch backend {
        case .sqlite:
            self.url = nil
            storage = try SQLiteStorage(path: folder + "/switch.sqlite")
        case .postgres:
            let url = try url ?? TemporaryPostgres.database("store_" + UUID().uuidString.prefix(8).lowercased())
            self.url = url
            storage = try ClusterStore.switchStorage(url, member: member)
        }
        protection = try DataProtection(key: key ?? StorageFixture.key)
    }

    /// The same store opened again (a restart).
    func reopened() throws -> StorageFixture {
        try StorageFixture(key: StorageFixture.key, directory: directory, backend: url == nil ? .sqlite : .postgres, url: url)
    }

    func remove() {
        (storage as? ClusterStore)?.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Writes claims as one sealed block (what a switch stopped mid-flight leaves).
    @discardableResult
    func claim(_ claims: [Claim]) throws -> Int64? {
        var batch = StorageBatch()
        batch.claims = try ClaimBlock.sealed(claims, protection: protection)
        return try storage.write(batch).claimBlock
    }

    /// Writes journal records as one block, with their messages when given.
    func journal(_ records: [JournalRecord], messages: [(request: [UInt8], answer: [UInt8])]? = nil) throws {
        var builder = JournalBlock.Builder()
        for (index, record) in records.enumerated() {
            builder.append(record, request: messages?[index].request, answer: messages?[index].answer)
        }
        var batch = StorageBatch()
        batch.journal = try builder.finish(protection: protection)
        _ = try storage.write(batch)
    }

    /// A fixed test key (never a real one).
    static let key = [UInt8](repeating: 0x5A, count: 32)
}

/// A storage double: keeps batches in memory, and holds every write while `gate` is closed.
final class GatedStorage: SwitchStorage {
    let gate = Mutex(false)
    let batches = Mutex<[StorageBatch]>([])
    private let nextID = Mutex<Int64>(0)

    func write(_ batch: StorageBatch) throws(StorageError) -> StorageReceipt {
        while gate.withLock({ $0 }) { usleep(1_000) }
        batches.withLock { $0.append(batch) }
        return nextID.withLock { next in
            StorageReceipt(forwardIDs: batch.newForwards.map { _ in next += 1; return next },
                           claimBlock: batch.claims.map { _ in next += 1; return next })
        }
    }

    func pendingForwards() throws(StorageError) -> [ForwardItem] { [] }
    func forwardStates(of transactions: [String]) throws(StorageError) -> [String: ForwardState] { [:] }
    func claimBlocks() throws(StorageError) -> [StoredClaimBlock] { [] }
    func journalBlocks(_ selection: JournalBlockSelection, _ body: (StoredJournalBlock) throws(StorageError) -> Bool) throws(StorageError) {
        let blocks = batches.withLock { $0.compactMap(\.journal) }
        for index in blocks.indices {
            guard try body(StoredJournalBlock(sequence: Int64(index + 1), block: blocks[index])) else { return }
        }
    }
    func lastHostStans() throws(StorageError) -> [String: UInt32] { [:] }
    func bind(keyCheck check: String) throws(StorageError) {}

    /// Every journal record written, in order.
    var records: [JournalRecord] { (try? journal(JournalQuery(limit: .max))) ?? [] }
}
