import Foundation
import SQLiteStorage
import SecurityModule
import Switch
import Testing

/// The embedded store: batches in one transaction, what survives a reopen, the key check, queries.
@Suite struct SQLiteStorageTests {
    static func record(_ id: String, stan: String, started: Int64, outcome: String = "approved", channel: String = "issuer") -> JournalRecord {
        var record = JournalRecord(id: id, started: started, listener: "pos", message: "0200", rule: "default", channel: channel,
                                   channelsTried: channel, result: 0, outcome: outcome, totalMicros: 1200)
        record.stan = stan
        record.responseCode = outcome == "approved" ? "00" : "91"
        record.maskedPAN = "476173******0119"
        record.panHash = "00112233445566778899aabbccddeeff"
        return record
    }

    @Test func forwardItemsSurviveAReopenUntilAcknowledgedAndRepeatsAreCounted() throws {
        let store = try StorageFixture()
        defer { store.remove() }
        var batch = StorageBatch()
        batch.newForwards = [
            ForwardItem(channel: "issuer", kind: .reversal, transaction: "t-1", sealedMessage: [1, 2, 3], created: 10),
            ForwardItem(channel: "issuer", kind: .advice, transaction: "t-2", sealedMessage: [4], created: 11),
        ]
        let ids = try store.storage.write(batch)
        #expect(ids.count == 2 && ids[0] < ids[1])
        var attempt = StorageBatch()
        attempt.attempts = [(ids[0], 1)]
        _ = try store.storage.write(attempt)

        let again = try store.reopened()
        let pending = try again.storage.pendingForwards()
        #expect(pending.map(\.transaction) == ["t-1", "t-2"])
        #expect(pending.map(\.attempts) == [1, 0])
        #expect(pending.first?.sealedMessage == [1, 2, 3])
        var acknowledged = StorageBatch()
        acknowledged.acknowledged = [(ids[0], "00")]
        _ = try again.storage.write(acknowledged)
        #expect(try again.storage.pendingForwards().map(\.transaction) == ["t-2"])
    }

    @Test func oneReversalPerTransaction() throws {
        let store = try StorageFixture()
        defer { store.remove() }
        var batch = StorageBatch()
        batch.newForwards = [ForwardItem(channel: "issuer", kind: .reversal, transaction: "t-1", sealedMessage: [1], created: 1)]
        _ = try store.storage.write(batch)
        // The whole second batch is refused: its journal record is not written either.
        batch.journal = [Self.record("t-9", stan: "000009", started: 5)]
        #expect(throws: StorageError.self) { try store.storage.write(batch) }
        #expect(try store.storage.pendingForwards().count == 1)
        #expect(try store.storage.journal(JournalQuery()).isEmpty)
    }

    @Test func claimsStayOpenUntilSettled() throws {
        let store = try StorageFixture()
        defer { store.remove() }
        var batch = StorageBatch()
        batch.claims = [
            Claim(transaction: "a", channel: "issuer", listener: "pos", message: "0200", stan: "000001", reversible: true, sealedMessage: [9], created: 2),
            Claim(transaction: "b", channel: "issuer", listener: "pos", message: "0100", stan: "000002", reversible: false, sealedMessage: [8], created: 3),
        ]
        _ = try store.storage.write(batch)
        var settle = StorageBatch()
        settle.settledClaims = ["a"]
        settle.journal = [Self.record("a", stan: "000001", started: 2)]
        _ = try store.storage.write(settle)
        let open = try store.reopened().storage.openClaims()
        #expect(open.map(\.transaction) == ["b"])
        #expect(open.first?.reversible == false && open.first?.sealedMessage == [8] && open.first?.stan == "000002")
    }

    @Test func aStoreWrittenUnderAnotherKeyIsRefused() throws {
        let store = try StorageFixture()
        defer { store.remove() }
        try store.storage.bind(keyCheck: "first-key-check")
        try store.storage.bind(keyCheck: "first-key-check")
        let error = #expect(throws: StorageError.self) { try store.storage.bind(keyCheck: "other-key-check") }
        #expect(error?.reason.contains("another data key") == true)
    }

    @Test func queriesSelectByIdentificationTimeAndOutcome() throws {
        let store = try StorageFixture()
        defer { store.remove() }
        var batch = StorageBatch()
        batch.journal = [
            Self.record("1", stan: "000001", started: 1_000),
            Self.record("2", stan: "000002", started: 2_000, outcome: "timeout"),
            Self.record("3", stan: "000003", started: 3_000, channel: "other"),
        ]
        _ = try store.storage.write(batch)
        var byStan = JournalQuery()
        byStan.stan = "000002"
        #expect(try store.storage.journal(byStan).map(\.id) == ["2"])
        var byTime = JournalQuery()
        byTime.since = 1_500
        byTime.until = 3_000
        #expect(try store.storage.journal(byTime).map(\.id) == ["2"])
        var byHash = JournalQuery()
        byHash.panHash = "00112233445566778899aabbccddeeff"
        #expect(try store.storage.journal(byHash).count == 3)
        var limited = JournalQuery(limit: 2)
        limited.maskedPAN = "476173******0119"
        #expect(try store.storage.journal(limited).map(\.id) == ["1", "2"])
        let read = try #require(try store.storage.journal(byStan).first)
        #expect(read == Self.record("2", stan: "000002", started: 2_000, outcome: "timeout"))
        #expect(try store.storage.journalStats(JournalQuery()) == [
            JournalCount(channel: "issuer", outcome: "approved", responseCode: "00", count: 1),
            JournalCount(channel: "issuer", outcome: "timeout", responseCode: "91", count: 1),
            JournalCount(channel: "other", outcome: "approved", responseCode: "00", count: 1),
        ])
    }

    @Test func theDatabaseIsInWALModeAndReadableWhileOpenForWriting() throws {
        let store = try StorageFixture()
        defer { store.remove() }
        var batch = StorageBatch()
        batch.journal = [Self.record("1", stan: "000001", started: 1)]
        _ = try store.storage.write(batch)
        #expect(FileManager.default.fileExists(atPath: store.directory + "/switch.sqlite-wal"))
        let reader = try SQLiteStorage(path: store.directory + "/switch.sqlite", readOnly: true)
        #expect(try reader.journal(JournalQuery()).count == 1)
    }
}

extension SQLiteStorageTests {
    @Test func theLastHostStanOfEachChannelIsKept() throws {
        let store = try StorageFixture()
        defer { store.remove() }
        var batch = StorageBatch()
        var first = Self.record("1", stan: "000001", started: 1)
        first.hostStan = "000120"
        var second = Self.record("2", stan: "000002", started: 2)
        second.hostStan = "000121"
        var other = Self.record("3", stan: "000003", started: 3, channel: "other")
        other.hostStan = "000007"
        batch.journal = [first, second, other]
        _ = try store.storage.write(batch)
        #expect(try store.reopened().storage.lastHostStans() == ["issuer": 121, "other": 7])
    }
}
