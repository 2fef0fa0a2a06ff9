// The software security module's work per message, on one core: PIN block translation between
// zones (what the switch does for every PIN transaction that crosses a key zone), the DUKPT key
// derivation before it, and the MACs of a 200-byte message. Each measured iteration runs the
// operation 1,000 times (scalingFactor .kilo), so the table shows time and allocations per operation.
import Benchmark
import SecurityModule

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )
    func key(_ cipher: BlockCipher, _ usage: WorkingKey.Usage, _ count: Int, _ fill: UInt8) -> WorkingKey {
        try! WorkingKey(cipher: cipher, usage: usage, secret: SecretBytes((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ fill }))
    }
    let pan = Array("4761739001010119".utf8)
    let acquirer = try! PINBlock.Zone(key: key(.tdes, .zonePIN, 16, 0x11), format: .iso0)
    let issuer = try! PINBlock.Zone(key: key(.tdes, .zonePIN, 24, 0x22), format: .iso0)
    let issuerAES = try! PINBlock.Zone(key: key(.aes, .zonePIN, 32, 0x33), format: .iso4)
    let block = try! PINBlock.encrypt(pin: Array("1234".utf8), pan: pan, zone: acquirer)
    let bdk = key(.tdes, .baseDerivation, 16, 0x44)
    let ksn: [UInt8] = [0xFF, 0xFF, 0x98, 0x76, 0x54, 0x32, 0x10, 0xE0, 0x01, 0x07]
    let terminal = try! PINBlock.Zone(key: try! DUKPT.pinKey(bdk: bdk, ksn: ksn), format: .iso0)
    let dukptBlock = try! PINBlock.encrypt(pin: Array("1234".utf8), pan: pan, zone: terminal)
    let message = [UInt8](repeating: 0x5A, count: 200)
    let mak = key(.tdes, .mac, 16, 0x55)
    let aesMak = key(.aes, .mac, 16, 0x66)

    Benchmark("PIN translate format 0 TDES -> format 0 TDES") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try PINBlock.translate(block, pan: pan, from: acquirer, to: issuer)) }
    }
    Benchmark("PIN translate format 0 TDES -> format 4 AES") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try PINBlock.translate(block, pan: pan, from: acquirer, to: issuerAES)) }
    }
    Benchmark("PIN translate DUKPT (derive the terminal key) -> format 0 TDES") { benchmark in
        for _ in benchmark.scaledIterations {
            let zone = try PINBlock.Zone(key: try DUKPT.pinKey(bdk: bdk, ksn: ksn), format: .iso0)
            blackHole(try PINBlock.translate(dukptBlock, pan: pan, from: zone, to: issuer))
        }
    }
    Benchmark("retail MAC (ISO 9797-1 alg. 3), 200 bytes") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try MessageAuthentication.retailMAC(message, key: mak.secret)) }
    }
    Benchmark("AES-CMAC, 200 bytes") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try MessageAuthentication.aesCMAC(message, key: aesMak.secret)) }
    }
}
