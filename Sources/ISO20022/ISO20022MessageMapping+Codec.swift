import PaymentModel

extension ISO20022MessageMapping {
    /// Maps the leaves of a document (its first transaction, and everything outside the
    /// transactions) to the canonical fields of `message`; every leaf no field takes goes to
    /// `unmapped` under its indexed key.
    ///
    /// A field takes the first occurrence of its most preferred place; a place passed over stays
    /// unmapped. Where the field was read from another place than its first, or from a later
    /// occurrence (`StsRsnInf[2]/Rsn/Cd`), ``PaymentMessage/sourcePositions`` notes it so that the
    /// encoder writes it back there. An amount keeps its lexical form when it is not the canonical
    /// one (``PaymentMessage/sourceTexts``).
    ///
    /// - Parameters:
    ///   - prefix: what the element paths have before the mapping's paths (`AppHdr/` for the header).
    ///   - placed: whether the reader read the elements with this mapping (the shipped one of their
    ///     message), so that their ``ISO20022Document/Element/place`` is in ``placeTree``; else
    ///     each element's place is looked up by its path.
    func decode(_ elements: [ISO20022Document.Element], into message: inout PaymentMessage,
                prefix: String = "", placed: Bool = false) throws(ISO20022Error) {
        // Through the buffer: each element is read in place; an array's subscript would copy a
        // whole element (four references) to read one of its values.
        try elements.withUnsafeBufferPointer { (elements) throws(ISO20022Error) in
            try decode(elements, into: &message, prefix: prefix, placed: placed)
        }
    }

    private func decode(_ elements: UnsafeBufferPointer<ISO20022Document.Element>, into message: inout PaymentMessage,
                        prefix: String, placed: Bool) throws(ISO20022Error) {
        // The scratch is on the stack (a pacs.008's 72 entries and 60 leaves take under a kilobyte
        // each): per entry the element taken and the preference of its place, or for a field that
        // takes every occurrence the first and last of them, chained through `next`.
        try withUnsafeTemporaryAllocation(of: (index: Int32, rank: Int32).self, capacity: entries.count) { (taken) throws(ISO20022Error) in
            try withUnsafeTemporaryAllocation(of: (next: Int32, consumed: Bool).self, capacity: elements.count) { (leaves) throws(ISO20022Error) in
                taken.initialize(repeating: (-1, Int32.max))
                leaves.initialize(repeating: (-1, false))
                try decode(elements, into: &message, prefix: prefix, placed: placed, taken: taken, leaves: leaves)
            }
        }
    }

    private func decode(_ elements: UnsafeBufferPointer<ISO20022Document.Element>, into message: inout PaymentMessage,
                        prefix: String, placed: Bool, taken: UnsafeMutableBufferPointer<(index: Int32, rank: Int32)>,
                        leaves: UnsafeMutableBufferPointer<(next: Int32, consumed: Bool)>) throws(ISO20022Error) {
        var emptyGroups: [Int] = []
        for index in elements.indices where elements[index].block == 0 {
            // The reader found the element's place in this mapping's tree.
            let place = placed ? elements[index].place : placeTree.node(at: elements[index].path.dropFirst(prefix.count))
            guard place >= 0 else {
                if elements[index].text.isEmpty, elements[index].attributes.isEmpty { emptyGroups.append(index) }
                continue
            }
            let (entry, preference) = placeTree.place(place)
            guard isInFirstTransaction(elements[index]) else { continue }
            if entries[entry].takesEveryOccurrence {
                // Chained in document order: `index` holds the first, `rank` the last.
                if taken[entry].index < 0 { taken[entry].index = Int32(index) } else { leaves[Int(taken[entry].rank)].next = Int32(index) }
                taken[entry].rank = Int32(index)
            } else if preference < taken[entry].rank {
                taken[entry] = (Int32(index), Int32(preference))
            }
        }
        for number in entries.indices where taken[number].index >= 0 {
            let field = entries[number].field
            let index = Int(taken[number].index)
            if entries[number].takesEveryOccurrence {
                var indexes: [Int] = []
                var next = index
                while next >= 0 {
                    indexes.append(next)
                    next = Int(leaves[next].next)
                }
                if field.form == .list {
                    field.set(&message, lines: indexes.map { elements[$0].text })
                } else if let charges = charges(of: indexes, in: elements, place: entries[number].places[0]) {
                    field.setCharges?(&message, charges)
                } else {
                    continue
                }
                for index in indexes { leaves[index].consumed = true }
                continue
            }
            if field.form == .amount {
                // An amount with more attributes than its currency stays unmapped, whole. The
                // message's amount must be one the canonical message holds; another (an instructed
                // amount in a currency the code table lacks) stays unmapped instead.
                guard elements[index].attributes.count == 1, let setAmount = field.setAmount else { continue }
                let amount: Amount
                do {
                    amount = try Self.amount(elements[index])
                } catch {
                    guard field.name != "amount" else { throw error }
                    continue
                }
                setAmount(&message, amount)
                if !amount.isDecimalText(elements[index].text) { message.sourceTexts[field.name] = elements[index].text }
            } else if !field.set(&message, text: elements[index].text) {
                continue
            }
            leaves[index].consumed = true
            if prefix.isEmpty, elements[index].indexedPath != nil || taken[number].rank > 0 {
                message.sourcePositions[entries[number].places[0]] = elements[index].key
            }
        }
        for index in emptyGroups where isWrittenByItself(elements[index], among: elements, prefix: prefix) { leaves[index].consumed = true }
        message.unmapped.reserveCapacity(message.unmapped.count + leaves.count(where: { !$0.consumed }))
        for index in elements.indices where !leaves[index].consumed { elements[index].appendUnmapped(to: &message.unmapped) }
        for number in entries.indices where taken[number].index < 0 && entries[number].requiredToDecode {
            let path = entries[number].places[0]
            throw ISO20022Error(.missingElement, path: ISO20022Document.location(of: path, block: 0, in: rootElement),
                                reason: "\(path) is required")
        }
    }

    /// The canonical values of `message` to write, and the defaults, in a writer for this message.
    func encode(_ message: PaymentMessage, creationDateTime: String?) throws(ISO20022Error) -> XMLWriter {
        var writer = XMLWriter(root: kind == nil ? "AppHdr" : "Document",
                               namespace: ISO20022MessageDefinition.namespacePrefix + self.message)
        for entry in entries {
            let field = entry.field
            if entry.requiredToEncode, field.text(of: message) == nil {
                throw ISO20022Error(.cannotEncode, path: rootElement + "/" + entry.places[0],
                                    reason: "\(self.message) requires \(entry.places[0]) (\(field.name))")
            }
            if let amount = field.amount?(message) {
                var text = amount.decimalText
                if let written = message.sourceTexts[field.name], (try? Amount(parsing: written, currency: amount.currency)) == amount {
                    text = written
                }
                var leaf = XMLNode(name: "", text: text)
                leaf.attributes = [("Ccy", amount.currency.code)]
                writer.values.append(XMLWriter.Value(places: entry.places, leaf: leaf))
                continue
            }
            if let charges = field.charges?(message) {
                for (index, charge) in charges.enumerated() {
                    let place = entry.places[0] + (index == 0 ? "" : "[\(index + 1)]")
                    var amount = XMLNode(name: "", text: charge.amount.decimalText)
                    amount.attributes = [("Ccy", charge.amount.currency.code)]
                    writer.values.append(XMLWriter.Value(places: [place + "/Amt"], leaf: amount))
                    if let agent = charge.agent {
                        writer.values.append(XMLWriter.Value(places: [place + "/Agt/FinInstnId/BICFI"], leaf: XMLNode(name: "", text: agent)))
                    }
                }
                continue
            }
            if field.form == .text {
                if let text = field.text(of: message) { writer.values.append(XMLWriter.Value(places: entry.places, leaf: XMLNode(name: "", text: text))) }
                continue
            }
            for (index, text) in field.values(message).enumerated() {
                // A list's later values at later occurrences of its place (`RmtInf/Ustrd[2]`).
                let places = index == 0 ? entry.places : [entry.places[0] + "[\(index + 1)]"]
                writer.values.append(XMLWriter.Value(places: places, leaf: XMLNode(name: "", text: text)))
            }
        }
        for value in defaults {
            // The value kept from the source (or set by the caller) at that path comes first.
            guard let text = message.unmappedValue(value.path)
                    ?? (value.now ? creationDateTime ?? XMLWriter.nowUTC() : value.literal ?? value.field?.text(of: message)) else { continue }
            writer.defaults.append((value.path, text))
        }
        return writer
    }

    /// The charges the elements at `place` (`…/ChrgsInf[n]/Amt` and `…/Agt/FinInstnId/BICFI`) give,
    /// occurrence by occurrence; nil unless every occurrence from the first has an amount of only
    /// its currency, written in canonical form (the leaves then stay as they are, unmapped).
    private func charges(of indexes: [Int], in elements: UnsafeBufferPointer<ISO20022Document.Element>, place: String) -> [Charge]? {
        let step = place.split(separator: "/").count - 1
        var parts: [Int: (amount: Amount?, agent: String?)] = [:]
        for index in indexes {
            let element = elements[index]
            var occurrence = 1
            var position = 0
            _ = ISO20022Path.forEachStep((element.indexedPath ?? element.path)[...]) { _, found in
                if position == step { occurrence = found }
                position += 1
                return position <= step
            }
            if element.path.hasSuffix("/Amt") {
                guard element.attributes.count == 1, let amount = try? Self.amount(element), amount.isDecimalText(element.text) else { return nil }
                parts[occurrence, default: (nil, nil)].amount = amount
            } else {
                parts[occurrence, default: (nil, nil)].agent = element.text
            }
        }
        var charges: [Charge] = []
        for occurrence in 1...max(parts.count, 1) {
            guard let amount = parts[occurrence]?.amount else { return nil }
            charges.append(Charge(amount: amount, agent: parts[occurrence]?.agent))
        }
        return charges
    }

    /// The element below `Document` (or `AppHdr`) the paths start at.
    var rootElement: String {
        ISO20022Schema.shared.roots[message]?.element ?? message
    }

    /// Whether the element is in the first transaction: not in a later occurrence of a nested
    /// transaction element (`PmtInf/CdtTrfTxInf[2]/…`); the block number covers a top-level one.
    private func isInFirstTransaction(_ element: ISO20022Document.Element) -> Bool {
        guard transactionSteps.count > 1, let indexed = element.indexedPath else { return true }
        var position = 0
        var first = true
        _ = ISO20022Path.forEachStep(indexed[...]) { name, occurrence in
            guard position < transactionSteps.count, name == transactionSteps[position] else { return false }
            if position == transactionSteps.count - 1, occurrence > 1 { first = false }
            position += 1
            return true
        }
        return first
    }

    /// Whether an empty element is one the writer writes by itself: a required group whose every
    /// part is optional (pain.001 `InitgPty`, `Dbtr`), below required elements only, in a parent
    /// that has other content.
    private func isWrittenByItself(_ element: ISO20022Document.Element, among elements: UnsafeBufferPointer<ISO20022Document.Element>,
                                   prefix: String) -> Bool {
        let schema = ISO20022Schema.shared
        guard element.indexedPath == nil, let root = schema.roots[message] else { return false }
        var type = root.type
        var required = true
        let resolved = ISO20022Path.forEachStep(element.path.dropFirst(prefix.count)) { name, _ in
            guard let particle = schema.particles(of: type).first(where: { $0.name == name }) else { return false }
            required = required && particle.minOccurs > 0
            type = particle.type
            return required
        }
        guard resolved, required, schema.isOptionalGroup(type), let slash = element.path.lastIndex(of: "/") else { return false }
        let parent = element.path[...slash]
        return elements.contains { $0.block == element.block && $0.path != element.path && $0.path.hasPrefix(parent) }
    }

    /// `<IntrBkSttlmAmt Ccy="EUR">100.00</IntrBkSttlmAmt>` as an ``Amount``.
    static func amount(_ element: ISO20022Document.Element) throws(ISO20022Error) -> Amount {
        guard let code = element.attributes["Ccy"] else {
            throw ISO20022Error(.missingElement, path: element.location + "@Ccy", line: element.line, reason: "the amount has no Ccy attribute")
        }
        guard let currency = Currency(code), currency.code == code else {
            throw ISO20022Error(.invalidValue, path: element.location + "@Ccy", line: element.line, reason: "unknown currency '\(code)'")
        }
        do {
            return try Amount(parsing: element.text, currency: currency)
        } catch {
            throw ISO20022Error(.invalidValue, path: element.location, line: element.line,
                                reason: "'\(element.text)' is not a \(code) amount: \(error)")
        }
    }
}
