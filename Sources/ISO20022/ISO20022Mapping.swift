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

    /// Notes in ``PaymentMessage/sourcePositions`` where a mapped leaf was read when that is not the
    /// first element of its path (`StsRsnInf[2]/Rsn/Cd`, the first reason carrying a code): the
    /// encoder writes each canonical field at the first, and moves it there. Costs nothing for a
    /// document without repeated elements below its blocks.
    static func notePositions(of document: ISO20022Document, in message: inout PaymentMessage) {
        // Only a mapped element that is not the first of its name can be out of place: a few per
        // document at most, each looked up by a scan.
        for element in document.elements where element.indexedPath != nil && element.block == 0 {
            let key = element.key
            guard message.sourcePositions[element.path] == nil, !message.unmapped.contains(where: { $0.key == key }) else { continue }
            // The first mapped element of the path decides: one at the path itself needs no note.
            let firstMapped = document.elements.first { other in
                other.block == 0 && other.path == element.path && !message.unmapped.contains { $0.key == other.key }
            }
            if let firstMapped, firstMapped.indexedPath != nil { message.sourcePositions[element.path] = firstMapped.key }
        }
    }

    /// The agents a message may give in its transaction and in its group header: the
    /// transaction's BIC wins; the one not taken stays in `unmapped`.
    struct Agents {
        // Instructing and instructed, each of the transaction and of the group: four slots, no allocation.
        var transaction: (ISO20022Document.Element?, ISO20022Document.Element?) = (nil, nil)
        var group: (ISO20022Document.Element?, ISO20022Document.Element?) = (nil, nil)

        /// Records `element` when it is an instructing (`InstgAgt`) or instructed (`InstdAgt`) agent
        /// BIC of the group header or of the first `block` (`CdtTrfTxInf`, `TxInf`); false otherwise.
        mutating func read(_ element: ISO20022Document.Element, block: String) -> Bool {
            guard element.block == 0, element.indexedPath == nil else { return false }
            switch element.path {
            case "GrpHdr/InstgAgt/FinInstnId/BICFI": group.0 = element
            case "GrpHdr/InstdAgt/FinInstnId/BICFI": group.1 = element
            default:
                // `block/InstgAgt/FinInstnId/BICFI` or `block/InstdAgt/…`, compared without building the path.
                let suffix = "/InstgAgt/FinInstnId/BICFI"
                guard element.path.utf8.count == block.utf8.count + suffix.utf8.count, element.path.hasPrefix(block) else { return false }
                if element.path.hasSuffix(suffix) { transaction.0 = element }
                else if element.path.hasSuffix("/InstdAgt/FinInstnId/BICFI") { transaction.1 = element }
                else { return false }
            }
            return true
        }

        /// Sets the instructing and instructed agents, keeps the leaves not taken in `unmapped`, and
        /// notes where each taken one was when the encoder writes it elsewhere (under `written`,
        /// `GrpHdr` or the block).
        func apply(to message: inout PaymentMessage, written: String) {
            let names = ["InstgAgt", "InstdAgt"]
            for index in 0..<2 {
                let (ofTransaction, ofGroup) = index == 0 ? (transaction.0, group.0) : (transaction.1, group.1)
                guard let taken = ofTransaction ?? ofGroup else { continue }
                if index == 0 { message.instructingAgent = taken.text } else { message.instructedAgent = taken.text }
                let defaultPath = written + "/" + names[index] + "/FinInstnId/BICFI"
                if taken.key != defaultPath { message.sourcePositions[defaultPath] = taken.key }
                if let ofTransaction, ofTransaction.key != taken.key { message.unmapped.append(contentsOf: ofTransaction.unmappedFields) }
                if let ofGroup, ofGroup.key != taken.key { message.unmapped.append(contentsOf: ofGroup.unmappedFields) }
            }
        }
    }

    /// A status report with no transaction status takes the group status (`GrpSts`) and, with it,
    /// the group's first reason; both stay in `unmapped`, and the encoder's transaction status and
    /// reason (at `written`) go back to the group's places.
    static func takeGroupStatus(_ status: String?, reason: ISO20022Document.Element?, into message: inout PaymentMessage,
                                written: (status: String, reason: String)) {
        guard message.status == nil, let status else { return }
        message.status = status
        message.sourcePositions[written.status] = "OrgnlGrpInfAndSts/GrpSts"
        if message.statusReason == nil, let reason {
            message.statusReason = reason.text
            message.sourcePositions[written.reason] = reason.key
        }
    }

    /// Reads the amount (`<IntrBkSttlmAmt Ccy="EUR">100.5</IntrBkSttlmAmt>`) and keeps its lexical
    /// form when that is not the canonical text.
    static func readAmount(_ element: ISO20022Document.Element, into message: inout PaymentMessage) throws(ISO20022Error) {
        let amount = try Pacs008.amount(element)
        message.amount = amount
        if element.text != amount.decimalText { message.sourceAmountText = element.text }
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
    /// `<name Ccy="…">amount</name>`, as the source wrote it while the amount is unchanged; nothing
    /// without an amount.
    mutating func amount(_ name: String, of message: PaymentMessage) throws(ISO20022Error) {
        guard let amount = message.amount else { return }
        var text = amount.decimalText
        if let written = message.sourceAmountText, (try? Amount(parsing: written, currency: amount.currency)) == amount { text = written }
        try leaf(name, text, attributes: ["Ccy": amount.currency.code])
    }

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
        // Without a BIC, the assigner or assignee kept from the source (a party, or an agent by
        // clearing member id) fills the choice; the schema check refuses a document with neither.
        if let assigner = message.instructingAgent { try partyAgent("Assgnr", assigner) }
        if let assignee = message.instructedAgent { try partyAgent("Assgne", assignee) }
        try leaf("CreDtTm", message.unmappedValue("Assgnmt/CreDtTm") ?? creationDateTime ?? XMLWriter.nowUTC())
        end()
    }
}
