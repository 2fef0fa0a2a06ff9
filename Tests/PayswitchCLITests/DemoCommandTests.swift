import Foundation
import Synchronization
import Testing

/// `payswitch demo` as a process, as README's first command runs it.
struct DemoCommandTests {
    /// Runs `payswitch demo`, reading its output as it comes; `onLine` sees each line while the demo runs.
    static func runDemo(onLine: (String) -> Void) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = PayswitchRunner.executable
        process.arguments = ["demo"]
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let watchdog = DispatchWorkItem { [process] in if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 90, execute: watchdog)
        // Standard error is read on the side, so a full pipe never stalls the demo.
        let errors = Mutex(Data())
        let errorsRead = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let data = stderr.fileHandleForReading.readDataToEndOfFile()
            errors.withLock { $0 = data }
            errorsRead.signal()
        }
        var output = Data()
        var seen = 0
        while case let chunk = stdout.fileHandleForReading.availableData, !chunk.isEmpty {
            output.append(chunk)
            while let newline = output[seen...].firstIndex(of: UInt8(ascii: "\n")) {
                onLine(String(decoding: output[seen..<newline], as: UTF8.self))
                seen = newline + 1
            }
        }
        process.waitUntilExit()
        watchdog.cancel()
        errorsRead.wait()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors.withLock { $0 }, as: UTF8.self))
    }

    @Test func theDemoRunsTheSwitchThroughAnOutageAndPrintsItsAnswersByRoute() throws {
        let started = Date()
        var channelsWhileRunning = ""
        let demo = try Self.runDemo { line in
            // The admin endpoint answers while the demo runs.
            guard line.hasPrefix("admin: http://127.0.0.1:"), let port = line.dropFirst(24).split(separator: "/").first.flatMap({ UInt16($0) }) else {
                return
            }
            channelsWhileRunning = ServeCommandTests.http("GET", "/channels", port: port)
        }
        let seconds = Date().timeIntervalSince(started)
        #expect(demo.status == 0, "\(demo.stdout)\n\(demo.stderr)")
        #expect(seconds < 60, "the demo took \(seconds) s")
        let out = demo.stdout
        #expect(channelsWhileRunning.contains("200 OK") && channelsWhileRunning.contains("\"issuer-b\""), "\(channelsWhileRunning)")

        // The table's rows: listener, rule, channel, result, answers, meaning.
        let rows = out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        func row(_ listener: String, _ rule: String, _ channel: String, _ result: String) -> [String]? {
            rows.first { $0.count >= 5 && Array($0.prefix(4)) == [listener, rule, channel, result] }
        }
        func answered(_ listener: String, _ rule: String, _ channel: String, _ result: String) -> Bool {
            row(listener, rule, channel, result).map { (Int($0[4]) ?? 0) > 0 } ?? false
        }
        // Approvals on every route: the Mastercard rule to issuer-b (iso93ascii: translated both
        // ways), the Visa split to both issuers, the default to issuer-a over mutual TLS, transfers to the bank.
        #expect(answered("pos", "mastercard", "issuer-b", "0000"), "\(out)")
        #expect(answered("pos", "visa-split", "issuer-a", "0000"))
        #expect(answered("pos", "visa-split", "issuer-b", "0000"))
        #expect(answered("pos", "default", "issuer-a", "0000"))
        #expect(answered("banks", "transfers", "bank", "0000"))
        // The bank approves everything: its camt.029 for a cancellation (CNCL) is a success too.
        #expect(!rows.contains { $0.count > 4 && $0[0] == "banks" && $0[3] != "0000" }, "\(out)")
        // Declines: by the switch's own rule, and by an issuer.
        #expect(answered("pos", "no-gambling", "-", "1061"))
        #expect(rows.contains { $0.count > 5 && $0[0] == "pos" && $0[1] == "visa-split" && $0[3] == "1016" && $0[5] == "Insufficient" })
        // The outage: timeouts on issuer-b, then Mastercard traffic failed over to issuer-a.
        #expect(rows.contains { $0.count > 5 && $0[0] == "pos" && $0[2] == "issuer-b" && $0[3] == "9111" && (Int($0[4]) ?? 0) > 0 })
        #expect(answered("pos", "mastercard", "issuer-a", "0000"))
        #expect(row("pos", "mastercard", "issuer-a", "0000")?.joined(separator: " ").contains("failover: issuer-b skipped") == true)
        #expect(out.contains("issuer-b breaker open"))
        #expect(out.contains("issuer-b breaker closed"))
        // Every request answered, as each simulator counted.
        #expect(out.contains(" 0 lost"))
        #expect(!out.contains("FAILED"))
        #expect(out.contains("ok: every request answered"))
        #expect(out.contains("dropped on the way to issuer-b as its may-drop allows: merchant-name-location"), "the loss is reported")

        // No card number in clear anywhere, in output or logs.
        for pan in ["4761739001010119", "5555555555554444", "6011000990139424"] {
            #expect(!out.contains(pan) && !demo.stderr.contains(pan), "PAN \(pan.prefix(6))… printed in clear")
        }
    }
}
