import Synchronization

/// One transaction's place in a batch the switch split.
struct BatchSlot: Sendable {
    let answers: BatchAnswer
    let index: Int
}

/// Collects the answers of the transactions of a split batch, each exactly once, and hands them
/// over in order once the last arrives: the originator gets one answer for the batch.
final class BatchAnswer: Sendable {
    private let state: Mutex<(answers: [[UInt8]?], missing: Int)>
    private let complete: @Sendable ([[UInt8]]) -> Void

    init(count: Int, complete: @escaping @Sendable ([[UInt8]]) -> Void) {
        state = Mutex((Array(repeating: nil, count: count), count))
        self.complete = complete
    }

    /// Takes the answer of transaction `index`; the last one completes the batch (on the caller's queue).
    func collect(_ answer: [UInt8], at index: Int) {
        let all: [[UInt8]]? = state.withLock { state in
            // Each transaction is answered once (``PaymentSwitch/finish``): a second answer is a fault, dropped here.
            guard state.answers.indices.contains(index), state.answers[index] == nil else { return nil }
            state.answers[index] = answer
            state.missing -= 1
            return state.missing == 0 ? state.answers.map { $0! } : nil
        }
        if let all { complete(all) }
    }
}
