import Foundation
import SQLiteStorage
import SecurityModule
import Switch
import TestSupport
import Testing

/// The stores, the embedded SQLite one and PostgreSQL: batches in one transaction, what survives a
/// reopen, the key check, queries.
@Suite struct SwitchStorageTests {
    static func record(_ id: String, stan: String, started: Int64, outcome: String = "approved", channel: String = "issuer") -> JournalRecord {
        var record = JournalRecord(id: id, started: started, listener: "pos", message: "0200", rule: "default", channel: channel,
                                   channelsTried: channel, result: 0, outcome: outcome, totalMicros: 1200)
        record.stan = stan
        record.responseCode = outcome == "approved" ? "00" : "91"
        record.maskedPAN = "476173******0119"
        record.panHash = "00112233445566778899aabbccddeeff"
        return record
    }

    @Test(arguments: StorageBackend.allCases)
    func forwardItemsSurviveAReopenUntilAcknowledgedAndRepeatsAreCounted(_ backend: StorageBackend) throws {
        let store = try StorageFixture(backend: backend)
        defer { store.remove() }
        var batch = StorageBatch()
        batch.newForwards = [
            ForwardItem(channel: "issuer", kind: .reversal, transaction: "t-1", sealedMessage: [1, 2, 3], created: 10),
            ForwardItem(channel: "issuer", kind: .advice, transaction: "t-2", sealedMessage: [4], created: 11),
        ]
        let ids = try store.storage.write(batch).forwardIDs
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

    @Test(arguments: StorageBackend.allCases)
    func oneReversalPerTransaction(_ backend: StorageBackend) throws {
        let store = try StorageFixture(backend: backend)
        defer { store.remove() }
        var batch = StorageBatch()
        batch.newForwards = [ForwardItem(channel: "issuer", kind: .reversal, transaction: "t-1", sealedMessage: [1], created: 1)]
        _ = try store.storage.write(batch)
        // The whole second batch is refused: its journal record is not written either.
        var builder = JournalBlock.Builder()
        builder.append(Self.record("t-9", stan: "000009", started: 5))
        batch.journal = try builder.finish(protection: store.protection)
        #expect(throws: StorageError.self) { try store.storage.write(batch) }
        #expect(try store.storage.pendingForwards().count == 1)
        #expect(try store.storage.journal(JournalQuery()).isEmpty)
    }

    @Test(arguments: StorageBackend.allCases)
    func claimsStayOpenUntilTheirTransactionIsJournalledAndTheirBlockGoesWhenReleased(_ backend: StorageBackend) throws {
        let store = try StorageFixture(backend: backend)
        defer { store.remove() }
        let block = try #require(try store.claim([
            Claim(transaction: "a", channel: "issuer", listener: "pos", message: "0200", stan: "000001", reversible: true, sent: [9], created: 2),
            Claim(transaction: "b", channel: "issuer", listener: "pos", message: "0100", stan: "000002", reversible: false, sent: [8], created: 3),
        ]))
        #expect(try store.storage.claimBlocks().first?.bytes.contains(bytes: Array("000001".utf8)) == false, "sealed at rest")
        try store.journal([Self.record("a", stan: "000001", started: 2)])
        let again = try store.reopened()
        let open = try again.storage.openClaims(protection: again.protection)
        #expect(open.claims.map(\.transaction) == ["b"] && open.blocks == [block])
        #expect(open.claims.first?.reversible == false && open.claims.first?.sent == [8] && open.claims.first?.stan == "000002")
        var release = StorageBatch()
        release.releasedClaimBlocks = [block]
        _ = try again.storage.write(release)
        #expect(try again.storage.claimBlocks().isEmpty)
        #expect(try again.storage.openClaims(protection: again.protection).claims.isEmpty)
    }

    @Test(arguments: StorageBackend.allCases)
    func aClaimJournalledBeforeItsBlockWasWrittenStaysOpen(_ backend: StorageBackend) throws {
        // Settled means journalled after the claim was written: an older record with the same id
        // (another switch run) does not settle it.
        let store = try StorageFixture(backend: backend)
        defer { store.remove() }
        try store.journal([Self.record("a", stan: "000001", started: 1)])
        try store.claim([Claim(transaction: "a", channel: "issuer", listener: "pos", message: "0200", stan: "000001", reversible: true,
                               sent: [1], created: 2)])
        #expect(try store.storage.openClaims(protection: store.protection).claims.map(\.transaction) == ["a"])
    }

    @Test(arguments: StorageBackend.allCases)
    func aStoreWrittenUnderAnotherKeyIsRefused(_ backend: StorageBackend) throws {
        let store = try StorageFixture(backend: backend)
        defer { store.remove() }
        try store.storage.bind(keyCheck: "first-key-check")
        try store.storage.bind(keyCheck: "first-key-check")
        let error = #expect(throws: StorageError.self) { try store.storage.bind(keyCheck: "other-key-check") }
        #expect(error?.reason.contains("another data key") == true)
    }

    @Test(arguments: StorageBackend.allCases)
    func queriesSelectByIdentificationTimeAndOutcome(_ backend: StorageBackend) throws {
        let store = try StorageFixture(backend: backend)
        defer { store.remove() }
        try store.journal([
            Self.record("1", stan: "000001", started: 1_000),
            Self.record("2", stan: "000002", started: 2_000, outcome: "timeout"),
        ])
        try store.journal([Self.record("3", stan: "000003", started: 3_000, channel: "other")])
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
        var byDate = JournalQuery()
        byDate.businessDate = "2026-12-01"
        #expect(try store.storage.journal(byDate).isEmpty, "records without a business date match no date")
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
        try store.journal([Self.record("1", stan: "000001", started: 1)])
        #expect(FileManager.default.fileExists(atPath: store.directory + "/switch.sqlite-wal"))
        let reader = try SQLiteStorage(path: store.directory + "/switch.sqlite", readOnly: true)
        #expect(try reader.journal(JournalQuery()).count == 1)
    }
}

extension SwitchStorageTests {
    @Test(arguments: StorageBackend.allCases)
    func theLastHostStanOfEachChannelIsKept(_ backend: StorageBackend) throws {
        let store = try StorageFixture(backend: backend)
        defer { store.remove() }
        var batch = StorageBatch()
        batch.hostStans = ["issuer": "000120", "other": "000007"]
        _ = try store.storage.write(batch)
        batch.hostStans = ["issuer": "000121"]
        _ = try store.storage.write(batch)
        #expect(try store.reopened().storage.lastHostStans() == ["issuer": 121, "other": 7])
    }
}

extension SwitchStorageTests {
    @Test func recordsComeBackWhole() throws {
        var full = Self.record("full", stan: "000001", started: -5)
        full.rrn = "123456789012"; full.terminal = "TERM0001"; full.merchant = "MERCHANT0000001"; full.amount = Int64.max
        full.currency = "978"; full.uetr = "0f7c2a4e-8d13-4b8e-9a5b-2c1d3e4f5a6b"; full.endToEndId = "E2E-1"; full.messageId = "MSG-1"
        full.hostStan = "000120"; full.hostMicros = 0; full.result = 9999; full.forward = "reversal"
        full.businessDate = "2026-12-01"; full.forwardBusinessDate = "2026-12-02"; full.approvalCode = "A00042"; full.processingCode = "200000"
        let bare = JournalRecord(id: "bare", started: Int64.min, listener: "", message: "", rule: "", channel: "", channelsTried: "",
                                 result: 0, outcome: "", totalMicros: Int64.min)
        var builder = JournalBlock.Builder()
        builder.append(full)
        builder.append(bare)
        let block = builder.finish { (plaintext: [UInt8]) -> [UInt8] in plaintext }
        #expect(block.firstStarted == Int64.min && block.lastStarted == -5 && block.count == 2 && block.sealedMessages.isEmpty)
        #expect(try block.decoded(name: "test") == [full, bare])
    }

    @Test(arguments: StorageBackend.allCases)
    func messagesAreSealedOncePerBlockAndOpenPerRecord(_ backend: StorageBackend) throws {
        let store = try StorageFixture(backend: backend)
        defer { store.remove() }
        let request = Array("0200 request 4761739001010119".utf8), answer = Array("0210 answer".utf8)
        try store.journal([Self.record("1", stan: "000001", started: 1), Self.record("2", stan: "000002", started: 2)],
                          messages: [(request, answer), ([7], [8, 9])])
        let records = try store.storage.journal(JournalQuery())
        let first = try #require(records.first?.messages?.request)
        #expect(!first.sealed.contains(bytes: Array("4761739001010119".utf8)), "sealed at rest")
        let opened = try store.protection.open(first.sealed)
        #expect(Array(opened[try #require(first.range)]) == request)
        let second = try #require(records.last?.messages?.answer)
        #expect(Array(opened[try #require(second.range)]) == [8, 9])
    }

    @Test(arguments: [
        ([UInt8]([3]), "layout"),
        ([1, 0x85], "ends early"),
        ([1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], "overflows"),
        ([1, 0x7F, 0x41], "runs past the end"),
    ])
    func aDamagedBlockIsAnErrorNamingTheOffset(records: [UInt8], reason: String) {
        let block = JournalBlock(records: records, sealedMessages: [], count: 1, firstStarted: 0, lastStarted: 0)
        let error = #expect(throws: StorageError.self) { try block.decoded(name: "journal block 7") }
        #expect(error?.operation == "reading journal block 7")
        #expect(error?.reason.contains(reason) == true)
        #expect(reason == "layout" || error?.reason.contains("byte offset") == true)
    }

    @Test(arguments: StorageBackend.allCases)
    func aJournalOfManyBlocksIsReadWholeInTimeOrder(_ backend: StorageBackend) throws {
        let store = try StorageFixture(backend: backend)
        defer { store.remove() }
        // 150 blocks (PostgreSQL reads them 64 at a time), written out of time order.
        let started = (0..<150).map { Int64(($0 * 61) % 150) * 1_000 }
        for (index, time) in started.enumerated() {
            try store.journal([Self.record("r\(index)", stan: String(format: "%06d", index), started: time)])
        }
        let read = try store.storage.journal(JournalQuery(limit: 1_000))
        #expect(read.map(\.started) == started.sorted())
        #expect(Set(read.map(\.id)).count == 150)
        var after = 0
        try store.storage.journalBlocks(JournalBlockSelection(after: 100)) { (_: StoredJournalBlock) throws(StorageError) -> Bool in
            after += 1
            return true
        }
        #expect(after == 50)
    }

    @Test(arguments: StorageBackend.allCases)
    func aQueryWithALimitReadsBlocksInTimeOrderAndStopsEarly(_ backend: StorageBackend) throws {
        let store = try StorageFixture(backend: backend)
        defer { store.remove() }
        // A late block with an early record (a transaction that took long) still sorts first.
        try store.journal([Self.record("b", stan: "000002", started: 2_000), Self.record("c", stan: "000003", started: 3_000)])
        try store.journal([Self.record("a", stan: "000001", started: 1_000), Self.record("d", stan: "000004", started: 4_000)])
        #expect(try store.storage.journal(JournalQuery(limit: 2)).map(\.id) == ["a", "b"])
        #expect(try store.storage.journal(JournalQuery(limit: 10)).map(\.id) == ["a", "b", "c", "d"])
        #expect(try store.storage.journal(JournalQuery(limit: 0)).isEmpty)
    }
}
