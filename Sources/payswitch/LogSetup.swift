import CanonicalJSON
import Foundation
import Logging
import Synchronization

/// The process's logging: text or JSON lines on standard error, bootstrapped once.
enum LogSetup {
    private static let bootstrapped = Mutex(false)

    /// A logger at `level`, after bootstrapping the logging system in `format` (first call only).
    static func logger(label: String, format: LogFormat, level: String) -> Logger {
        bootstrapped.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                switch format {
                case .text: StreamLogHandler.standardError(label: label)
                case .json: JSONLinesLogHandler(label: label)
                }
            }
        }
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: level) ?? .info
        return logger
    }
}

/// One JSON object per log line on standard error: time, level, label, message and metadata.
///
/// Values are what the code logs; the switch never logs card data unmasked (its values mask
/// themselves when printed), so nothing here needs to.
struct JSONLinesLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var members: [(String, String)] = [
            ("time", Date().ISO8601Format(.iso8601.year().month().day().time(includingFractionalSeconds: true))),
            ("level", event.level.rawValue), ("label", label), ("message", "\(event.message)"),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
            members.append((key, "\(value)"))
        }
        let line = "{" + members.map { "\(MessageJSON.quote($0.0)):\(MessageJSON.quote($0.1))" }.joined(separator: ",") + "}\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
