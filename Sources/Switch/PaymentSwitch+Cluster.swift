import Dispatch
import ISO8583
import Logging
import PaymentModel

extension PaymentSwitch {
    /// Routes the request; in a cluster, claims it first: another node's claim is a duplicate
    /// transmission, no claim at all a system error; neither is forwarded. The claim waits for the
    /// database, so it is made on ``claimQueue``, never on the connection's queue.
    ///
    /// - Parameters:
    ///   - identity: what the duplicate registry knows the request by: DE 11, then the listener's
    ///     key fields (DE 32, 41, 42 by default).
    func claimThenRoute(_ request: InboundRequest, _ payment: PaymentMessage, message: ISO8583Message, identity: [String]) {
        guard let cluster else { return route(request, payment) }
        let listener = request.listener.name
        let transmitted = message.string(7) ?? ""
        let originator = "\(listener)|\(message.mti.messageClass)|" + identity.dropFirst().joined(separator: "|")
        claimQueue.async { [self] in
            switch cluster.claim(originator: originator, transmitted: transmitted, trace: identity[0]) {
            case .claimed:
                route(request, payment)
            case .duplicate:
                metrics.duplicate(listener: listener)
                logger.warning("duplicate transmission refused: another node holds the request", metadata: ["listener": "\(listener)"])
                answerLocally(request, .duplicateTransmission)
            case .unavailable:
                logger.error("cannot claim the request in the cluster: answered with a system error", metadata: ["listener": "\(listener)"])
                answerLocally(request, .systemError)
            }
        }
    }
}
