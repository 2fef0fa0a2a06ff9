import Dispatch
import ISO8583
import Logging
import PaymentModel
import SecurityModule
import Synchronization

extension PaymentSwitch {
    /// Routes an ISO 8583 request; in a cluster, claims it first (``claimThen(_:key:_:)``) by what
    /// the duplicate registry knows it by (`identity`: DE 11, then the listener's key fields, DE 32,
    /// 41, 42 by default) and DE 7.
    func claimThenRoute(_ request: InboundRequest, _ payment: PaymentMessage, message: ISO8583Message, identity: [String]) {
        let key = ClusterClaimKey(originator: "\(request.listener.name)|\(message.mti.messageClass)|" + identity.dropFirst().joined(separator: "|"),
                                  transmitted: message.string(7) ?? "", trace: identity[0])
        claimThen(request, key: key) { [self] in route(request, payment) }
    }

    /// The claim key of an ISO 20022 request: the listener and the message, its message id, and
    /// its end-to-end id (or UETR), as the duplicate registry knows it.
    static func claimKey(listener: String, _ payment: PaymentMessage) -> ClusterClaimKey {
        ClusterClaimKey(originator: "\(listener)|\(payment.kind.rawValue)", transmitted: payment.identifiers.messageId ?? "",
                        trace: payment.identifiers.endToEndId ?? payment.identifiers.uetr ?? "")
    }

    /// Runs `proceed` (the request's routing); in a cluster, once the request is claimed: another
    /// node's claim is a duplicate transmission (answered with the answer the claimed request got,
    /// once it has one), no claim at all a system error; neither goes on.
    /// Claims wait for the database, so they are made on ``claimQueue``, never on the connection's
    /// queue, and those that arrive while a write is under way go together in the next (one
    /// statement, one commit). `key` is made only in a cluster (it costs strings on the hot path).
    func claimThen(_ request: InboundRequest, key: @autoclosure () -> ClusterClaimKey, _ proceed: @escaping () -> Void) {
        guard cluster != nil else { return proceed() }
        let claim = PendingClaim(key: key(), request: request, proceed: proceed, since: DispatchTime.now().uptimeNanoseconds)
        let drain = pendingClaims.withLock { pending in
            pending.claims.append(claim)
            defer { pending.draining = true }
            return !pending.draining
        }
        if drain { claimQueue.async { [self] in drainClaims() } }
    }

    /// Claims what waits, a batch at a time, until nothing does.
    private func drainClaims() {
        guard let cluster else { return }
        while true {
            let batch = pendingClaims.withLock { pending in
                let batch = Array(pending.claims.prefix(PaymentSwitch.claimBatch))
                pending.claims.removeFirst(batch.count)
                if batch.isEmpty { pending.draining = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            let outcomes = cluster.claim(batch.map(\.key))
            let now = DispatchTime.now().uptimeNanoseconds
            for (claim, outcome) in zip(batch, outcomes) {
                metrics.claimed(nanoseconds: now - claim.since)
                let listener = claim.request.listener.name
                switch outcome {
                case .claimed:
                    claim.request.clusterKey = claim.key
                    claim.proceed()
                case .duplicate(let stored):
                    metrics.duplicate(listener: listener)
                    let answer = stored.flatMap { sealed -> [UInt8]? in
                        do { return try durability?.protection.open(sealed) } catch {
                            logger.error("a stored answer cannot be opened: answered as a duplicate", metadata: ["listener": "\(listener)", "error": "\(error)"])
                            return nil
                        }
                    }
                    if let answer {
                        // A retransmission of a request answered already (on any node): that answer again.
                        logger.info("retransmission answered with the answer the request got", metadata: ["listener": "\(listener)"])
                        finish(claim.request, answer, result: .duplicateTransmission)
                    } else {
                        logger.warning("duplicate transmission refused: another node holds the request", metadata: ["listener": "\(listener)"])
                        answerLocally(claim.request, .duplicateTransmission)
                    }
                case .unavailable:
                    logger.error("cannot claim the request in the cluster: answered with a system error", metadata: ["listener": "\(listener)"])
                    answerLocally(claim.request, .systemError)
                }
            }
        }
    }

    /// The most claims written in one statement.
    static let claimBatch = 256
}

/// A request waiting for its claim.
struct PendingClaim: @unchecked Sendable {
    let key: ClusterClaimKey
    let request: InboundRequest
    /// What follows the claim: the request's routing.
    let proceed: () -> Void
    /// When it began to wait (uptime nanoseconds).
    let since: UInt64
}

/// Claims waiting, and whether ``PaymentSwitch/claimQueue`` is draining them.
struct PendingClaims: Sendable {
    var claims: [PendingClaim] = []
    var draining = false
}
