public import PaymentModel

extension ISO20022Codec {
    /// Reads a document of one or more transactions into one canonical message per transaction,
    /// each with the group header and the document's other parts: what the switch routes, one by one.
    /// A credit transfer's `NbOfTxs` and `CtrlSum` must agree with its transactions.
    public func decodeBatch(_ bytes: [UInt8]) throws(ISO20022Error) -> [PaymentMessage] {
        try ISO20022Codec.mapBatch(try parse(bytes))
    }

    /// Maps each transaction of a parsed document (see ``decodeBatch(_:)``).
    public static func mapBatch(_ document: ISO20022Document, checkingTotals: Bool = true) throws(ISO20022Error) -> [PaymentMessage] {
        if checkingTotals, let problem = ISO20022BusinessRules.groupTotalProblems(document).first {
            throw ISO20022Error(.invalidValue, path: problem.path, line: problem.line, reason: problem.reason)
        }
        let transactions = document.transactions()
        var messages: [PaymentMessage] = []
        messages.reserveCapacity(transactions.count)
        for transaction in transactions { messages.append(try map(transaction)) }
        return messages
    }

    /// Writes several canonical messages of one kind as one document of `definition`: the first
    /// gives the group header and what else the document holds once; each gives its transaction
    /// block (`CdtTrfTxInf`, `TxInfAndSts`, `TxInf`, `PmtInf`, `OrgnlPmtInfAndSts`), in order.
    /// `NbOfTxs` is the number of transactions and `CtrlSum` (where the group has one) their sum; a
    /// status report's group status (`GrpSts`, written whenever the report names the original
    /// group) is the transactions' common status, or PART when they differ.
    public static func encodeBatch(_ messages: [PaymentMessage], as definition: ISO20022MessageDefinition,
                                   creationDateTime: String? = nil) throws(ISO20022Error) -> ISO20022Encoding {
        guard let first = messages.first else {
            throw ISO20022Error(.cannotEncode, path: definition.messageElement, reason: "a batch needs at least one message")
        }
        guard let block = definition.transactionBlock else {
            guard messages.count == 1 else {
                throw ISO20022Error(.cannotEncode, path: definition.messageElement, reason: "\(definition.rawValue) does not carry a batch of transactions")
            }
            return try encodeReportingLoss(first, as: definition, creationDateTime: creationDateTime)
        }
        var writer = XMLWriter(namespace: definition.namespace)
        var combined: XMLNode?
        var firstHeader: [UnmappedField] = []
        var lost: [UnmappedField] = []
        for message in messages {
            var encoded = try encodeTree(message, as: definition, creationDateTime: creationDateTime)
            lost += encoded.lost
            guard combined != nil else {
                writer = encoded.writer
                combined = encoded.tree
                firstHeader = encoded.header
                continue
            }
            // Its transaction blocks (one, or those a translation made of its nested transactions);
            // the group header and the rest come from the first message.
            encoded.tree.children.removeAll { $0.name != block }
            for transaction in encoded.tree.children {
                // pain.001: credit transfers of one payment information (the same debtor, account,
                // date …) go back into one PmtInf, as they came.
                if definition == .pain001, let last = combined!.children.lastIndex(where: { $0.name == block }),
                   combined!.children[last].withoutTransfers.leafList == transaction.withoutTransfers.leafList {
                    combined!.children[last].children += transaction.children.filter { $0.name == "CdtTrfTxInf" }
                } else {
                    combined!.children.append(transaction)
                }
            }
        }
        var tree = combined!
        let count = definition == .pain001 ? tree.children.filter { $0.name == "PmtInf" }.reduce(0) { $0 + $1.children.filter { $0.name == "CdtTrfTxInf" }.count }
            : tree.children.filter { $0.name == block }.count
        if tree.value(at: "GrpHdr/NbOfTxs") != nil { tree.place(XMLNode(name: "NbOfTxs", text: String(count)), at: "GrpHdr/NbOfTxs") }
        if let written = tree.value(at: "GrpHdr/CtrlSum") {
            let sum = try controlSum(messages)
            // As the source wrote it (`1350.5`) while it still adds up.
            if (try? Amount.scaled(written, scale: ISO20022BusinessRules.scale, ignoringTrailingZeros: true)) != sum {
                tree.place(XMLNode(name: "CtrlSum", text: ISO20022BusinessRules.decimalText(sum)), at: "GrpHdr/CtrlSum")
            }
        }
        if definition.kind == .statusReport, tree.value(at: "OrgnlGrpInfAndSts/OrgnlMsgId") != nil {
            let statuses = Set(messages.compactMap(\.status))
            tree.place(XMLNode(name: "GrpSts", text: statuses.count == 1 ? statuses.first! : "PART"), at: "OrgnlGrpInfAndSts/GrpSts")
        }
        let document = try writer.text(of: tree)
        // Translated: the canonical values the target has no place for, transaction by transaction.
        if messages.contains(where: { $0.isTranslated(to: definition) }) {
            let written = try mapBatch(try ISO20022Codec().parse(document), checkingTotals: false)
            for (message, back) in zip(messages, written) { lost += canonicalLosses(of: message, comparedWith: back) }
        }
        return ISO20022Encoding(document: try withHeader(document, of: first, as: definition, keeping: firstHeader,
                                                         creationDateTime: creationDateTime), lost: lost)
    }

    /// The sum of the messages' amounts, at ``ISO20022BusinessRules/scale``.
    private static func controlSum(_ messages: [PaymentMessage]) throws(ISO20022Error) -> Int64 {
        var sum: Int64 = 0
        for message in messages {
            guard let amount = message.amount else { continue }
            do throws(AmountError) {
                let (total, overflow) = sum.addingReportingOverflow(
                    try Amount.scaled(amount.decimalText, scale: ISO20022BusinessRules.scale, ignoringTrailingZeros: true))
                guard !overflow else { throw AmountError(.outOfRange) }
                sum = total
            } catch {
                throw ISO20022Error(.cannotEncode, path: "GrpHdr/CtrlSum", reason: "the amounts cannot be added up: \(error)")
            }
        }
        return sum
    }
}

private extension XMLNode {
    /// A pain.001 payment information without its credit transfers.
    var withoutTransfers: XMLNode {
        var copy = self
        copy.children.removeAll { $0.name == "CdtTrfTxInf" }
        return copy
    }

    /// The leaves as comparable text (key, value and attributes), in key order: the tree is not
    /// yet in schema order, and canonical values join it after the kept leaves.
    var leafList: [String] {
        leaves().map { $0.key + "=" + ($0.leaf.text ?? "") + $0.leaf.attributes.map { " " + $0.name + "=" + $0.value }.joined() }.sorted()
    }
}

extension ISO20022MessageDefinition {
    /// The element that repeats once per transaction directly under the message element, for the
    /// messages that carry batches.
    var transactionBlock: String? {
        mapping.transactionSteps.first
    }
}
