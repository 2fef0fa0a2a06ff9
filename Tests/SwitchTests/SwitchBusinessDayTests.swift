import Foundation
import ISO8583
import PaymentModel
import Simulators
import Switch
import Testing
import TestSupport
import Transport

/// Business dates: every transaction booked to exactly one date, the host told the same one in
/// DE 15, and the day's totals equal on both sides.
@Suite struct SwitchBusinessDayTests {
    /// A cutover `seconds` from now, as HH:MM:SS in UTC.
    static func cutover(inSeconds seconds: Int) -> String {
        let when = Int(Date().timeIntervalSince1970) + seconds
        let second = when % 86_400
        return String(format: "%02d:%02d:%02d", second / 3600, second / 60 % 60, second % 60)
    }

    @Test func aCutoverMidLoadBooksEachTransactionToOneDateAndBothSidesTotalsAgree() throws {
        let store = try StorageFixture()
        defer { store.remove() }
        let clearingPath = NSTemporaryDirectory() + "clearing-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: clearingPath) }
        // The issuer books by the DE 15 it is sent; its own cutover is deliberately another one.
        let book = try ClearingBook(path: clearingPath, businessDay: BusinessDay(cutover: 6 * 3600))
        let issuer = try IssuerSimulator(.init(format: .bin2, wire: .iso8583(SwitchFixtures.iso87ascii), loops: 1, clearing: book))
        let port = try issuer.start()
        defer { issuer.stop() }
        // Four seconds away and eight of load: the cutover falls inside the load however slowly
        // the switch starts while other tests run.
        let cutover = Self.cutover(inSeconds: 4)
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [port]), extra: "business-day: {cutover: \"\(cutover)\", send-totals: true}"),
            rules: SwitchFixtures.rules(["issuer"]), storage: store)
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })

        let exchange = try ISO8583Exchange(dialect: SwitchFixtures.iso87ascii, templates: [(SwitchFixtures.purchase(), 1)])
        let report = LoadGenerator(.init(port: ports["pos"]!, format: .bin2, connections: 2, mode: .openLoop(perSecond: 100),
                                         limit: .seconds(8), timeoutMilliseconds: 3_000, loops: 1), exchange: exchange).run()
        #expect(report.isClean, "\(report.text)")
        // The purchases (the reconciliation exchange after cutover is journalled too, as 0530).
        func purchases() throws -> [JournalRecord] { try store.storage.journal(JournalQuery(limit: Int.max)).filter { $0.message == "0200" } }
        #expect(SwitchHarness.wait { (try? purchases().count) == report.counts.matched })
        book.flush()

        let records = try purchases()
        let dates = Set(records.compactMap(\.businessDate))
        #expect(records.allSatisfy { $0.businessDate != nil })
        #expect(dates.count == 2, "the load ran across the cutover at \(cutover): \(dates)")
        #expect(Set(records.map(\.hostStan)).count == records.count, "one record per transaction")
        // Before and after the cutover, in that order.
        let sorted = records.sorted { $0.started < $1.started }
        #expect(sorted.map(\.businessDate) == sorted.map(\.businessDate).sorted { ($0 ?? "") < ($1 ?? "") })
        for date in dates {
            let ours = JournalTotals(records, on: date)
            let theirs = book.totals(on: try #require(BusinessDate(date)))
            #expect(ours.totals == theirs, "\(date): \(ours.totals.differences(from: theirs))")
            #expect(ours.transactions == records.filter { $0.businessDate == date }.count && ours.pendingReversals == 0)
        }
        // The day turned while the link was up: the host was told (0800, DE 70 = 201), after the sign-on.
        #expect(SwitchHarness.wait { issuer.received.filter { $0.message == "0800" }.count >= 2 })
        // And, once the ended date's requests were all answered, sent its totals (0520): in balance.
        #expect(SwitchHarness.wait(seconds: 8) { issuer.received.contains { $0.message == "0520" } })
        #expect(issuer.received.filter { $0.message == "0520" }.map(\.result) == ["00"])
        #expect(SwitchHarness.wait { (try? store.storage.journal(JournalQuery(limit: Int.max)).contains { $0.message == "0530" && $0.outcome == "in-balance" }) == true })
    }

    @Test func aSettlementDateTheOriginatorSentDecidesTheBusinessDate() throws {
        let store = try StorageFixture()
        defer { store.remove() }
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in .answer(ScriptedHost.answer(request, code: nil)) }
        defer { host.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [host.port]), extra: "business-day: {cutover: \"21:00\"}"),
            rules: SwitchFixtures.rules(["issuer"]), storage: store)
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!)
        let today = BusinessDay(cutover: 21 * 3600).date(atUnixMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        let tomorrow = BusinessDate(day: today.day + 1)
        var stated = SwitchFixtures.purchase(stan: 15)
        stated.set(15, tomorrow.settlementDateField(digits: 4))
        #expect(try pos.exchange(stated)?.string(39) == "00")
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 16))?.string(39) == "00")

        // The host got the originator's DE 15 as it was, and the switch's for the other.
        #expect(SwitchHarness.wait { host.requests.filter { $0.mti.description == "0200" }.count == 2 })
        let sent = host.requests.filter { $0.mti.description == "0200" }
        #expect(sent.map { $0.string(15) } == [tomorrow.settlementDateField(digits: 4), today.settlementDateField(digits: 4)])
        #expect(SwitchHarness.wait { (try? store.storage.journal(JournalQuery()).count) == 2 })
        let byStan = Dictionary(uniqueKeysWithValues: try store.storage.journal(JournalQuery()).map { ($0.stan ?? "", $0) })
        #expect(byStan["000015"]?.businessDate == tomorrow.description && byStan["000016"]?.businessDate == today.description)
        #expect(byStan["000016"]?.processingCode == "000000" && byStan["000016"]?.approvalCode == "A12345")
    }
    /// A host asking for reconciliation (0520) is answered from the journal: in balance (00) with
    /// the totals the switch has, out of balance (95) with the switch's own totals otherwise.
    @Test func aHostsReconciliationRequestIsAnsweredFromTheJournal() throws {
        let store = try StorageFixture()
        defer { store.remove() }
        let host = try ScriptedHost(dialect: SwitchFixtures.iso87ascii) { request in
            request.mti.expectsResponse ? .answer(ScriptedHost.answer(request, code: nil)) : .drop
        }
        defer { host.stop() }
        let (payments, ports) = try SwitchHarness.start(
            SwitchHarness.yaml(channels: SwitchHarness.channel("issuer", ports: [host.port])),
            rules: SwitchFixtures.rules(["issuer"]), storage: store)
        defer { payments.shutdown(grace: .zero) }
        #expect(SwitchHarness.wait { payments.isReady })
        let pos = try PosClient(port: ports["pos"]!)
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 1, amount: 1_000, rrn: "000000000001"))?.string(39) == "00")
        #expect(try pos.exchange(SwitchFixtures.purchase(stan: 2, amount: 2_500, rrn: "000000000002"))?.string(39) == "00")
        #expect(SwitchHarness.wait { (try? store.storage.journal(JournalQuery()).count) == 2 })

        let today = BusinessDay().date(atUnixMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        func ask(_ totals: ReconciliationTotals, stan: String) throws -> ISO8583Message? {
            var request = ISO8583Message(mti: MTI("0520")!)
            request.set(7, "1201120000")
            request.set(11, stan)
            request.set(15, today.settlementDateField(digits: 4))
            totals.write(into: &request, dialect: SwitchFixtures.iso87ascii)
            try host.push(request)
            var answer: ISO8583Message?
            _ = SwitchHarness.wait {
                answer = host.received.compactMap { try? ISO8583Message(decoding: $0, dialect: SwitchFixtures.iso87ascii) }
                    .first { $0.mti.description == "0530" && $0.string(11) == stan }
                return answer != nil
            }
            return answer
        }
        var agreed = ReconciliationTotals()
        agreed.add(.debit, amount: 1_000)
        agreed.add(.debit, amount: 2_500)
        let balanced = try #require(try ask(agreed, stan: "000901"))
        #expect(balanced.string(39) == "00" && balanced.string(76) == "0000000002")
        var more = agreed
        more.add(.debit, amount: 700)
        let unbalanced = try #require(try ask(more, stan: "000902"))
        #expect(unbalanced.string(39) == "95")
        #expect(ReconciliationTotals(unbalanced) == agreed, "the switch's own totals come back")
        // Both exchanges are in the journal, flagged by their outcome.
        var flagged = JournalQuery()
        flagged.channel = "issuer"
        #expect(SwitchHarness.wait { (try? store.storage.journal(flagged).filter { $0.message == "0520" }.count) == 2 })
        let exchanges = try store.storage.journal(flagged).filter { $0.message == "0520" }
        #expect(exchanges.map(\.outcome) == ["in-balance", "out-of-balance"] && exchanges.map(\.responseCode) == ["00", "95"])
        #expect(exchanges.allSatisfy { $0.businessDate == today.description })
    }
}
