import ISO20022
import PaymentModel

/// What the switch reads from ISO 20022 messages to match them, beyond the canonical fields.
enum ISO20022Support {
    static let codec = ISO20022Codec()

    /// The references an answer may point back to, to try in order. A status report names the
    /// original message (`OrgnlGrpInfAndSts/OrgnlMsgId`), else its end-to-end id. A resolution of
    /// investigation (camt.029) names no identification of the camt.056 it answers, only the
    /// transaction concerned: its UETR, then its end-to-end id (``cancellationReference(_:)``).
    static func originalReferences(of answer: PaymentMessage) -> [String] {
        if answer.kind == .resolutionOfInvestigation {
            return [answer.identifiers.uetr, answer.identifiers.endToEndId].compactMap { $0.map { cancellationPrefix + $0 } }
        }
        return [answer.unmapped.first { $0.key.hasSuffix("OrgnlMsgId") }?.value ?? answer.identifiers.endToEndId].compactMap { $0 }
    }

    /// What a cancellation request (camt.056) is matched by: the transaction it cancels, by UETR or
    /// else end-to-end id, apart from message ids (one cancellation of a transaction in flight at a time).
    static func cancellationReference(_ request: PaymentMessage) -> String? {
        (request.identifiers.uetr ?? request.identifiers.endToEndId).map { cancellationPrefix + $0 }
    }

    private static let cancellationPrefix = "cancellation of "

    /// An answer's status and reason as the journal and the store-and-forward table keep them: `RJCT/AB05`, `ACSC`.
    static func statusText(of answer: PaymentMessage) -> String {
        [answer.status, answer.statusReason].compactMap { $0 }.joined(separator: "/")
    }
}
