import Dispatch
import Foundation
import Switch
import Synchronization
import Testing
import TestSupport

@testable import ClusterStorage

/// The cluster's shared state on a live PostgreSQL (a temporary server on loopback, one database per test).
@Suite struct ClusterStoreTests {
    static func store(_ database: String) throws -> ClusterStore {
        try ClusterStore.connect(try TemporaryPostgres.database(database))
    }

    @Test func migrationsBringAnEmptyDatabaseToTheLatestVersionOnce() throws {
        let url = try TemporaryPostgres.database("migrations")
        let first = try ClusterStore.connect(url), second = try ClusterStore.connect(url)
        defer { first.close(); second.close() }
        #expect(try first.schemaVersion() == 0)
        // Two nodes starting at once: the advisory lock lets one apply each version.
        let reached = Mutex<[Int]>([])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            do {
                let version = try (index == 0 ? first : second).migrate()
                reached.withLock { $0.append(version) }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        #expect(reached.withLock { $0 } == [ClusterStore.migrations.count, ClusterStore.migrations.count])
        #expect(try first.migrate() == ClusterStore.migrations.count)
    }

    @Test func theSameRequestsClaimedOnTwoConnectionsAreEachForwardedOnce() throws {
        let url = try TemporaryPostgres.database("claims")
        let stores = [try ClusterStore.connect(url), try ClusterStore.connect(url)]
        defer { stores.forEach { $0.close() } }
        try stores[0].migrate()
        let leases = [try stores[0].join(node: "a"), try stores[1].join(node: "b")]
        let keys = (1...1_000).map { ClusterClaimKey(originator: "00000012345", transmitted: "1202184500", trace: String(format: "%06d", $0)) }
        let outcomes = Mutex<[ClusterClaimKey: [ClaimOutcome]]>([:])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            // One node from the first request on, the other from the last: they meet in the middle.
            for key in index == 0 ? keys : keys.reversed() {
                do {
                    let outcome = try stores[index].claim(key, by: leases[index])
                    outcomes.withLock { $0[key, default: []].append(outcome) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        let claims = outcomes.withLock { $0 }
        #expect(claims.count == 1_000)
        for (key, both) in claims {
            let claimed = both.filter { $0 == .claimed }
            let duplicates = both.filter { if case .duplicate = $0 { true } else { false } }
            #expect(claimed.count == 1 && duplicates.count == 1, "\(key.trace): \(both)")
        }
        // The same node asking again gets a duplicate naming itself.
        #expect(try stores[0].claim(keys[0], by: leases[0]) == .duplicate(node: "a"))
    }

    @Test func claimsMadeTogetherAreEachClaimedOnceAndDuplicatesNameTheirHolder() throws {
        let url = try TemporaryPostgres.database("claim_batch")
        let a = try ClusterStore.connect(url), b = try ClusterStore.connect(url)
        defer { a.close(); b.close() }
        try a.migrate()
        let leaseA = try a.join(node: "a"), leaseB = try b.join(node: "b")
        let keys = (1...5).map { ClusterClaimKey(originator: "pos|2|T1", transmitted: "1202184500", trace: String(format: "%06d", $0)) }
        #expect(try b.claim([keys[1], keys[3]], by: leaseB) == [.claimed, .claimed])
        // Two of a's five are b's; a key given twice in one batch is claimed once.
        #expect(try a.claim(keys + [keys[0]], by: leaseA)
                == [.claimed, .duplicate(node: "b"), .claimed, .duplicate(node: "b"), .claimed, .duplicate(node: "a")])
        #expect(try a.claim([], by: leaseA).isEmpty)
        #expect(try b.fence(node: "a", seenEpoch: leaseA.epoch))
        let late = ClusterClaimKey(originator: "pos|2|T1", transmitted: "1202184500", trace: "000009")
        #expect(try a.claim([late, keys[1]], by: leaseA) == [.fenced, .duplicate(node: "b")], "a fenced node claims nothing")
    }

    @Test func aFencedNodeCannotRenewNorClaimUntilItJoinsAgain() throws {
        let store = try Self.store("fencing")
        defer { store.close() }
        try store.migrate()
        let old = try store.join(node: "a")
        let survivor = try store.join(node: "b")
        #expect(old.epoch == 1 && survivor.epoch == 1)
        #expect(try store.renew(old))
        // Two survivors saw epoch 1: only the first fence takes.
        #expect(try store.fence(node: "a", seenEpoch: 1))
        #expect(try store.fence(node: "a", seenEpoch: 1) == false)
        #expect(try store.renew(old) == false)
        let key = ClusterClaimKey(originator: "00000012345", transmitted: "1202184500", trace: "000001")
        #expect(try store.claim(key, by: old) == .fenced)
        #expect(try store.claim(key, by: survivor) == .claimed)
        let status = try store.nodes()
        #expect(status.map(\.node) == ["a", "b"])
        #expect(status[0].isAlive == false && status[0].epoch == 2)
        #expect(status[1].isAlive && status[1].leaseLeft > 0 && status[1].heartbeatAge < 5)
        // Restarted, it joins with a new epoch and claims again; its old epoch stays fenced.
        let rejoined = try store.join(node: "a")
        #expect(rejoined.epoch == 3)
        #expect(try store.renew(rejoined))
        #expect(try store.renew(old) == false)
        #expect(try store.claim(ClusterClaimKey(originator: "00000012345", transmitted: "1202184500", trace: "000002"), by: rejoined) == .claimed)
    }

    @Test func stanBlocksTakenByFourNodesAtOnceNeverOverlap() throws {
        let url = try TemporaryPostgres.database("stans")
        let stores = try (0..<4).map { _ in try ClusterStore.connect(url) }
        defer { stores.forEach { $0.close() } }
        try stores[0].migrate()
        let taken = Mutex<[ClosedRange<Int>]>([])
        let failures = Mutex<[String]>([])
        // 20 blocks of 100,000: exactly two turns of 1...999999 (the tenth block of a turn ends short, at 999999).
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            for _ in 0..<5 {
                do {
                    let block = try stores[index].stanBlock(host: "issuer", size: 100_000)
                    taken.withLock { $0.append(block) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        let blocks = taken.withLock { $0 }
        #expect(blocks.count == 20)
        var covered = [UInt8](repeating: 0, count: ClusterStore.largestStan + 1)
        for block in blocks { for stan in block { covered[stan] += 1 } }
        #expect(covered[0] == 0)
        #expect(covered[1...].allSatisfy { $0 == 2 }, "a STAN handed out twice in one turn, or not at all")
        #expect(throws: ClusterStoreError.self) { try stores[0].stanBlock(host: "issuer", size: 0) }
    }

    @Test(arguments: [
        "mysql://u:secret@h/d", "postgres://h:5432/d", "postgres://u:secret@h:99999/d", "postgres://u:secret@h:5432",
        "postgres://:secret@h/d", "postgres://u:secret@:5432/d",
    ])
    func aBadStorageURLIsRefusedWithoutRepeatingThePassword(_ url: String) {
        #expect {
            _ = try ClusterStoreLocation(parsing: url)
        } throws: { error in
            "\(error)".contains("read the storage URL") && !"\(error)".contains("secret")
        }
    }

    @Test func aStorageURLIsTakenApart() throws {
        let location = try ClusterStoreLocation(parsing: "postgresql://node:p%40ss@127.0.0.1:55432/payswitch")
        #expect(location.user == "node" && location.password == "p%40ss" && location.host == "127.0.0.1")
        #expect(location.port == 55_432 && location.database == "payswitch")
        #expect(location.redacted == "postgres://node@127.0.0.1:55432/payswitch")
        #expect(try ClusterStoreLocation(parsing: "postgres://u@db/x").port == 5432)
    }

    @Test func anUnreachableServerIsAnErrorNamingItWithoutThePassword() throws {
        let port = RawClient.freePort()
        #expect {
            _ = try ClusterStore.connect("postgres://u:secret@127.0.0.1:\(port)/d")
        } throws: { error in
            "\(error)".contains("connect to postgres://u@127.0.0.1:\(port)/d") && !"\(error)".contains("secret")
        }
    }
}

/// A node in a cluster: its heartbeat keeps it alive and takes over from nodes that stopped.
@Suite struct ClusterNodeTests {
    @Test func aNodeThatStopsIsFencedByASurvivorAndClaimsNothingAfter() throws {
        let url = try TemporaryPostgres.database("node_takeover")
        // "a" joins (its lock held) and then stops (no heartbeat: as if stopped with SIGSTOP); "b" runs.
        let stopped = try ClusterStore.connect(url)
        defer { stopped.close() }
        try stopped.migrate()
        #expect(try stopped.lockNode("a"))
        let leaseA = try stopped.join(node: "a", leaseSeconds: 1)
        let storage = try ClusterStore.switchStorage(url, member: leaseA)
        defer { storage.close() }
        let id = try ClusterQueueTests.queue("t-1", on: storage)
        #expect(try stopped.acquireHost("issuer", by: leaseA, seconds: 1))
        let survivor = try ClusterNode(configuration: ClusterConfiguration(node: "b", database: url, lease: .seconds(1)))
        defer { survivor.leave() }
        #expect(throws: ClusterStoreError.self, "a second process of a running node is refused") {
            try ClusterNode(configuration: ClusterConfiguration(node: "a", database: url, lease: .seconds(1)))
        }
        #expect(survivor.claim([ClusterClaimKey(originator: "pos|2|123456", transmitted: "1202184500", trace: "000001")]) == [.claimed])
        // Fenced within its lease, the grace and a heartbeat (1 + 2 + 1/3 s); bounded at 15 s.
        var fenced = false
        for _ in 0..<150 where !fenced {
            usleep(100_000)
            fenced = try stopped.nodes().first { $0.node == "a" }?.isAlive == false
        }
        #expect(fenced)
        // "a" resumes: it forwards nothing, sends nothing; "b" has its queue.
        #expect(try stopped.claim(ClusterClaimKey(originator: "pos|2|123456", transmitted: "1202184500", trace: "000002"), by: leaseA) == .fenced)
        #expect(try stopped.renew(leaseA) == false)
        #expect(try stopped.beginSend(id, by: leaseA) == nil)
        #expect(survivor.holdQueue(of: "issuer"))
        #expect(survivor.queuedItems(of: "issuer", limit: 10).map(\.id) == [id])
        #expect(!survivor.isFenced && survivor.takeoverCount == 1)
        // What operators see (GET /cluster), as the next heartbeat read it (bounded: 3 s).
        var report = survivor.report()
        for _ in 0..<30 where report.queues.first?.holder != "b" {
            usleep(100_000)
            report = survivor.report()
        }
        #expect(report.node == "b" && report.takeovers == 1 && !report.fenced)
        #expect(report.nodes.map(\.node) == ["a", "b"] && report.nodes.map(\.state) == ["dead", "alive"])
        #expect(report.queues.map(\.channel) == ["issuer"] && report.queues.first?.depth == 1 && report.queues.first?.holder == "b")
    }

    @Test func aNodeWhoseProcessEndsIsTakenOverAtOnce() throws {
        let url = try TemporaryPostgres.database("node_lock")
        let survivor = try ClusterNode(configuration: ClusterConfiguration(node: "b", database: url, lease: .seconds(30)))
        defer { survivor.leave() }
        let dying = try ClusterNode(configuration: ClusterConfiguration(node: "a", database: url, lease: .seconds(30)))
        usleep(600_000)
        #expect(survivor.takeoverCount == 0, "a running node is not taken over")
        let started = Date()
        dying.leave()  // its connection ends, as a killed process's does
        var fenced = false
        for _ in 0..<100 where !fenced {
            usleep(20_000)
            fenced = survivor.takeoverCount == 1
        }
        #expect(fenced)
        // Long before its 30 s lease could run out: the probe runs every 250 ms.
        #expect(Date().timeIntervalSince(started) < 1.5)
    }
}

extension ClusterStoreTests {
    @Test func aDumpScanSkipsHashesAndByteaButNotACardNumber() {
        let dump = Array("key-check\t3f9a4761739001010119c2\nt-1\t4761739001010119\t\\x4761739001010119ab\tnamed 12\n".utf8)
        let kept = String(decoding: TemporaryPostgres.withoutHexadecimal(dump), as: UTF8.self)
        #expect(CardNumberScan.luhnValidRuns(in: Array(kept.utf8)) == ["476173******0119"])
        #expect(kept.contains("key-check") && kept.contains("named 12") && !kept.contains("3f9a"))
    }
}
