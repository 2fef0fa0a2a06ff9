import Foundation
import Logging
import Synchronization

/// One message a simulator received, as recorded for tests and operators: identification and
/// outcome only, the PAN masked. Never the track data, PIN block or chip data.
public struct ReceivedMessage: Sendable, Hashable, Codable {
    /// A fault the simulator injected instead of a plain answer.
    public enum Fault: String, Sendable, Hashable, Codable {
        case drop, late, close, garbage, stopReading
    }

    /// The MTI (`0200`) or ISO 20022 message (`pacs.008.001.08`); `?` when undecodable.
    public var message: String
    public var kind: String?
    public var stan: String?
    public var rrn: String?
    /// Original data elements of a reversal or advice (DE 90, or DE 56 in 1993 dialects).
    public var original: String?
    public var messageId: String?
    public var endToEndId: String?
    /// The PAN, masked (`411111******1111`).
    public var pan: String?
    public var amount: String?
    /// The answer's code: DE 39, or ISO 20022 status/reason.
    public var result: String?
    /// With a PIN check: whether the PIN block held the expected PIN (`verified` or `wrong`).
    public var pin: String?
    public var fault: Fault?
    /// Why the message could not be read (field, offset and reason).
    public var problem: String?

    public init(message: String, problem: String? = nil) {
        self.message = message
        self.problem = problem
    }

    /// One JSON line.
    public var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}

/// Appends lines to a file (records as JSON lines, clearing rows), off the connections' queues. A failed write (disk
/// full, file gone) is counted and logged once, never a trap.
final class Recorder: Sendable {
    private let queue = DispatchQueue(label: "payswitch.sim.recorder")
    private let handle: FileHandle
    private let path: String
    private let logger: Logger
    private let failedWrites = Mutex(0)

    /// Records that could not be written.
    var failures: Int { failedWrites.withLock { $0 } }

    init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw SimulatorError("cannot open the record file \(path) for writing")
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    func write(_ message: ReceivedMessage) {
        write(line: message.jsonLine)
    }

    /// Appends one line (the newline is added).
    func write(line text: String) {
        let line = Data((text + "\n").utf8)
        queue.async { [self] in
            do {
                try handle.write(contentsOf: line)
            } catch {
                let first = failedWrites.withLock { count in
                    count += 1
                    return count == 1
                }
                if first { logger.error("cannot write the record file; records are lost from here", metadata: ["file": "\(path)", "error": "\(error)"]) }
            }
        }
    }

    /// Waits until every record handed over is written.
    func flush() {
        queue.sync { [handle] in try? handle.synchronize() }
    }
}

/// A simulator could not start or run: the reason.
public struct SimulatorError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
