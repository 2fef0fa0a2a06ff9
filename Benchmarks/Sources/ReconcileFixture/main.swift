// Writes a day-end fixture: a journal of N approved purchases on one business date and the host's
// clearing file (the sim-issuer layout) for them, with a known difference every 100,000 rows (an
// amount one higher) and ten host rows the journal lacks. Used by tools/bench/reconcile.sh to time
// `payswitch reconcile` on a million rows.
//   ReconcileFixture DIRECTORY ROWS
import Foundation
import SQLiteStorage
import Switch

let arguments = CommandLine.arguments
guard arguments.count == 3, let rows = Int(arguments[2]), rows > 0 else {
    FileHandle.standardError.write(Data("usage: ReconcileFixture DIRECTORY ROWS\n".utf8))
    exit(2)
}
let directory = arguments[1]
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
let date = "2026-12-01"

func digits(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return String(repeating: "0", count: max(0, width - text.count)) + text
}

// The journal, in blocks of 1,000 records as the switch's writer commits them.
let storage = try SQLiteStorage(path: directory + "/journal.sqlite", synchronous: .normal)
var number = 0
while number < rows {
    var builder = JournalBlock.Builder()
    for _ in 0..<min(1000, rows - number) {
        number += 1
        var record = JournalRecord(id: "bench-\(number)", started: 1_796_100_000_000 + Int64(number), listener: "pos", message: "0200",
                                   rule: "default", channel: "issuer", channelsTried: "issuer", result: 0, outcome: "approved",
                                   totalMicros: 900)
        record.stan = digits(number % 1_000_000, 6)
        record.hostStan = record.stan
        record.rrn = digits(number, 12)
        record.terminal = "TERM" + digits(number % 1000, 4)
        record.maskedPAN = "476173******0119"
        record.amount = 1250
        record.currency = "840"
        record.responseCode = "00"
        record.approvalCode = "A" + digits(number % 100_000, 5)
        record.processingCode = "000000"
        record.businessDate = date
        builder.append(record)
    }
    var batch = StorageBatch()
    batch.journal = builder.finish { (plaintext: [UInt8]) -> [UInt8] in plaintext }
    _ = try storage.write(batch)
}

// The clearing file, written in large chunks.
FileManager.default.createFile(atPath: directory + "/clearing.csv", contents: nil)
let file = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/clearing.csv"))
var chunk = "business_date,record,rrn,stan,terminal,approval_code,amount,currency,masked_pan,message,processing_code\n"
func row(_ number: Int, amount: Int) -> String {
    "\(date),approval,\(digits(number, 12)),\(digits(number % 1_000_000, 6)),TERM\(digits(number % 1000, 4)),A\(digits(number % 100_000, 5)),"
        + "\(amount),840,476173******0119,0200,000000\n"
}
for number in 1...rows {
    chunk += row(number, amount: number % 100_000 == 0 ? 1251 : 1250)
    if chunk.utf8.count > 1 << 20 {
        file.write(Data(chunk.utf8))
        chunk = ""
    }
}
for extra in 1...10 { chunk += row(rows + extra, amount: 1250) }
file.write(Data(chunk.utf8))
try file.close()
print("\(rows) journal records and \(rows + 10) clearing rows in \(directory) (business date \(date), channel issuer)")
