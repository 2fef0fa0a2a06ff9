// The journal written to PostgreSQL four ways, the same records in one run (issue 16, G5):
// - the switch's way: records encoded into blocks of 256, each block sealed (AES-256-GCM) and
//   written as one row in one transaction (`ClusterStore.write`, what `StorageWriter` does);
// - one INSERT per record, each committed (a journal of one row per transaction);
// - UNNEST batches of 256 rows per INSERT and commit (the same rows, batched in SQL);
// - COPY FROM STDIN (text) of all the rows, one commit (the server's fastest row load).
// Run by tools/bench/journal.sh: JournalWriteBench URL [RECORDS] [SINGLE_ROW_RECORDS]
import ClusterStorage
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import SecurityModule
import Switch

let arguments = CommandLine.arguments
guard arguments.count >= 2, let location = URL(string: arguments[1]), let host = location.host, let port = location.port else {
    FileHandle.standardError.write(Data("usage: JournalWriteBench postgres://user@host:port/database [RECORDS] [SINGLE_ROW_RECORDS]\n".utf8))
    exit(2)
}
let count = arguments.count > 2 ? Int(arguments[2]) ?? 20_000 : 20_000
let singleRowCount = arguments.count > 3 ? Int(arguments[3]) ?? 2_000 : 2_000
let blockSize = 256
let logger = Logger(label: "journal-bench")

/// A day's worth of approvals as the switch journals them (what `StorageWriter` builds per request).
let started = Int64(Date().timeIntervalSince1970 * 1000)
let records: [JournalRecord] = (0..<count).map { index in
    var record = JournalRecord(id: "n1-bench-\(index)", started: started + Int64(index), listener: "pos", message: "0200", rule: "visa-domestic",
                               channel: "issuer", channelsTried: "issuer", result: 0, outcome: "approved", totalMicros: 850)
    record.stan = String(format: "%06d", index % 1_000_000)
    record.rrn = String(format: "3370%08d", index)
    record.terminal = "TERM0001"
    record.merchant = "MERCHANT0000001"
    record.maskedPAN = "476173******0119"
    record.panHash = "3f9a4761739001010119c2e1d0b7a8f6e5d4c3b2a1908f7e6d5c4b3a29180706"
    record.amount = 1_000 + Int64(index % 5_000)
    record.currency = "978"
    record.hostStan = record.stan
    record.businessDate = "2026-12-03"
    record.approvalCode = "A12345"
    record.processingCode = "000000"
    record.responseCode = "00"
    record.hostMicros = 700
    return record
}

func seconds(_ body: () async throws -> Void) async throws -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

// The switch's own path.
let protection = try DataProtection(key: try DataProtection.randomKey())
let store = try ClusterStore.switchStorage(arguments[1])
let blocks = try await seconds {
    var index = 0
    while index < records.count {
        var builder = JournalBlock.Builder()
        for record in records[index..<min(index + blockSize, records.count)] { builder.append(record) }
        var batch = StorageBatch()
        batch.journal = try builder.finish(protection: protection)
        _ = try store.write(batch)
        index += blockSize
    }
}
store.close()

// The row-per-record baselines, on a connection of their own.
let configuration = PostgresConnection.Configuration(host: host, port: port, username: location.user ?? "postgres", password: location.password,
                                                     database: String(location.path.dropFirst()), tls: .disable)
let connection = try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1, logger: logger).get()
let columns = "id text PRIMARY KEY, started bigint, listener text, message text, rule text, channel text, stan text, rrn text, terminal text, "
    + "merchant text, masked_pan text, pan_hash text, amount bigint, currency text, business_date text, approval_code text, response_code text, "
    + "outcome text, total_micros bigint, host_micros bigint"
for table in ["journal_single", "journal_unnest", "journal_copy"] {
    _ = try await connection.query(PostgresQuery(unsafeSQL: "DROP TABLE IF EXISTS \(table)"), logger: logger).get()
    _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (\(columns))"), logger: logger).get()
}

let singles = Array(records.prefix(singleRowCount))
let single = try await seconds {
    for record in singles {
        _ = try await connection.query("""
            INSERT INTO journal_single VALUES (\(record.id), \(record.started), \(record.listener), \(record.message), \(record.rule), \(record.channel),
            \(record.stan), \(record.rrn), \(record.terminal), \(record.merchant), \(record.maskedPAN), \(record.panHash), \(record.amount),
            \(record.currency), \(record.businessDate), \(record.approvalCode), \(record.responseCode), \(record.outcome), \(record.totalMicros),
            \(record.hostMicros))
            """, logger: logger)
    }
}

let unnest = try await seconds {
    var index = 0
    while index < records.count {
        let slice = records[index..<min(index + blockSize, records.count)]
        _ = try await connection.query("""
            INSERT INTO journal_unnest SELECT * FROM unnest(\(slice.map(\.id))::text[], \(slice.map(\.started))::bigint[], \(slice.map(\.listener))::text[],
            \(slice.map(\.message))::text[], \(slice.map(\.rule))::text[], \(slice.map(\.channel))::text[], \(slice.map { $0.stan ?? "" })::text[],
            \(slice.map { $0.rrn ?? "" })::text[], \(slice.map { $0.terminal ?? "" })::text[], \(slice.map { $0.merchant ?? "" })::text[],
            \(slice.map { $0.maskedPAN ?? "" })::text[], \(slice.map { $0.panHash ?? "" })::text[], \(slice.map { $0.amount ?? 0 })::bigint[],
            \(slice.map { $0.currency ?? "" })::text[], \(slice.map { $0.businessDate ?? "" })::text[], \(slice.map { $0.approvalCode ?? "" })::text[],
            \(slice.map { $0.responseCode ?? "" })::text[], \(slice.map(\.outcome))::text[], \(slice.map(\.totalMicros))::bigint[],
            \(slice.map { $0.hostMicros ?? 0 })::bigint[])
            """, logger: logger)
        index += blockSize
    }
}

let copy = try await seconds {
    try await connection.copyFrom(table: "journal_copy", logger: logger) { writer in
        var buffer = ByteBuffer()
        for (index, record) in records.enumerated() {
            let fields: [String] = [
                record.id, "\(record.started)", record.listener, record.message, record.rule, record.channel, record.stan ?? "", record.rrn ?? "",
                record.terminal ?? "", record.merchant ?? "", record.maskedPAN ?? "", record.panHash ?? "", "\(record.amount ?? 0)",
                record.currency ?? "", record.businessDate ?? "", record.approvalCode ?? "", record.responseCode ?? "", record.outcome,
                "\(record.totalMicros)", "\(record.hostMicros ?? 0)",
            ]
            buffer.writeString(fields.joined(separator: "\t"))
            buffer.writeString("\n")
            if buffer.readableBytes > 1 << 16 || index == records.count - 1 {
                try await writer.write(buffer)
                buffer.clear()
            }
        }
    }
}
try await connection.close().get()

let rates = (blocks: Double(count) / blocks, single: Double(singles.count) / single, unnest: Double(count) / unnest, copy: Double(count) / copy)
print(String(format: "journal: %d records: sealed blocks of %d (the switch) %.0f records/s; one INSERT per record (%d, each committed) %.0f/s; "
             + "UNNEST of %d rows %.0f/s; COPY FROM STDIN %.0f/s", count, blockSize, rates.blocks, singles.count, rates.single, blockSize,
             rates.unnest, rates.copy))
print(String(format: "journal: the switch's blocks are %.1fx single-row INSERTs and %.0f %% of COPY", rates.blocks / rates.single,
             100 * rates.blocks / rates.copy))
