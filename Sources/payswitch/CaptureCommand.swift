import ArgumentParser
import Conformance
import Foundation
import ISO8583
import Transport

/// `payswitch capture`: conformance captures from and to packet captures.
struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Make conformance captures from pcap/pcapng files, write them as pcapng, check them.",
        subcommands: [Import.self, Export.self, Check.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn a pcap or pcapng file (tcpdump, tshark, Wireshark) into a conformance capture.",
            discussion: """
                Reads pcap (either byte order, micro- or nanosecond times) and pcapng (any number of
                interfaces); Ethernet, Linux cooked (v1 and v2), loopback and raw IP links; IPv4 and IPv6.
                Each TCP conversation with --port is reassembled in order (retransmissions and overlaps
                dropped, gaps reported), cut into frames by --framing, and becomes a session: the client's
                frames are sends, the server's exact expectations. Card data is replaced by test values of
                the same shape (the BIN kept) and listed under each frame's `masked`. Notes about gaps,
                partial frames and frames that do not decode go to standard error.
                """)

        @Argument(help: "The pcap or pcapng file.") var file: String
        @Option(help: "The server's TCP port (the switch or host that was captured).") var port: UInt16
        @Option(help: "The framing preset: \(FrameFormat.presets.map(\.0).joined(separator: ", ")).") var framing: String
        @Option(help: "The ISO 8583 dialect of the frames.") var spec: String?
        @Flag(help: "The frames are ISO 20022 documents.") var iso20022 = false
        @Option(help: "The capture's name (default: the file's name).") var name: String?
        @Option(help: "Write the capture here instead of standard output.") var out: String?

        func validate() throws {
            guard (spec == nil) != !iso20022 else { throw ValidationError("give exactly one of --spec DIALECT and --iso20022") }
            guard FrameFormat.preset(named: framing) != nil else { throw ValidationError("--framing \(framing) is not a preset") }
            if let spec, !Dialect.shippedNames.contains(spec) {
                throw ValidationError("--spec \(spec) is not a shipped dialect: \(Dialect.shippedNames.joined(separator: ", "))")
            }
        }

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let options = CaptureImportOptions(serverPort: port, framing: FrameFormat.preset(named: framing) ?? .bin2, framingName: framing,
                                               wire: spec.map { .iso8583(dialect: $0) } ?? .iso20022,
                                               name: name ?? (file as NSString).lastPathComponent)
            let (capture, notes) = try Capture.imported(from: [UInt8](data), options: options)
            for note in notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
            let frames = capture.sessions.reduce(0) { $0 + $1.steps.count }
            FileHandle.standardError.write(Data("\(capture.sessions.count) session(s), \(frames) frame(s)\n".utf8))
            try write(capture.yaml(), to: out)
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a capture's sessions as a pcapng file Wireshark opens.",
            discussion: """
                Each session becomes a TCP connection on 127.0.0.1 (synthetic handshake and close) to
                --port: its sends as written and each expected answer rebuilt from its exact values.
                Answers checked only by pattern or ISO 20022 path cannot be rebuilt and are left out (noted
                on standard error); `payswitch replay --pcap FILE` writes the answers a host really sent.
                Open with: wireshark -d tcp.port==PORT,iso8583 -o iso8583.len_endian:bigendian FILE
                """)

        @Argument(help: "The capture file.") var file: String
        @Option(help: "The server port to write.") var port: UInt16 = 9100
        @Option(help: "The pcapng file to write.") var out: String

        func run() throws {
            let capture = try ReplayCommand.loadCaptures([file])[0].1
            let (conversations, notes) = capture.conversations(serverPort: port, start: Int64(Date().timeIntervalSince1970 * 1e9))
            for note in notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
            let bytes = PcapngWriter.write(conversations, comment: "payswitch capture export of \(capture.name)")
            try writeFile(Data(bytes), to: out)
            FileHandle.standardError.write(Data("\(conversations.count) conversation(s) written to \(out)\n".utf8))
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check that capture files read (every error names file:line:column).")

        @Argument(help: "Capture files, or folders holding *.capture.yaml files.") var paths: [String]

        func run() throws {
            let captures = try ReplayCommand.loadCaptures(paths)
            let sessions = captures.reduce(0) { $0 + $1.1.sessions.count }
            print("\(captures.count) capture(s), \(sessions) session(s): ok")
        }
    }
}

/// Writes text to a file, or to standard output when `path` is nil.
func write(_ text: String, to path: String?) throws {
    guard let path else {
        print(text, terminator: "")
        return
    }
    try writeFile(Data(text.utf8), to: path)
}

/// Writes a file the user named (a capture, a report, a pcapng), or says which could not be written.
func writeFile(_ contents: Data, to path: String) throws {
    guard FileManager.default.createFile(atPath: path, contents: contents) else { throw ValidationError("cannot write \(path)") }
}
