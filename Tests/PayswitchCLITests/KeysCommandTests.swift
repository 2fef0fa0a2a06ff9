import Foundation
import Testing

/// `payswitch keys`, `pin` and `mac` end to end: keys enter by components on standard input, PINs
/// and PANs too, and nothing secret is printed or stored in clear.
@Suite struct KeysCommandTests {
    static let bdk = "0123456789ABCDEFFEDCBA9876543210"
    static let mak = "7CA110454A1A6E570131D9619DC1376E"
    /// A long PIN, so that finding it in output means it leaked (not a coincidence of hex digits).
    static let pin = "739215846021"

    @Test func keysEnterByComponentsAndServePINsAndMACs() throws {
        let folder = NSTemporaryDirectory() + "payswitch-keys-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = ["--key-store", folder + "/keys.json", "--master-key-file", folder + "/master.key"]
        var outputs: [String] = []
        func run(_ arguments: [String], _ input: String = "") throws -> PayswitchRunner.Result {
            let result = try PayswitchRunner.run(arguments + store, input: input)
            outputs += [result.stdout, result.stderr]
            return result
        }
        // Two components XORed: the BDK of X9.24's test data.
        let component = "FFFFFFFFFFFFFFFF0000000000000000"
        let other = "FEDCBA9876543210FEDCBA9876543210"  // the BDK XOR the first component
        let wrong = try run(["keys", "import", "--name", "bdk", "--usage", "bdk", "--kcv", "000000"], "\(component)\n\(other)\n")
        #expect(wrong.status != 0 && wrong.stderr.contains("not 000000"))
        let imported = try run(["keys", "import", "--name", "bdk", "--usage", "bdk", "--kcv", "08d7b4"], "\(component)\n\(other)\n")
        #expect(imported.status == 0 && imported.stdout.contains("KCV 08D7B4"), "\(imported.stderr)")
        #expect(try run(["keys", "import", "--name", "mak", "--usage", "mak"], Self.mak + "\n").status == 0)
        let generated = try run(["keys", "generate", "--name", "issuer-zpk", "--usage", "zpk", "--cipher", "aes", "--length", "32"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let listed = try run(["keys", "list"])
        #expect(listed.stdout.contains("bdk") && listed.stdout.contains("08D7B4") && listed.stdout.contains("issuer-zpk"))
        #expect(try run(["keys", "check", "--name", "bdk", "--kcv", "08D7B4"]).status == 0)
        #expect(try run(["keys", "check", "--name", "bdk", "--kcv", "123456"]).status != 0)

        // X9.24: PIN 1234, PAN 4012345678909, KSN …E00001.
        let block = try run(["pin", "encrypt", "--key", "bdk", "--ksn", "FFFF9876543210E00001"], "1234\n4012345678909\n")
        #expect(block.stdout == "1B9C1845EB993A7A\n", "\(block.stderr)")
        // A long PIN from the terminal's DUKPT key to the issuer's AES zone, then verified there.
        let terminal = try run(["pin", "encrypt", "--key", "bdk", "--ksn", "FFFF9876543210E00007"], "\(Self.pin)\n4761739001010119\n")
        let translated = try run(["pin", "translate", terminal.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--from", "bdk",
                                  "--from-ksn", "FFFF9876543210E00007", "--to", "issuer-zpk", "--to-format", "4"], "4761739001010119\n")
        #expect(translated.status == 0 && translated.stdout.count == 33, "\(translated.stderr)")
        let block4 = translated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try run(["pin", "verify", block4, "--key", "issuer-zpk", "--format", "4"], "\(Self.pin)\n4761739001010119\n").status == 0)
        #expect(try run(["pin", "verify", block4, "--key", "issuer-zpk", "--format", "4"], "739215846022\n4761739001010119\n").status == 1)

        let mac = try run(["mac", "--key", "mak"], Array("Hello World !!!!".utf8).map { String(format: "%02X", $0) }.joined() + "\n")
        #expect(mac.stdout == "F09B856213BAB83B\n", "\(mac.stderr)")
        #expect(try run(["mac", "--key", "bdk"], "00\n").status != 0, "a BDK is no MAC key")

        // Nothing secret in clear: not in any output, not in the key store.
        let stored = try String(contentsOfFile: folder + "/keys.json", encoding: .utf8)
        for text in outputs + [stored] {
            for secret in [Self.bdk, Self.mak, other, Self.pin] {
                #expect(!text.uppercased().contains(secret), "\(secret.prefix(4))… found")
            }
        }
    }
}
