import Foundation
import ISO8583
import PaymentModel
import Simulators
import Testing
import Transport

/// The POS simulator driving the issuer simulator directly, over plain TCP and mutual TLS.
@Suite(.serialized)
struct PosIssuerTests {
    @Test func everyRequestGetsItsMatchingAnswerOverPlainTCP() throws {
        let record = NSTemporaryDirectory() + "issuer-record-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: record) }
        let (issuer, port) = try SimulatorFixtures.issuer(record: record)
        defer { issuer.stop() }
        let report = try SimulatorFixtures.pos(port: port, count: 200)
        #expect(report.isClean, "\(report.text)")
        #expect(report.counts.sent == 200 && report.counts.matched == 200)
        #expect(report.codes == [ResponseCode("00"): 200])
        #expect(report.microseconds(atPercentile: 50) > 0 && report.maxMicroseconds >= report.microseconds(atPercentile: 99))
        #expect(issuer.counters.received == 200 && issuer.counters.answered == 200)

        // Every request was recorded once, with its own STAN and RRN, the PAN masked.
        let received = issuer.received
        #expect(Set(received.compactMap(\.rrn)).count == 200)
        #expect(received.allSatisfy { $0.pan == "476173******0119" && $0.message == "0200" && $0.result == "00" })
        issuer.stop()
        let file = try String(contentsOfFile: record, encoding: .utf8)
        #expect(file.split(separator: "\n").count == 200)
        #expect(!file.contains(SimulatorFixtures.pan) && !file.contains("2512101123400001") && !file.contains("0123456789ABCDEF"))
        #expect(!report.text.contains(SimulatorFixtures.pan) && !report.json.contains(SimulatorFixtures.pan))
    }

    /// Without records (as `sim issuer` runs unless given --record) nothing is kept, and the counters,
    /// one share per loop, still add up across loops.
    @Test func withoutRecordsNothingIsKeptAndTheCountersOfEveryLoopAddUp() throws {
        let (issuer, port) = try SimulatorFixtures.issuer(keepsRecords: false, loops: 2)
        defer { issuer.stop() }
        let report = try SimulatorFixtures.pos(port: port, count: 120, connections: 4)
        #expect(report.isClean, "\(report.text)")
        #expect(report.codes == [ResponseCode("00"): 120])
        #expect(issuer.counters.received == 120 && issuer.counters.answered == 120)
        #expect(issuer.received.isEmpty)
    }

    /// A record file that cannot be written (here /dev/full: ENOSPC) once trapped the simulator
    /// in FileHandle.write; now the records are lost, said once in the log, and every request is answered.
    @Test func unwritableRecordFileNeverStopsTheAnswers() throws {
        let (issuer, port) = try SimulatorFixtures.issuer(record: "/dev/full")
        defer { issuer.stop() }
        let report = try SimulatorFixtures.pos(port: port, count: 50)
        #expect(report.isClean, "\(report.text)")
        #expect(report.counts.matched == 50)
        #expect(issuer.counters.answered == 50)
    }

    @Test func everyRequestGetsItsMatchingAnswerOverMutualTLS() throws {
        let (issuer, port) = try SimulatorFixtures.issuer(tls: try SimulatorFixtures.serverTLS())
        defer { issuer.stop() }
        let report = try SimulatorFixtures.pos(port: port, count: 100, tls: try SimulatorFixtures.clientTLS())
        #expect(report.isClean, "\(report.text)")
        #expect(report.counts.matched == 100)
    }

    @Test func rulesDecideTheResponseCodeAndApprovalsCarryAnApprovalCode() throws {
        let behaviour = try IssuerBehaviour.load(yaml: """
            responses:
              - when: {amountOver: "1000.00"}
                result: Insufficient funds
              - when: {panPrefix: "5"}
                result: "1014"
            default: Approved
            """, file: "rules.yaml")
        let (issuer, port) = try SimulatorFixtures.issuer(behaviour)
        defer { issuer.stop() }
        let report = try SimulatorFixtures.pos(port: port, templates: [
            (SimulatorFixtures.purchase(amount: 5_000), 1),
            (SimulatorFixtures.purchase(amount: 150_000), 1),
            (SimulatorFixtures.purchase(pan: "5413330089020011"), 1),
        ], count: 300)
        #expect(report.isClean, "\(report.text)")
        #expect(report.codes[ResponseCode("00"), default: 0] > 0)
        #expect(report.codes[ResponseCode("51"), default: 0] > 0)
        #expect(report.codes[ResponseCode("14"), default: 0] > 0)
        #expect(report.codes.values.reduce(0, +) == 300)
        let received = issuer.received
        #expect(received.filter { $0.result == "51" }.allSatisfy { $0.amount == "1500.00 EUR" })
    }

    @Test func echoTestsAndReversalsAreAnswered() throws {
        let (issuer, port) = try SimulatorFixtures.issuer()
        defer { issuer.stop() }
        var reversal = SimulatorFixtures.purchase(mti: "0400")
        reversal.set(90, "020000000100112110300000000000000000000000")
        let report = try SimulatorFixtures.pos(port: port, templates: [(SimulatorFixtures.echoTest, 1), (reversal, 1)], count: 50)
        #expect(report.isClean, "\(report.text)")
        #expect(Set(issuer.received.map(\.message)) == ["0800", "0400"])
    }

    @Test func answersNeverCarryTrackOrPinData() throws {
        let (issuer, port) = try SimulatorFixtures.issuer()
        defer { issuer.stop() }
        // A raw exchange: the answer frame itself.
        let group = EventLoopGroup(count: 1)
        let answer = Mutex<[UInt8]?>(nil)
        let connection = try Connection.connect(host: "127.0.0.1", port: port, loop: group.nextLoop(), format: SimulatorFixtures.format,
                                                handlers: .init(onFrame: { _, frame in answer.withLock { $0 = [UInt8](frame.payload) } }))
        let request = try SimulatorFixtures.purchase().encoded(as: SimulatorFixtures.dialect)
        connection.execute { connection in request.withUnsafeBytes { try? connection.send(payload: $0) } }
        let deadline = Date().addingTimeInterval(5)
        while answer.withLock({ $0 }) == nil && Date() < deadline { usleep(1000) }
        connection.execute { $0.close() }
        let frame = try #require(answer.withLock { $0 })
        let decoded = try ISO8583Message(decoding: frame, dialect: SimulatorFixtures.dialect)
        #expect(decoded.mti == MTI("0210"))
        #expect(!decoded.contains(35) && !decoded.contains(52) && !decoded.contains(22))
        #expect(decoded.string(39) == "00" && decoded.string(38)?.count == 6)
        #expect(decoded.string(2) == SimulatorFixtures.pan && decoded.string(11) == "000001")
    }
}

import Synchronization
