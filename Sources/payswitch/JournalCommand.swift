import ArgumentParser
import ClusterStorage
import Foundation
import SQLiteStorage
import SecurityModule
import Switch

/// `payswitch journal`: the switch's transaction journal.
struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Search the transaction journal and count it by channel and outcome.",
        subcommands: [Query.self, Stats.self])

    /// Which journal, and which records of it.
    struct Selection: ParsableArguments {
        @Option(help: "The journal database; default: the one the configuration names.") var database: String?
        @Option(help: "Switch configuration whose storage to read; default: the embedded one (payswitch-data/).") var config: String?
        @Option(help: "Data key file, to find records by full PAN; default: the configuration's.") var keyFile: String?
        @Option(help: "STAN (DE 11) as the originator sent it.") var stan: String?
        @Option(help: "Retrieval reference number (DE 37).") var rrn: String?
        @Option(help: "Terminal id (DE 41).") var terminal: String?
        @Option(help: """
            Card number: masked (411111******1111), or `-` to read it in full from standard input (looked up by its keyed \
            hash; never stored or printed, and kept off the command line, where shell history and process lists would show it).
            """)
        var pan: String?
        @Option(help: "The PAN's lookup hash, as a record shows it.") var panHash: String?
        @Option(help: "UETR (ISO 20022).") var uetr: String?
        @Option(help: "EndToEndId (ISO 20022).") var endToEndId: String?
        @Option(help: "Outcome: approved, declined, timeout, unavailable, format-error, duplicate, system-error, stored, interrupted; in-balance or out-of-balance for reconciliation exchanges.") var outcome: String?
        @Option(help: "Channel name.") var channel: String?
        @Option(help: "From this time: ISO 8601 (2026-12-01T08:00:00Z) or Unix milliseconds.") var since: String?
        @Option(help: "Before this time: ISO 8601 or Unix milliseconds.") var until: String?

        func storageConfiguration() throws -> StorageConfiguration? {
            try SwitchConfigurationFile.load(config).storage
        }

        /// The data key: `--key-file`, else the configuration's.
        func protection() throws -> DataProtection {
            guard let keyPath = try keyFile ?? storageConfiguration()?.keyFile, FileManager.default.fileExists(atPath: keyPath) else {
                throw ValidationError("this needs the data key: give --key-file")
            }
            return try DataProtection(key: try DataProtection.loadOrCreateKey(path: keyPath).key)
        }

        func open() throws -> any SwitchStorage {
            try JournalCommand.open(database: database, storage: storageConfiguration())
        }

        func query(limit: Int) throws -> JournalQuery {
            var query = JournalQuery(limit: limit)
            query.stan = stan
            query.rrn = rrn
            query.terminal = terminal
            query.panHash = panHash
            query.uetr = uetr
            query.endToEndId = endToEndId
            query.outcome = outcome
            query.channel = channel
            query.since = try since.map { try Selection.time($0, "--since") }
            query.until = try until.map { try Selection.time($0, "--until") }
            if let pan {
                if pan.contains("*") {
                    query.maskedPAN = pan
                } else {
                    guard pan == "-" else {
                        throw ValidationError("--pan takes a masked PAN with '*', or '-' to read the full number from standard input")
                    }
                    let pan = (readLine(strippingNewline: true) ?? "").filter { !$0.isWhitespace }
                    guard (12...19).contains(pan.count), pan.allSatisfy({ $0 >= "0" && $0 <= "9" }) else {
                        throw ValidationError("the card number on standard input is not 12 to 19 digits")
                    }
                    let protection = try protection()
                    query.panHash = Array(pan.utf8).withUnsafeBufferPointer { protection.recordHash(ofDigits: $0) }
                }
            }
            return query
        }

        static func time(_ text: String, _ option: String) throws -> Int64 {
            if let milliseconds = Int64(text) { return milliseconds }
            let formatter = ISO8601DateFormatter()
            guard let date = formatter.date(from: text) else {
                throw ValidationError("\(option) is ISO 8601 (2026-12-01T08:00:00Z) or Unix milliseconds, found '\(text)'")
            }
            return Int64(date.timeIntervalSince1970 * 1000)
        }
    }

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    /// The journal, read-only: `database` when given, else the configuration's storage.
    static func open(database: String?, storage: StorageConfiguration?) throws -> any SwitchStorage {
        guard let path = database ?? storage?.path else {
            throw ValidationError("the configuration has no storage: name the journal with --database")
        }
        if StorageConfiguration.isPostgres(path) { return try ClusterStore.switchStorage(path, reading: true) }
        guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no journal at \(path)") }
        return try SQLiteStorage(path: path, readOnly: true)
    }

    struct Query: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print journal records (card data masked) as a table or JSON lines.")

        @OptionGroup var selection: Selection
        @Option(help: "Most records printed.") var limit = 100
        @Option(help: "table or json (JSON lines).") var format: Format = .table
        @Flag(help: "With the request and answer, opened with the data key and shown as masked JSON.") var messages = false

        func run() throws {
            let records = try selection.open().journal(try selection.query(limit: limit))
            let shown = try messages ? shownMessages(records) : [:]
            switch format {
            case .json:
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                for record in records {
                    // `started` as ISO 8601 with milliseconds, like the table; the sealed messages
                    // only as --messages shows them (a record's sealed part is its whole block's).
                    var plain = record
                    plain.messages = nil
                    guard var object = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(plain)) as? [String: Any] else { continue }
                    object["started"] = formatter.string(from: Date(timeIntervalSince1970: Double(record.started) / 1000))
                    if let pair = shown[record.id] {
                        object["request"] = pair.request
                        object["answer"] = pair.answer
                    }
                    let line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                    print(String(decoding: line, as: UTF8.self))
                }
            case .table:
                let header = ["started", "id", "listener", "msg", "stan", "rrn", "terminal", "pan", "amount", "channel", "rule",
                              "code", "outcome", "ms", "forward"]
                var rows = [header]
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                for record in records {
                    let forward = record.forward == "none" ? "-" : "\(record.forward):\(record.forwardState ?? "?")"
                    rows.append([
                        formatter.string(from: Date(timeIntervalSince1970: Double(record.started) / 1000)), record.id, record.listener,
                        record.message, record.stan ?? "-", record.rrn ?? "-", record.terminal ?? "-", record.maskedPAN ?? "-",
                        record.amount.map { "\($0) \(record.currency ?? "")" } ?? "-", record.channel, record.rule,
                        record.responseCode ?? "-", record.outcome, String(format: "%.1f", Double(record.totalMicros) / 1000), forward,
                    ])
                }
                printTable(rows)
                for record in records where messages {
                    let pair = shown[record.id]
                    print("\n\(record.id) request: \(pair?.request ?? "-")\n\(record.id) answer:  \(pair?.answer ?? "-")")
                }
                print("\(records.count) record(s)")
            }
        }

        /// Each record's messages as masked JSON, by journal id, read with the configuration's listeners.
        private func shownMessages(_ records: [JournalRecord]) throws -> [String: (request: String?, answer: String?)] {
            let protection = try selection.protection()
            let listeners = try SwitchConfigurationFile.load(selection.config).listeners
            var shown: [String: (request: String?, answer: String?)] = [:]
            for record in records {
                guard let wire = listeners.first(where: { $0.name == record.listener })?.wire else { continue }
                shown[record.id] = record.maskedMessages(protection: protection, wire: wire)
            }
            return shown
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count journal records by channel, outcome and response code.")

        @OptionGroup var selection: Selection
        @Option(help: "table or json (JSON lines).") var format: Format = .table

        func run() throws {
            let counts = try selection.open().journalStats(try selection.query(limit: 0))
            switch format {
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                for count in counts { print(String(decoding: try encoder.encode(count), as: UTF8.self)) }
            case .table:
                var rows = [["channel", "outcome", "code", "count"]]
                for count in counts { rows.append([count.channel, count.outcome, count.responseCode ?? "-", String(count.count)]) }
                printTable(rows)
                print("\(counts.reduce(0) { $0 + $1.count }) record(s)")
            }
        }
    }
}

/// Prints rows as left-aligned columns.
func printTable(_ rows: [[String]]) {
    guard let first = rows.first else { return }
    var widths = first.map(\.count)
    for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
    for row in rows {
        print(row.enumerated().map { index, cell in cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}
