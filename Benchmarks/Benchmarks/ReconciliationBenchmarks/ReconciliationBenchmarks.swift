import Benchmark
import Foundation
import Reconciliation

/// The reconciler's own work on a million-row clearing file: streaming, parsing and matching
/// against a million expected items held in memory (the journal read is timed end to end by
/// tools/bench/reconcile.sh).
let benchmarks: @Sendable () -> Void = {
    let rows = 1_000_000
    let date = "2026-12-01"
    let path = NSTemporaryDirectory() + "payswitch-reconcile-bench.csv"
    func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    var text = "business_date,record,rrn,stan,terminal,approval_code,amount,currency,masked_pan,message,processing_code\n"
    var expected: [ExpectedItem] = []
    expected.reserveCapacity(rows)
    for number in 1...rows {
        text += "\(date),approval,\(digits(number, 12)),\(digits(number % 1_000_000, 6)),TERM\(digits(number % 1000, 4)),A00001,1250,840,"
            + "476173******0119,0200,000000\n"
        var item = ExpectedItem(reference: "bench-\(number)", state: .settled)
        item.rrn = digits(number, 12)
        item.terminal = "TERM" + digits(number % 1000, 4)
        item.amount = 1250
        item.currency = "840"
        expected.append(item)
    }
    FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    let layout = try! ClearingLayout.shipped("sim-issuer")

    Benchmark("Reconcile 1M rows against 1M journal items",
              configuration: .init(metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident], maxIterations: 5)) { benchmark in
        var reconciler = Reconciler(layout: layout, businessDate: date, expected: expected)
        try reconciler.read(file: path)
        blackHole(reconciler.report().counts[.matched])
    }
}
