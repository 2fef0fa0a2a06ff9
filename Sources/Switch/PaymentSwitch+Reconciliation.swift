import Dispatch
import Foundation
import ISO8583
import Logging
import PaymentModel
import Transport

extension PaymentSwitch {
    /// Answers a host's reconciliation request (0500/0520, 1520) from the journal: the channel's
    /// totals for the business date in its DE 15 (else today's) against the ones it carries. In
    /// balance: 00 (500). Out of balance: 95 (501) with the switch's own totals, each difference
    /// logged and counted. The journal is read off the link's queue.
    func answerReconciliation(_ request: ISO8583Message, from channel: Channel, on connection: Connection) {
        guard let durability, let side = channel.iso8583 else { return }
        DispatchQueue.global(qos: .utility).async { [self] in
            let day = channel.configuration.businessDay?.day ?? BusinessDay()
            let today = day.date(atUnixMilliseconds: Durability.now())
            let date = request.string(15).flatMap { BusinessDate.settlementDate($0, near: today) } ?? today
            var query = JournalQuery(limit: Int.max)
            query.channel = channel.name
            let version = request.mti.version
            var answer = request.answerSkeleton()
            do {
                let ours = JournalTotals(try durability.writer.storage.journal(query), on: date.description)
                let differences = ReconciliationTotals(request).map { ours.totals.differences(from: $0) } ?? ["the request's DE 74-89 are missing or not numbers"]
                let inBalance = differences.isEmpty
                answer.set(39, ReconciliationTotals.answerCode(inBalance: inBalance, version: version))
                if !inBalance { ours.totals.write(into: &answer, dialect: side.dialect) }
                metrics.reconciliation(channel: channel.name, inBalance: inBalance)
                journalReconciliation(request.mti.description, channel: channel, date: date, code: answer.string(39), inBalance: inBalance)
                if inBalance {
                    logger.info("host's reconciliation totals in balance", metadata: ["channel": "\(channel.name)", "date": "\(date)"])
                } else {
                    logger.warning("host's reconciliation totals out of balance", metadata: [
                        "channel": "\(channel.name)", "date": "\(date)", "differences": "\(differences.joined(separator: "; "))",
                        "pending_reversals": "\(ours.pendingReversals)",
                    ])
                }
            } catch {
                logger.error("cannot read the journal to answer a reconciliation request", metadata: ["channel": "\(channel.name)", "error": "\(error)"])
                answer.set(39, version == 0 ? "96" : "909")
            }
            do {
                let frame = try channel.mac.map { try $0.signed(answer, dialect: side.dialect) } ?? answer.encoded(as: side.dialect)
                connection.execute { connection in frame.withUnsafeBytes { try? connection.send(payload: $0) } }
            } catch {
                logger.error("cannot encode the reconciliation answer", metadata: ["channel": "\(channel.name)", "error": "\(error)"])
            }
        }
    }

    /// Sends a link the totals of a business date that just ended (0520, or 1520 in 1993 dialects),
    /// once every request of that date has been answered or timed out (a request timeout and a
    /// second after the cutover). Reversals still pending are said in the log: they may yet move
    /// the totals.
    func sendTotals(of date: BusinessDate, on channel: Channel, connection: Connection) {
        guard let durability, let side = channel.iso8583 else { return }
        let settle = channel.configuration.requestTimeout + .seconds(1)
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: settle.nanosecondsClamped))) { [self] in
            var query = JournalQuery(limit: Int.max)
            query.channel = channel.name
            do {
                let ours = JournalTotals(try durability.writer.storage.journal(query), on: date.description)
                guard let stan = channel.nextOwnStan() else { throw SwitchError("no STAN block from the cluster's database yet") }
                let message = ours.totals.request(for: date, stan: stan, dialect: side.dialect, version: side.mapping.version)
                let frame = try channel.mac.map { try $0.signed(message, dialect: side.dialect) } ?? message.encoded(as: side.dialect)
                connection.execute { connection in frame.withUnsafeBytes { try? connection.send(payload: $0) } }
                logger.info("cutover: the ended date's totals sent", metadata: [
                    "channel": "\(channel.name)", "date": "\(date)", "transactions": "\(ours.transactions)",
                    "pending_reversals": "\(ours.pendingReversals)",
                ])
            } catch {
                logger.error("cannot send the ended date's totals", metadata: ["channel": "\(channel.name)", "error": "\(error)"])
            }
        }
    }

    /// The host's answer to totals the switch sent: counted, and logged with the host's own totals
    /// when it is out of balance.
    func reconciliationAnswered(_ answer: ISO8583Message, channel: Channel) {
        let code = answer.string(39) ?? "-"
        let inBalance = ReconciliationTotals.isInBalance(code)
        metrics.reconciliation(channel: channel.name, inBalance: inBalance)
        let day = channel.configuration.businessDay?.day ?? BusinessDay()
        let date = answer.string(15).flatMap { BusinessDate.settlementDate($0, near: day.date(atUnixMilliseconds: Durability.now())) }
        journalReconciliation(answer.mti.description, channel: channel, date: date, code: code, inBalance: inBalance)
        if inBalance {
            logger.info("host's answer to the totals: in balance", metadata: ["channel": "\(channel.name)", "date": "\(answer.string(15) ?? "-")"])
        } else {
            let theirs = ReconciliationTotals(answer).map { $0.fields.map { "DE \($0.0) \($0.1)" }.joined(separator: ", ") } ?? "none"
            logger.warning("host's answer to the totals: out of balance", metadata: [
                "channel": "\(channel.name)", "date": "\(answer.string(15) ?? "-")", "code": "\(code)", "host_totals": "\(theirs)",
            ])
        }
    }
    /// A reconciliation exchange in the journal, flagged by its outcome (`in-balance` or
    /// `out-of-balance`): the day's record says whether the host agreed.
    private func journalReconciliation(_ message: String, channel: Channel, date: BusinessDate?, code: String?, inBalance: Bool) {
        guard let writer = durability?.writer else { return }
        var record = JournalRecord(id: writer.nextTransactionID(), started: Durability.now(), listener: "-", message: message, rule: "-",
                                   channel: channel.name, channelsTried: channel.name, result: inBalance ? 0 : 9109,
                                   outcome: inBalance ? "in-balance" : "out-of-balance", totalMicros: 0)
        record.responseCode = code
        record.businessDate = date?.description
        writer.journal(record: record)
    }
}
