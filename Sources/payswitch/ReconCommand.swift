import ArgumentParser
import Dispatch
import Foundation
import ISO8583
import PaymentModel
import SQLiteStorage
import Switch
import Synchronization
import Transport

/// `payswitch recon`: a business date's reconciliation totals, from the journal, and the
/// reconciliation message (0520, 1520) that checks them with a host.
struct ReconCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recon",
        abstract: "Reconciliation totals (DE 74-97) of a business date from the journal, sent to a host on demand.",
        subcommands: [Totals.self])

    struct Totals: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a channel's totals for a business date; with --send, check them with its host (0520 or 1520).",
            discussion: """
                Counts are what the host booked as far as the journal knows it: approvals, and the originals and reversals \
                of reversals the host acknowledged as booked. Exits 1 while a reversal of the date is unacknowledged, or \
                when the host answers out of balance (its totals and the differences are printed).
                """)

        @Option(help: "Business date, yyyy-MM-dd.") var date: String
        @Option(help: "Channel name (its records, and with --send its host).") var channel: String
        @Option(help: "Switch configuration (storage, channel); default: the embedded one.") var config: String?
        @Option(help: "The journal database; default: the configuration's.") var database: String?
        @Option(help: "table or json.") var format: JournalCommand.Format = .table
        @Flag(help: "Send the totals to the channel's first address as 0520 (1987) or 1520 (1993) and report the host's answer.")
        var send = false
        @Option(help: "Seconds to wait for the host's answer.") var timeout = 10.0

        func run() throws {
            guard BusinessDate(date) != nil else { throw ValidationError("--date is yyyy-MM-dd, found '\(date)'") }
            let configuration = try SwitchConfigurationFile.load(config)
            var query = JournalQuery(limit: Int.max)
            query.channel = channel
            let records = try JournalCommand.open(database: database, storage: configuration.storage).journal(query)
            let computed = JournalTotals(records, on: date)
            var exitCode: Int32 = computed.pendingReversals > 0 ? 1 : 0
            var verdict: (code: String, differences: [String])? = nil
            if send {
                guard let channelConfiguration = configuration.channels.first(where: { $0.name == channel }) else {
                    throw ValidationError("the configuration has no channel '\(channel)'")
                }
                verdict = try Totals.check(computed.totals, date: BusinessDate(date)!, with: channelConfiguration, timeout: timeout)
                if let verdict, !verdict.differences.isEmpty || !ReconciliationTotals.isInBalance(verdict.code) { exitCode = 1 }
            }
            switch format {
            case .json:
                var object: [String: Any] = ["date": date, "channel": channel, "transactions": computed.transactions,
                                             "pendingReversals": computed.pendingReversals]
                object["fields"] = Dictionary(uniqueKeysWithValues: computed.totals.fields.map { (String($0.0), $0.1) })
                if let verdict { object["host"] = ["code": verdict.code, "differences": verdict.differences] }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            case .table:
                let names = [74: "credits", 75: "credit reversals", 76: "debits", 77: "debit reversals", 78: "transfers",
                             79: "transfer reversals", 80: "inquiries", 81: "authorizations", 86: "credits amount",
                             87: "credit reversals amount", 88: "debits amount", 89: "debit reversals amount", 97: "net settlement"]
                var rows = [["DE", "total", "value"]]
                for (field, value) in computed.totals.fields { if let name = names[field] { rows.append([String(field), name, value]) } }
                printTable(rows)
                print("\(computed.transactions) transaction(s) on \(date) at \(channel); \(computed.pendingReversals) reversal(s) pending")
                if let verdict {
                    print("host: \(verdict.code)" + (verdict.differences.isEmpty ? " (in balance)" : ""))
                    for difference in verdict.differences { print("  \(difference)") }
                }
            }
            if exitCode != 0 { throw ExitCode(exitCode) }
        }

        /// Sends the totals to the channel's first address and reads the answer: its code, and
        /// the differences from the totals it carries back when out of balance.
        static func check(_ totals: ReconciliationTotals, date: BusinessDate, with channel: ChannelConfiguration,
                          timeout: Double) throws -> (code: String, differences: [String]) {
            guard case .iso8583(let dialect, let mapping) = channel.wire else { throw ValidationError("--send needs an ISO 8583 channel") }
            guard let address = channel.addresses.first else { throw ValidationError("channel '\(channel.name)' has no address") }
            // Said, not left to the host to refuse: this command holds no key to sign with.
            guard channel.macKey == nil else {
                throw ValidationError("channel '\(channel.name)' signs its messages (mac): --send cannot; use business-day: {send-totals: true}")
            }
            // A STAN of its own that the switch's (counting up from 1 per channel) is unlikely to hold now.
            let stan = UInt32(Date().timeIntervalSince1970) % 999_999 + 1
            let frame = try totals.request(for: date, stan: stan, dialect: dialect, version: mapping.version).encoded(as: dialect)
            let group = EventLoopGroup(count: 1)
            let answer = Mutex<[UInt8]?>(nil)
            let done = DispatchSemaphore(value: 0)
            let tls = try channel.tls.map { try TLSContext($0, isClient: true) }
            let connection = try Connection.connect(
                host: address.host, port: address.port, loop: group.nextLoop(), format: channel.framing, tls: tls,
                handlers: .init(
                    onFrame: { _, frame in
                        answer.withLock { $0 = [UInt8](frame.payload) }
                        done.signal()
                    },
                    onClose: { _, _ in done.signal() },
                    onActive: { connection in frame.withUnsafeBytes { try? connection.send(payload: $0) } }))
            _ = done.wait(timeout: .now() + timeout)
            connection.execute { $0.close() }
            guard let bytes = answer.withLock({ $0 }) else {
                throw ValidationError("no answer from \(address) within \(timeout) s")
            }
            let reply = try ISO8583Message(decoding: bytes, dialect: dialect)
            let code = reply.string(39) ?? "-"
            let theirs = ReconciliationTotals(reply) ?? totals
            return (code, totals.differences(from: theirs))
        }
    }
}
