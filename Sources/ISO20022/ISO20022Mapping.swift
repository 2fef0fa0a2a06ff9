import PaymentModel

/// What the message mappings share: required values on encode, first-occurrence mapping of
/// nested repeats, and the camt case assignment (`Assgnmt`).
enum ISO20022Mapping {
    /// The value, or a `cannotEncode` error naming the element `definition` requires.
    static func required(_ value: String?, _ path: String, in definition: ISO20022MessageDefinition) throws(ISO20022Error) -> String {
        try required(value, path, under: definition.messageElement, by: definition.rawValue)
    }

    /// The value, or a `cannotEncode` error naming the element at `root/path` that `owner` requires.
    static func required(_ value: String?, _ path: String, under root: String, by owner: String) throws(ISO20022Error) -> String {
        guard let value else {
            throw ISO20022Error(.cannotEncode, path: root + "/" + path, reason: "\(owner) requires \(path)")
        }
        return value
    }

    /// Sets `field` to `text` when it has no value yet; false when it has one (the element then
    /// stays unmapped). Keeps the first of a nested repeat (the second `TxInf` of one `Undrlyg`).
    static func setOnce(_ field: inout String?, _ text: String) -> Bool {
        guard field == nil else { return false }
        field = text
        return true
    }

    /// Maps a leaf of the camt case assignment: `Assgnmt/Id` to the message identification, the
    /// assigner and assignee agents (`Assgnr/Agt/FinInstnId/BICFI`, `Assgne/…`) to the instructing
    /// and instructed agents. False for any other leaf (`Assgnmt/CreDtTm` stays unmapped).
    static func mapAssignment(_ element: ISO20022Document.Element, into message: inout PaymentMessage) -> Bool {
        guard element.block == 0 else { return false }
        switch element.path {
        case "Assgnmt/Id": return setOnce(&message.identifiers.messageId, element.text)
        case "Assgnmt/Assgnr/Agt/FinInstnId/BICFI": return setOnce(&message.instructingAgent, element.text)
        case "Assgnmt/Assgne/Agt/FinInstnId/BICFI": return setOnce(&message.instructedAgent, element.text)
        default: return false
        }
    }
}

extension XMLWriter {
    /// `<name><Rsn><Cd>code</Cd></Rsn></name>`, or nothing when code is nil.
    mutating func reason(_ name: String, _ code: String?) throws(ISO20022Error) {
        guard let code else { return }
        start(name)
        start("Rsn")
        try leaf("Cd", code)
        end()
        end()
    }

    /// `<name><Agt><FinInstnId><BICFI>…</BICFI></FinInstnId></Agt></name>`: a party choice naming an agent.
    mutating func partyAgent(_ name: String, _ bic: String) throws(ISO20022Error) {
        start(name)
        try agent("Agt", bic)
        end()
    }

    /// `<name><OrgnlMsgId>…</OrgnlMsgId><OrgnlMsgNmId>…</OrgnlMsgNmId><OrgnlCreDtTm>…</OrgnlCreDtTm></name>`
    /// from the unmapped values under `key` (`TxInf/OrgnlGrpInf`), or nothing when `key/OrgnlMsgId` is not there.
    mutating func originalGroup(_ name: String, key: String, of message: PaymentMessage) throws(ISO20022Error) {
        guard let original = message.unmappedValue(key + "/OrgnlMsgId"),
              let nameId = message.unmappedValue(key + "/OrgnlMsgNmId") else { return }
        start(name)
        try leaf("OrgnlMsgId", original)
        try leaf("OrgnlMsgNmId", nameId)
        try leaf("OrgnlCreDtTm", message.unmappedValue(key + "/OrgnlCreDtTm"))
        end()
    }

    /// The camt case assignment: `Assgnmt/Id` from the message identification, the instructing agent
    /// as assigner, the instructed agent as assignee, and `CreDtTm` (kept, given, or now).
    mutating func caseAssignment(_ message: PaymentMessage, creationDateTime: String?,
                                 definition: ISO20022MessageDefinition) throws(ISO20022Error) {
        start("Assgnmt")
        try leaf("Id", try ISO20022Mapping.required(message.identifiers.messageId, "Assgnmt/Id", in: definition))
        try partyAgent("Assgnr", try ISO20022Mapping.required(message.instructingAgent, "Assgnmt/Assgnr/Agt/FinInstnId/BICFI", in: definition))
        try partyAgent("Assgne", try ISO20022Mapping.required(message.instructedAgent, "Assgnmt/Assgne/Agt/FinInstnId/BICFI", in: definition))
        try leaf("CreDtTm", message.unmappedValue("Assgnmt/CreDtTm") ?? creationDateTime ?? XMLWriter.nowUTC())
        end()
    }
}
