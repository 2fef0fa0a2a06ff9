import Foundation
import PaymentModel
import Testing
import TestSupport

/// `payswitch replay` and `payswitch capture` as operators run them: real processes on 127.0.0.1.
@Suite(.serialized) struct ReplayCommandTests {
    static let pan = PAN.testCard(range: "476173", account: "900101011")

    static func capture(expecting result: String, stan: String) -> String {
        """
        capture: 1
        name: cli
        sessions:
          - name: approval expecting \(result)
            listener: pos
            framing: bin2
            iso8583: iso87binary
            steps:
              - send:
                  mti: "0100"
                  fields: {2: "\(pan)", 3: "000000", 4: "000000001000", 7: "1201120000", 11: "\(stan)", 41: "TERM0001", 42: "MERCHANT0000001", 49: "840"}
              - expect:
                  mti: "0110"
                  fields: {39: "\(result)", 11: {echo: true}, 2: {echo: true}, 38: {pattern: "[0-9A-Z]{6}"}}
        """
    }

    static func folder() throws -> String {
        let directory = NSTemporaryDirectory() + "replay-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func aFailingSessionExitsOneWithItsDifferenceInTheTableAndJUnit() throws {
        let directory = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let issuer = try PayswitchServer(["sim", "issuer", "--port", "0", "--spec", "iso87binary", "--loops", "1"])
        defer { _ = issuer.stop() }
        try Self.capture(expecting: "00", stan: "000101").write(toFile: directory + "/pass.capture.yaml", atomically: true, encoding: .utf8)
        try Self.capture(expecting: "05", stan: "000102").write(toFile: directory + "/fail.capture.yaml", atomically: true, encoding: .utf8)
        let result = try PayswitchRunner.run(["replay", directory, "--target", "127.0.0.1:\(issuer.port)", "--junit", directory + "/junit.xml"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.contains("FAIL  cli / approval expecting 05"), "\(result.stdout)")
        #expect(result.stdout.contains("PASS  cli / approval expecting 00"), "\(result.stdout)")
        #expect(result.stdout.contains("fail.capture.yaml:12:9: expect 0110 (DE 39 00): DE 39: expected \"05\", got \"00\""), "\(result.stdout)")
        #expect(result.stdout.contains("1 of 2 sessions passed, 1 failed"))
        let junit = try String(contentsOfFile: directory + "/junit.xml", encoding: .utf8)
        #expect(junit.contains("tests=\"2\" failures=\"1\""))
        #expect(junit.contains("<failure message="))
        for text in [result.stdout, result.stderr, junit] { #expect(!text.contains(Self.pan)) }
    }

    @Test func aReplayThroughTheSwitchIsCapturedImportedAndReplayedAgain() throws {
        let directory = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.capture(expecting: "00", stan: "000201").write(toFile: directory + "/one.capture.yaml", atomically: true, encoding: .utf8)
        let first = try PayswitchRunner.run(["replay", directory + "/one.capture.yaml", "--config", "embedded", "--pcap", directory + "/run.pcapng"], timeout: 60)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.stdout.contains("1 of 1 sessions passed"))

        let imported = try PayswitchRunner.run(["capture", "import", directory + "/run.pcapng", "--port", "9100", "--framing", "bin2",
                                                "--spec", "iso87binary", "--out", directory + "/imported.capture.yaml"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr.contains("1 session(s), 2 frame(s)"))
        let yaml = try String(contentsOfFile: directory + "/imported.capture.yaml", encoding: .utf8)
        #expect(!yaml.contains(Self.pan), "the card number is replaced")
        #expect(yaml.contains("masked: [\"2\"]"))

        // The imported session has no listener: it goes to the switch's listener of its dialect.
        let again = try PayswitchRunner.run(["replay", directory + "/imported.capture.yaml", "--config", "embedded", "--as-fast-as-possible",
                                             "--record", directory + "/blessed.capture.yaml"], timeout: 60)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory + "/blessed.capture.yaml"))

        let exported = try PayswitchRunner.run(["capture", "export", directory + "/imported.capture.yaml", "--out", directory + "/export.pcapng"])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(exported.stderr.contains("1 conversation(s) written"))
        // The pcapng files we write hold the stand-in, never the card number that was on the wire.
        for file in ["run.pcapng", "export.pcapng"] {
            let bytes = try #require(FileManager.default.contents(atPath: directory + "/" + file))
            #expect(bytes.range(of: Data(Self.pan.utf8)) == nil, "\(file) holds the card number")
            #expect(bytes.range(of: Data("476173".utf8)) != nil, "\(file) holds the stand-in with its BIN")
        }
    }

    @Test func aReplayReachesAMutualTLSHost() throws {
        let directory = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let issuer = try PayswitchServer(["sim", "issuer", "--port", "0", "--spec", "iso87binary", "--loops", "1",
                                          "--tls-cert", TestCertificates.path("server.pem"), "--tls-key", TestCertificates.path("server.key"),
                                          "--tls-ca", TestCertificates.path("ca.pem")])
        defer { _ = issuer.stop() }
        try Self.capture(expecting: "00", stan: "000401").write(toFile: directory + "/tls.capture.yaml", atomically: true, encoding: .utf8)
        let tls = ["--tls-ca", TestCertificates.path("ca.pem"), "--tls-cert", TestCertificates.path("client.pem"),
                   "--tls-key", TestCertificates.path("client.key")]
        let passed = try PayswitchRunner.run(["replay", directory, "--target", "127.0.0.1:\(issuer.port)"] + tls)
        #expect(passed.status == 0, "\(passed.stdout)\(passed.stderr)")
        // Without TLS the host's handshake never comes: the session fails, it does not hang.
        let plain = try PayswitchRunner.run(["replay", directory, "--target", "127.0.0.1:\(issuer.port)", "--within", "1"])
        #expect(plain.status == 1)
        #expect(plain.stdout.contains("FAIL  cli / approval expecting 00"))
    }

    @Test func aBrokenCaptureIsRefusedAtItsLine() throws {
        let directory = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.capture(expecting: "00", stan: "000301").replacingOccurrences(of: "framing: bin2", with: "framing: bin7")
            .write(toFile: directory + "/broken.capture.yaml", atomically: true, encoding: .utf8)
        for arguments in [["capture", "check", directory], ["replay", directory, "--target", "127.0.0.1:1"]] {
            let result = try PayswitchRunner.run(arguments)
            #expect(result.status != 0)
            #expect(result.stderr.contains("broken.capture.yaml:6:14: error: framing 'bin7' is not a preset"), "\(result.stderr)")
        }
    }
}
