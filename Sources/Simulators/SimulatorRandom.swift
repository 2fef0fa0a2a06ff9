/// A small seeded generator (SplitMix64): simulators draw faults and latencies from it so a run
/// with the same seed makes the same choices. Not for anything secret.
struct SimulatorRandom: Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Standard normal (Box-Muller).
    mutating func gaussian() -> Double {
        let u1 = max(unit(), .leastNonzeroMagnitude)
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// A delay in milliseconds from `latency`; never negative.
    mutating func milliseconds(_ latency: IssuerBehaviour.Latency) -> Double {
        switch latency {
        case .fixed(let value): return value
        case .uniform(let low, let high): return low + (high - low) * unit()
        case .normal(let mean, let deviation): return max(0, mean + deviation * gaussian())
        case .longTail(let median, let p99):
            // Log-normal: ln X ~ N(ln median, σ) with the 99th percentile at p99 (z = 2.326).
            let sigma = log(p99 / median) / 2.326_347_874
            return median * exp(sigma * gaussian())
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
