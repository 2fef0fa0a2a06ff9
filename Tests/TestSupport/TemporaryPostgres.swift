import Foundation

/// A PostgreSQL server for the tests of this process, on loopback in a temporary directory
/// (`tools/postgres.sh`), started on first use and stopped when the process exits; each test
/// asks for a database of its own.
public enum TemporaryPostgres {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private static let repository: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/TestSupport/TemporaryPostgres.swift
        return parts.joined(separator: "/")
    }()

    private static let server: Result<String, Failure> = {
        stopServersOfEndedProcesses()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("payswitch-pg-\(getpid())").path
        let status = run([repository + "/tools/postgres.sh", "start", directory])
        guard status == 0, let url = try? String(contentsOfFile: directory + "/url", encoding: .utf8) else {
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
            return .failure(Failure(description: "tools/postgres.sh start failed (\(status)): \(log)"))
        }
        stopDirectory = strdup(directory)
        atexit {
            guard let directory = TemporaryPostgres.stopDirectory else { return }
            _ = TemporaryPostgres.run([TemporaryPostgres.repository + "/tools/postgres.sh", "stop", String(cString: directory)])
        }
        return .success(url.trimmingCharacters(in: .whitespacesAndNewlines))
    }()

    nonisolated(unsafe) private static var stopDirectory: UnsafeMutablePointer<CChar>?

    /// Stops the servers of test processes that ended without stopping theirs (a crash, a kill).
    private static func stopServersOfEndedProcesses() {
        let temporary = FileManager.default.temporaryDirectory.path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] where name.hasPrefix("payswitch-pg-") {
            guard let pid = Int32(name.dropFirst("payswitch-pg-".count)), kill(pid, 0) != 0, errno == ESRCH else { continue }
            _ = run([repository + "/tools/postgres.sh", "stop", temporary + "/" + name])
        }
    }

    /// The URL of a new, empty database named `name` (letters, digits and `_`) on the server.
    public static func database(_ name: String) throws -> String {
        let url = try server.get()
        // psql's messages go to a file: pipes read by several tests at once crashed Foundation here.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("payswitch-pg-\(getpid())-\(name).log").path
        let status = run(["/bin/sh", "-c", "psql \"$0\" -q -v ON_ERROR_STOP=1 -c \"DROP DATABASE IF EXISTS $1\" -c \"CREATE DATABASE $1\" >\"$2\" 2>&1",
                           url, name, log])
        defer { try? FileManager.default.removeItem(atPath: log) }
        guard status == 0 else {
            throw Failure(description: "cannot create database \(name): " + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "psql failed"))
        }
        return String(url[...url.lastIndex(of: "/")!]) + name
    }

    /// The bytes of `pg_dump` of the database at `url` (plain SQL, data included).
    public static func dump(_ url: String) throws -> [UInt8] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("payswitch-pg-dump-\(UUID().uuidString).sql").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let status = run(["/bin/sh", "-c", "pg_dump \"$0\" -f \"$1\"", url, file])
        guard status == 0, let bytes = FileManager.default.contents(atPath: file) else {
            throw Failure(description: "pg_dump failed (\(status))")
        }
        return Array(bytes)
    }

    /// `dump` without its bytea values (`\x` and hexadecimal digits) and without words of
    /// hexadecimal digits and letters (hashes, such as the data key's check): digit runs inside
    /// them are no card numbers, and some pass the Luhn check.
    public static func withoutHexadecimal(_ dump: [UInt8]) -> [UInt8] {
        var kept: [UInt8] = []
        kept.reserveCapacity(dump.count)
        var index = 0
        while index < dump.count {
            if dump[index] == UInt8(ascii: "\\"), index + 1 < dump.count, dump[index + 1] == UInt8(ascii: "x") {
                index += 2
                while index < dump.count, dump[index].isHexadecimalDigit { index += 1 }
                kept.append(UInt8(ascii: " "))
                continue
            }
            var end = index
            while end < dump.count, dump[end].isHexadecimalDigit { end += 1 }
            if end > index, dump[index..<end].contains(where: { !(0x30...0x39).contains($0) }),
               end == dump.count || !dump[end].isLetter, index == 0 || !dump[index - 1].isLetter {
                // A word of hexadecimal digits with a letter in it.
                kept.append(UInt8(ascii: " "))
                index = end
            } else {
                kept.append(contentsOf: dump[index..<max(end, index + 1)])
                index = max(end, index + 1)
            }
        }
        return kept
    }

    /// Runs a command to its end, its output discarded: its status. No pipe: the server it may
    /// start would hold one open, and pipes read by several tests at once crashed Foundation here.
    static func run(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

extension UInt8 {
    fileprivate var isHexadecimalDigit: Bool {
        (0x30...0x39).contains(self) || (0x61...0x66).contains(self) || (0x41...0x46).contains(self)
    }

    fileprivate var isLetter: Bool { (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) }
}
