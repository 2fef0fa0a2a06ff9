internal import CLibCrypto

/// The CBC cipher of the retail MAC, fetched from OpenSSL's default provider once for the life of
/// the process (measured faster than passing `EVP_des_ede3_cbc()` to each init; for the ECB
/// ciphers it was not).
private enum Fetched {
    nonisolated(unsafe) static let tdes3CBC = EVP_CIPHER_fetch(nil, "DES-EDE3-CBC", nil)
}

/// The block ciphers of payment security, over OpenSSL's EVP interface: TDES (double or triple
/// length) and AES (128, 192, 256), one block at a time in ECB (what PIN blocks, DUKPT and key
/// check values use); single DES as TDES with one key three times (OpenSSL 3 keeps plain DES in
/// its legacy provider only).
public enum BlockCipher: String, Sendable, CaseIterable, Codable {
    case tdes
    case aes

    /// Bytes in a block: 8 for TDES, 16 for AES.
    public var blockSize: Int { self == .tdes ? 8 : 16 }

    /// The key lengths this cipher takes, in bytes.
    public var keyLengths: [Int] { self == .tdes ? [16, 24] : [16, 24, 32] }

    /// `input` (a whole number of blocks) encrypted or decrypted block by block under `key`.
    func ecb(_ input: UnsafeRawBufferPointer, key: SecretBytes, encrypt: Bool, into output: UnsafeMutableRawBufferPointer) throws(SecurityError) {
        guard input.count % blockSize == 0, output.count >= input.count else {
            throw SecurityError(operation: "\(rawValue.uppercased()) ECB", reason: "\(input.count) bytes is not a whole number of \(blockSize)-byte blocks")
        }
        let cipher: OpaquePointer?
        switch (self, key.count) {
        case (.tdes, 16): cipher = EVP_des_ede_ecb()
        case (.tdes, 24): cipher = EVP_des_ede3_ecb()
        case (.aes, 16): cipher = EVP_aes_128_ecb()
        case (.aes, 24): cipher = EVP_aes_192_ecb()
        case (.aes, 32): cipher = EVP_aes_256_ecb()
        default:
            throw SecurityError(operation: "\(rawValue.uppercased()) ECB", reason: "a \(rawValue.uppercased()) key is \(keyLengths.map(String.init).joined(separator: ", ")) bytes, not \(key.count)")
        }
        guard let context = EVP_CIPHER_CTX_new() else { throw SecurityError.drain("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(context) }
        let done = key.withBytes { keyBytes -> Bool in
            guard EVP_CipherInit_ex(context, cipher, nil, keyBytes.baseAddress, nil, encrypt ? 1 : 0) == 1,
                  EVP_CIPHER_CTX_set_padding(context, 0) == 1 else { return false }
            var written: Int32 = 0
            guard EVP_CipherUpdate(context, output.baseAddress, &written, input.baseAddress, Int32(input.count)) == 1 else { return false }
            return Int(written) == input.count
        }
        guard done else { throw SecurityError.drain("\(rawValue.uppercased()) ECB") }
    }

    /// `input` encrypted (ECB) under `key`, as a new array.
    public func encrypt(_ input: [UInt8], key: SecretBytes) throws(SecurityError) -> [UInt8] {
        try transform(input, key: key, encrypt: true)
    }

    /// `input` decrypted (ECB) under `key`, as a new array.
    public func decrypt(_ input: [UInt8], key: SecretBytes) throws(SecurityError) -> [UInt8] {
        try transform(input, key: key, encrypt: false)
    }

    private func transform(_ input: [UInt8], key: SecretBytes, encrypt: Bool) throws(SecurityError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: input.count)
        let result: Result<Void, SecurityError> = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { target in
                do throws(SecurityError) {
                    return .success(try ecb(source, key: key, encrypt: encrypt, into: target))
                } catch {
                    return .failure(error)
                }
            }
        }
        try result.get()
        return output
    }

    /// The last block of single-DES CBC (zero IV) over `data` (whole blocks) under an 8-byte key,
    /// in one EVP call: the CBC-MAC core of ISO 9797-1.
    static func singleDESCBCLastBlock(_ data: [UInt8], key: ArraySlice<UInt8>) throws(SecurityError) -> [UInt8] {
        var tripled = Array(key) + Array(key) + Array(key)
        defer { SecretBytes.wipe(&tripled) }
        guard let context = EVP_CIPHER_CTX_new() else { throw SecurityError.drain("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(context) }
        var output = [UInt8](repeating: 0, count: data.count)
        let iv = [UInt8](repeating: 0, count: 8)
        var written: Int32 = 0
        guard EVP_EncryptInit_ex(context, Fetched.tdes3CBC, nil, tripled, iv) == 1, EVP_CIPHER_CTX_set_padding(context, 0) == 1,
              EVP_EncryptUpdate(context, &output, &written, data, Int32(data.count)) == 1, Int(written) == data.count
        else { throw SecurityError.drain("DES CBC") }
        return Array(output.suffix(8))
    }

    /// Single DES of one block under an 8-byte key (as TDES with the key three times).
    static func singleDES(_ block: [UInt8], key: ArraySlice<UInt8>, encrypt: Bool) throws(SecurityError) -> [UInt8] {
        var tripled = Array(key) + Array(key) + Array(key)
        defer { SecretBytes.wipe(&tripled) }
        let secret = SecretBytes(tripled)
        return encrypt ? try BlockCipher.tdes.encrypt(block, key: secret) : try BlockCipher.tdes.decrypt(block, key: secret)
    }
}
