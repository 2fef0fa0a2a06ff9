import ArgumentParser
import Foundation
import ISO8583
import SecurityModule

/// Where the key store is, and the master key that opens it.
struct KeyStoreOptions: ParsableArguments {
    @Option(help: "The key store file.") var keyStore = "payswitch-data/keys.json"
    @Option(help: ArgumentHelp("File of the master key (64 hexadecimal digits, mode 0600); default: the environment's \(MasterKey.environmentVariable).",
                               discussion: "`keys generate` and `keys import` create it, with a fresh random key, for a new store."))
    var masterKeyFile: String?

    /// The store, or a new empty one (and its master key file) when `creating` and there is none.
    func open(creating: Bool = false) throws -> KeyStore {
        let exists = FileManager.default.fileExists(atPath: keyStore)
        if !exists && creating {
            // The store's folder and the master key's, readable by their owner only.
            for path in [keyStore] + (masterKeyFile.map { [$0] } ?? []) {
                let folder = (path as NSString).deletingLastPathComponent
                if !folder.isEmpty {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                }
            }
            return KeyStore(master: try MasterKey.load(file: masterKeyFile, create: true))
        }
        guard exists else { throw ValidationError("no key store at \(keyStore)") }
        return try KeyStore.load(path: keyStore, master: try MasterKey.load(file: masterKeyFile))
    }
}

/// A value of the security module's enumerations, named on the command line.
func commandLineValue<Value: RawRepresentable>(_ text: String, _ option: String) throws -> Value where Value.RawValue == String {
    guard let value = Value(rawValue: text.lowercased()) else { throw ValidationError("\(option) does not take '\(text)'") }
    return value
}

/// A PIN block format named on the command line: 0, 1, 3 or 4.
func commandLineFormat(_ number: Int, _ option: String) throws -> PINBlock.Format {
    guard let format = PINBlock.Format(rawValue: number) else { throw ValidationError("\(option) is 0, 1, 3 or 4") }
    return format
}

/// `payswitch keys`: the working keys of the software security module.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the key store: zone PIN and master keys, terminal PIN keys, MAC keys, DUKPT base derivation keys.",
        discussion: "Keys are kept wrapped under the master key; listings show names, uses, ciphers and check values only.",
        subcommands: [Generate.self, Import.self, List.self, Check.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a random key and add it to the store; prints its check value.")
        @OptionGroup var store: KeyStoreOptions
        @Option(help: "The key's name.") var name: String
        @Option(help: "zpk, zmk, tpk, mak or bdk.") var usage: String
        @Option(help: "tdes or aes.") var cipher = "tdes"
        @Option(help: "Bytes: 16 or 24 (TDES); 16, 24 or 32 (AES).") var length = 16
        @Flag(help: "Replace a key of the same name.") var replace = false

        func run() throws {
            let key = try WorkingKey(cipher: try commandLineValue(cipher, "--cipher"), usage: try commandLineValue(usage, "--usage"),
                                     secret: SecretBytes.random(count: length))
            var keys = try store.open(creating: true)
            try keys.add(key, name: name, replacing: replace)
            try keys.save(path: store.keyStore)
            print("\(name) \(key.usage.rawValue) \(key.cipher.rawValue) \(length) KCV \(try key.checkValue())")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a key read from standard input: one line of hexadecimal digits per component, XORed together.",
            discussion: "Read from standard input so that no key part is on the command line, in shell history or in a process list.")
        @OptionGroup var store: KeyStoreOptions
        @Option(help: "The key's name.") var name: String
        @Option(help: "zpk, zmk, tpk, mak or bdk.") var usage: String
        @Option(help: "tdes or aes.") var cipher = "tdes"
        @Option(help: "The check value the key must have (6 hexadecimal digits).") var kcv: String?
        @Flag(help: "Replace a key of the same name.") var replace = false

        func run() throws {
            var combined: [UInt8]? = nil
            defer { if combined != nil { SecretBytes.wipe(&combined!) } }
            var line = 0
            while let text = readLine(strippingNewline: true) {
                line += 1
                let trimmed = text.filter { !$0.isWhitespace }
                if trimmed.isEmpty { continue }
                guard var part = Hex.decode(trimmed) else { throw ValidationError("component \(line) is not hexadecimal digits") }
                defer { SecretBytes.wipe(&part) }
                if combined == nil { combined = part } else {
                    guard part.count == combined!.count else { throw ValidationError("component \(line) is \(part.count) bytes, the first \(combined!.count)") }
                    for index in part.indices { combined![index] ^= part[index] }
                }
            }
            guard let bytes = combined else { throw ValidationError("no key component on standard input") }
            let key = try WorkingKey(cipher: try commandLineValue(cipher, "--cipher"), usage: try commandLineValue(usage, "--usage"),
                                     secret: SecretBytes(bytes))
            let value = try key.checkValue()
            if let kcv, kcv.uppercased() != value {
                throw ValidationError("the key's check value is \(value), not \(kcv.uppercased()): not added")
            }
            var keys = try store.open(creating: true)
            try keys.add(key, name: name, replacing: replace)
            try keys.save(path: store.keyStore)
            print("\(name) \(key.usage.rawValue) \(key.cipher.rawValue) \(bytes.count) KCV \(value)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys: name, use, cipher, length and check value.")
        @OptionGroup var store: KeyStoreOptions

        func run() throws {
            var rows = [["name", "usage", "cipher", "bytes", "kcv"]]
            for entry in try store.open().entries {
                rows.append([entry.name, entry.usage.rawValue, entry.cipher.rawValue, String(entry.length), entry.kcv])
            }
            printTable(rows)
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Unwrap a key and print its check value; with --kcv, fail unless it is that one.")
        @OptionGroup var store: KeyStoreOptions
        @Option(help: "The key's name.") var name: String
        @Option(help: "The check value it must have.") var kcv: String?

        func run() throws {
            let value = try store.open().key(named: name).checkValue()
            print("\(name) KCV \(value)")
            if let kcv, kcv.uppercased() != value { throw ExitCode(1) }
        }
    }
}
