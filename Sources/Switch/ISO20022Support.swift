import ISO20022
import PaymentModel

/// What the switch reads from ISO 20022 messages to match them, beyond the canonical fields.
enum ISO20022Support {
    static let codec = ISO20022Codec()

    /// The reference an answer points back to: the original message identification of a status
    /// report or resolution (`OrgnlGrpInfAndSts/OrgnlMsgId`), else its original end-to-end id.
    static func originalReference(of answer: PaymentMessage) -> String? {
        answer.unmapped.first { $0.key.hasSuffix("OrgnlMsgId") }?.value ?? answer.identifiers.endToEndId
    }
}
