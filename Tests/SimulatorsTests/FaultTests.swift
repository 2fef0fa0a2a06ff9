import Foundation
import ISO8583
import Simulators
import Testing
import TestSupport

/// Every fault the issuer simulator injects is seen by the POS simulator as the right failure.
@Suite(.serialized)
struct FaultTests {
    /// An issuer that injects `fault` on every request (late answers after 300 ms).
    func issuer(_ fault: ReceivedMessage.Fault) throws -> (IssuerSimulator, UInt16) {
        var faults = IssuerBehaviour.Faults()
        switch fault {
        case .drop: faults.drop = 1
        case .late: faults.late = 1
        case .close: faults.close = 1
        case .garbage: faults.garbage = 1
        case .stopReading: faults.stopReading = 1
        }
        return try SimulatorFixtures.issuer(IssuerBehaviour(faults: faults, lateMilliseconds: 300))
    }

    /// One connection, one request at a time, a 150 ms timeout.
    func drive(_ port: UInt16, count: Int = 5) throws -> LoadReport {
        try SimulatorFixtures.pos(port: port, count: count, connections: 1, window: 1, timeoutMilliseconds: 150)
    }

    @Test func droppedAnswersTimeOut() throws {
        let (issuer, port) = try issuer(.drop)
        defer { issuer.stop() }
        let report = try drive(port)
        #expect(!report.isClean)
        #expect(report.counts.timedOut == 5 && report.counts.matched == 0 && report.counts.late == 0)
        #expect(issuer.counters.dropped == 5)
    }

    @Test func lateAnswersTimeOutThenArriveLate() throws {
        let (issuer, port) = try issuer(.late)
        defer { issuer.stop() }
        // Each request times out at 150 ms; its answer comes at 300 ms, while later requests wait.
        let report = try drive(port, count: 4)
        #expect(!report.isClean)
        #expect(report.counts.timedOut == 4 && report.counts.matched == 0)
        #expect(report.counts.late >= 1 && report.counts.unexpected == 0)
        #expect(issuer.counters.late == 4)
    }

    @Test func closedConnectionsLoseTheirRequests() throws {
        let (issuer, port) = try issuer(.close)
        defer { issuer.stop() }
        let report = try drive(port)
        #expect(!report.isClean)
        #expect(report.counts.lostOnClose == 1 && report.counts.closedByPeer == 1 && report.counts.matched == 0)
        #expect(report.problems.contains { $0.contains("connection closed") })
        #expect(issuer.counters.closed == 1)
    }

    @Test func garbageAnswersAreUndecodable() throws {
        let (issuer, port) = try issuer(.garbage)
        defer { issuer.stop() }
        let report = try drive(port, count: 3)
        #expect(!report.isClean)
        #expect(report.counts.undecodable == 3 && report.counts.timedOut == 3 && report.counts.matched == 0)
        #expect(report.problems.contains { $0.contains("undecodable") })
    }

    @Test func anIssuerThatStopsReadingLeavesRequestsUnanswered() throws {
        let (issuer, port) = try issuer(.stopReading)
        defer { issuer.stop() }
        let report = try drive(port, count: 3)
        #expect(!report.isClean)
        #expect(report.counts.timedOut == 3 && report.counts.matched == 0)
        // It read the first request only, then stopped reading.
        #expect(issuer.counters.received == 1 && issuer.counters.stoppedReading == 1)
    }

    @Test func faultRatesMixWithPlainAnswersReproducibly() throws {
        let behaviour = IssuerBehaviour(faults: IssuerBehaviour.Faults(drop: 0.2), seed: 7)
        let counts = try (0..<2).map { _ in
            let (issuer, port) = try SimulatorFixtures.issuer(behaviour)
            defer { issuer.stop() }
            _ = try drive(port, count: 30)
            return issuer.counters
        }
        #expect(counts[0].dropped > 0 && counts[0].answered > 0)
        #expect(counts[0] == counts[1])
    }

    @Test func anOutageSetWhileConnectedStartsAndEndsOnTheSameConnection() throws {
        let (issuer, port) = try SimulatorFixtures.issuer()
        defer { issuer.stop() }
        let fd = try RawClient.connect(port)
        defer { close(fd) }
        func send(stan: Int) throws {
            var request = SimulatorFixtures.purchase()
            request.set(11, String(format: "%06d", stan))
            let frame = try request.encoded(as: SimulatorFixtures.dialect)
            RawClient.send(fd, [UInt8(frame.count >> 8), UInt8(frame.count & 0xFF)] + frame)
        }
        func answerSTAN() throws -> String? {
            let prefix = RawClient.receive(fd, count: 2)
            guard prefix.count == 2 else { return nil }
            let payload = RawClient.receive(fd, count: Int(prefix[0]) << 8 | Int(prefix[1]))
            return try ISO8583Message(decoding: payload, dialect: SimulatorFixtures.dialect).string(11)
        }
        try send(stan: 1)
        #expect(try answerSTAN() == "000001")

        var outage = issuer.behaviour
        outage.faults.drop = 1
        issuer.setBehaviour(outage)
        try send(stan: 2)
        let deadline = Date().addingTimeInterval(5)
        while issuer.counters.dropped == 0 && Date() < deadline { usleep(5_000) }
        #expect(issuer.counters.dropped == 1)

        outage.faults.drop = 0
        issuer.setBehaviour(outage)
        try send(stan: 3)
        // The dropped request never gets an answer: the next one on the wire is the third's.
        #expect(try answerSTAN() == "000003")
        #expect(issuer.counters.answered == 2)
    }
}
