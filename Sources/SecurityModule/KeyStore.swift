import Foundation

/// The switch's working keys (zone PIN, zone master, terminal PIN, MAC keys and DUKPT base
/// derivation keys), kept in a file with each key wrapped under the master key (AES-256-GCM,
/// bound to its name, use and cipher), beside its key check value.
///
/// The master key never comes from the configuration or the repository: from a file of 64
/// hexadecimal digits (mode 0600) or the environment (``MasterKey``). Listing a store shows names,
/// uses, ciphers and KCVs only; a key leaves it only as a ``WorkingKey`` in wiped memory.
public struct KeyStore: Sendable {
    /// One key as the file keeps it.
    public struct Entry: Sendable, Codable, Equatable {
        public var name: String
        public var usage: WorkingKey.Usage
        public var cipher: BlockCipher
        /// Key bytes.
        public var length: Int
        /// Key check value (``WorkingKey/checkValue()``).
        public var kcv: String
        /// The key sealed under the master key, hexadecimal.
        var wrapped: String
    }

    private struct File: Codable {
        var format: Int
        /// Recognises the master key the store was written under.
        var masterCheck: String
        var keys: [Entry]
    }

    public private(set) var entries: [Entry]
    private let master: MasterKey

    /// An empty store under `master`.
    public init(master: MasterKey) {
        entries = []
        self.master = master
    }

    /// Reads a store; fails when it was written under another master key or is damaged.
    public static func load(path: String, master: MasterKey) throws(SecurityError) -> KeyStore {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw SecurityError(operation: "reading the key store \(path)", reason: "\(error)")
        }
        guard file.format == 1 else {
            throw SecurityError(operation: "reading the key store \(path)", reason: "format \(file.format) is not one this payswitch reads")
        }
        guard file.masterCheck == master.check else {
            throw SecurityError(operation: "reading the key store \(path)", reason: "it was written under another master key")
        }
        var store = KeyStore(master: master)
        store.entries = file.keys
        return store
    }

    /// Writes the store (readable by its owner only), replacing the file at once.
    public func save(path: String) throws(SecurityError) {
        let file = File(format: 1, masterCheck: master.check, keys: entries)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(file)
            let temporary = path + ".new"
            guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
                throw SecurityError(operation: "writing the key store \(path)", reason: "cannot create \(temporary)")
            }
            guard rename(temporary, path) == 0 else {
                throw SecurityError(operation: "writing the key store \(path)", reason: String(cString: strerror(errno)))
            }
        } catch let error as SecurityError {
            throw error
        } catch {
            throw SecurityError(operation: "writing the key store \(path)", reason: "\(error)")
        }
    }

    /// Adds a key under a new name (or replaces one with `replacing`).
    public mutating func add(_ key: WorkingKey, name: String, replacing: Bool = false) throws(SecurityError) {
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw SecurityError(operation: "adding a key", reason: "a key name is printable ASCII without spaces")
        }
        if entries.contains(where: { $0.name == name }) && !replacing {
            throw SecurityError(operation: "adding key \(name)", reason: "the store has a key of that name (replace it explicitly)")
        }
        var plaintext = KeyStore.binding(name: name, usage: key.usage, cipher: key.cipher) + key.secret.withBytes { Array($0) }
        defer { SecretBytes.wipe(&plaintext) }
        let entry = Entry(name: name, usage: key.usage, cipher: key.cipher, length: key.secret.count, kcv: try key.checkValue(),
                          wrapped: Hex.encode(try master.protection.seal(plaintext)))
        entries.removeAll { $0.name == name }
        entries.append(entry)
        entries.sort { $0.name < $1.name }
    }

    /// The key of a name, unwrapped and checked against its KCV.
    public func key(named name: String) throws(SecurityError) -> WorkingKey {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw SecurityError(operation: "finding key \(name)", reason: "the key store has no key of that name")
        }
        guard let sealed = Hex.decode(entry.wrapped) else {
            throw SecurityError(operation: "unwrapping key \(name)", reason: "its wrapped form is not hexadecimal")
        }
        var plaintext = try master.protection.open(sealed)
        defer { SecretBytes.wipe(&plaintext) }
        let binding = KeyStore.binding(name: name, usage: entry.usage, cipher: entry.cipher)
        guard plaintext.count == binding.count + entry.length, Array(plaintext.prefix(binding.count)) == binding else {
            throw SecurityError(operation: "unwrapping key \(name)", reason: "the wrapped key belongs to another entry")
        }
        let key = try WorkingKey(cipher: entry.cipher, usage: entry.usage, secret: SecretBytes(plaintext.dropFirst(binding.count), longLived: true))
        guard try key.checkValue() == entry.kcv else {
            throw SecurityError(operation: "unwrapping key \(name)", reason: "its check value is not the one stored")
        }
        return key
    }

    /// What a wrapped key is sealed together with, so that it cannot be moved to another entry.
    private static func binding(name: String, usage: WorkingKey.Usage, cipher: BlockCipher) -> [UInt8] {
        Array("payswitch key v1\u{0}\(name)\u{0}\(usage.rawValue)\u{0}\(cipher.rawValue)\u{0}".utf8)
    }
}

/// The key that wraps the key store's keys: 32 bytes from a file of 64 hexadecimal digits, or
/// from the environment variable `PAYSWITCH_MASTER_KEY`.
public struct MasterKey: Sendable {
    let protection: DataProtection
    /// Recognises the key without revealing it.
    let check: String

    public init(key: [UInt8]) throws(SecurityError) {
        var derived = key
        defer { SecretBytes.wipe(&derived) }
        let protection = try DataProtection(key: derived)
        self.protection = protection
        check = Array("payswitch master key check".utf8).withUnsafeBufferPointer { protection.lookupHash(ofDigits: $0) }
    }

    /// The environment variable a master key may come from.
    public static let environmentVariable = "PAYSWITCH_MASTER_KEY"

    /// The master key from `file` when given, else from the environment.
    ///
    /// - Parameter create: Make the file (mode 0600) with a fresh random key when it does not exist.
    public static func load(file: String?, environment: [String: String]? = nil, create: Bool = false) throws(SecurityError) -> MasterKey {
        if let file {
            if !create && !FileManager.default.fileExists(atPath: file) {
                throw SecurityError(operation: "reading the master key", reason: "no file \(file)")
            }
            var key = try DataProtection.loadOrCreateKey(path: file).key
            defer { SecretBytes.wipe(&key) }
            return try MasterKey(key: key)
        }
        guard let text = (environment ?? ProcessInfo.processInfo.environment)[environmentVariable] else {
            throw SecurityError(operation: "reading the master key", reason: "give a master key file, or set \(environmentVariable)")
        }
        guard var key = Hex.decode(text.filter { !$0.isWhitespace }), key.count == DataProtection.keyCount else {
            throw SecurityError(operation: "reading the master key", reason: "\(environmentVariable) is not 64 hexadecimal digits")
        }
        defer { SecretBytes.wipe(&key) }
        return try MasterKey(key: key)
    }
}
