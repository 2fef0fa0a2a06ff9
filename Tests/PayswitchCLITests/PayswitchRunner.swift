import Foundation

/// Runs the built `payswitch` binary as a child process, with a deadline, and captures its output.
struct PayswitchRunner {
    /// The `payswitch` executable built next to the test bundle.
    static var executable: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("payswitch")
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `payswitch arguments…`, feeding `input` on standard input; kills it after `timeout` seconds.
    static func run(_ arguments: [String], input: String = "", timeout: Double = 30) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let deadline = DispatchTime.now() + timeout
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: deadline, execute: watchdog)
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self))
    }
}

/// A `payswitch` server process (`sim issuer`, `transport echo`) on 127.0.0.1: started, its port
/// read from its first line, stopped with SIGTERM.
final class PayswitchServer {
    let process = Process()
    private let stdout = Pipe()
    let port: UInt16

    struct NoPort: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts `payswitch arguments…` (which must print `… listening on HOST:PORT` first) and waits for its port.
    /// - Parameter standardError: A file the process's standard error (its log) is appended to; discarded when nil.
    /// - Parameter input: What the process reads on standard input (a PIN for `sim issuer --pin-key`).
    init(_ arguments: [String], timeout: Double = 20, standardError: String? = nil, input: String? = nil) throws {
        process.executableURL = PayswitchRunner.executable
        process.arguments = arguments
        process.standardOutput = stdout
        let stdin = Pipe()
        if input != nil { process.standardInput = stdin }
        if let standardError {
            if !FileManager.default.fileExists(atPath: standardError) { _ = FileManager.default.createFile(atPath: standardError, contents: nil) }
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: standardError))
            log.seekToEndOfFile()
            process.standardError = log
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        // Kill it if it never says where it listens.
        let watchdog = DispatchWorkItem { [process] in if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        var line: [UInt8] = []
        let handle = stdout.fileHandleForReading
        while let byte = try handle.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") { line.append(byte) }
        watchdog.cancel()
        let text = String(decoding: line, as: UTF8.self)
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            process.terminate()
            throw NoPort(description: "no port in the first line: '\(text)'")
        }
        self.port = port
    }

    /// Kills the process with SIGKILL: no shutdown, no flush, as a crash.
    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends SIGTERM, waits (bounded) for the exit and returns the rest of standard output.
    func stop() -> (status: Int32, stdout: String) {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let rest = stdout.fileHandleForReading.readDataToEndOfFile()
        return (process.terminationStatus, String(decoding: rest, as: UTF8.self))
    }
}

/// A `payswitch` run on another thread, for load that must overlap what the test does next.
final class BackgroundRun: @unchecked Sendable {
    private let group = DispatchGroup()
    // Written once before `leave`, read only after `wait` sees it: the group orders the two.
    private var result: PayswitchRunner.Result?

    init(_ arguments: [String]) {
        group.enter()
        DispatchQueue.global().async {
            self.result = try? PayswitchRunner.run(arguments)
            self.group.leave()
        }
    }

    /// The run's result once it ends; nil when it could not start or did not end in `seconds`.
    func wait(seconds: Double = 30) -> PayswitchRunner.Result? {
        group.wait(timeout: .now() + seconds) == .success ? result : nil
    }
}
