import ISO20022
public import PaymentModel

/// The acquirer simulator's host-to-host traffic in ISO 20022: credit transfers (pacs.008), status
/// requests (pacs.028) and cancellations (camt.056), each with identifications derived from its
/// sequence number; answers (pacs.002, camt.029) are matched by EndToEndId and checked for kind and
/// original identifications.
public struct ISO20022Exchange: LoadExchange {
    /// A request variant: the canonical message whose identifications are replaced per request.
    public struct Template: Sendable {
        public var message: PaymentMessage
        public var weight: Int
        public init(message: PaymentMessage, weight: Int = 1) {
            self.message = message
            self.weight = weight
        }
    }

    let templates: [PaymentMessage]
    public let weights: [Int]

    public init(templates: [Template]) throws {
        guard !templates.isEmpty else { throw SimulatorError("no request templates") }
        for template in templates {
            var check = template.message
            ISO20022Exchange.identify(&check, sequence: 0)
            _ = try ISO20022Codec.encode(check, creationDateTime: "2026-01-01T00:00:00Z")
            guard ISO20022Exchange.answerKind(template.message.kind) != nil else {
                throw SimulatorError("a \(template.message.kind.rawValue) is not a request the acquirer simulator sends")
            }
        }
        self.templates = templates.map(\.message)
        self.weights = templates.map(\.weight)
    }

    /// The kind of answer a request kind gets.
    static func answerKind(_ kind: PaymentMessage.Kind) -> PaymentMessage.Kind? {
        switch kind {
        case .creditTransfer, .statusRequest: return .statusReport
        case .cancellationRequest: return .resolutionOfInvestigation
        default: return nil
        }
    }

    /// Gives the message identifications unique to `sequence`.
    static func identify(_ message: inout PaymentMessage, sequence: Int) {
        let number = String(sequence)
        message.identifiers.messageId = "ACQ-" + number
        message.identifiers.instructionId = "INS-" + number
        message.identifiers.endToEndId = "E2E-" + number
        message.identifiers.transactionId = "TX-" + number
        message.identifiers.uetr = uetr(sequence)
    }

    /// A version 4 UUID whose last 12 hex digits are the sequence number.
    static func uetr(_ sequence: Int) -> String {
        let hex = String(sequence & 0xFFFF_FFFF_FFFF, radix: 16)
        return "0c1d2e3f-4a5b-4c6d-8e7f-" + String(repeating: "0", count: 12 - hex.count) + hex
    }

    public func request(_ sequence: Int, variant: Int, into buffer: inout [UInt8]) {
        var message = templates[variant]
        ISO20022Exchange.identify(&message, sequence: sequence)
        buffer.removeAll(keepingCapacity: true)
        // The templates were encoded once at init, so only the identifications can differ here.
        buffer.append(contentsOf: ((try? ISO20022Codec.encode(message)) ?? "").utf8)
    }

    public func read(_ payload: UnsafeRawBufferPointer) -> AnswerReading<PaymentMessage> {
        let answer: PaymentMessage
        do {
            answer = try ISO20022Codec().decode(Array(payload))
        } catch {
            return .undecodable("\(error)")
        }
        guard let endToEnd = answer.identifiers.endToEndId, endToEnd.hasPrefix("E2E-"), let sequence = Int(endToEnd.dropFirst(4)) else {
            return .undecodable("the answer names no EndToEndId this simulator sent")
        }
        return .answer(sequence: sequence, answer)
    }

    public func mismatch(_ answer: PaymentMessage, sequence: Int, variant: Int) -> String? {
        let expected = ISO20022Exchange.answerKind(templates[variant].kind)
        if answer.kind != expected { return "a \(answer.kind.rawValue), expected a \(expected?.rawValue ?? "?")" }
        let number = String(sequence)
        if answer.identifiers.transactionId.map({ $0 != "TX-" + number }) ?? false { return "OrgnlTxId \(answer.identifiers.transactionId ?? "")" }
        if answer.identifiers.uetr.map({ $0 != ISO20022Exchange.uetr(sequence) }) ?? false { return "OrgnlUETR \(answer.identifiers.uetr ?? "")" }
        if answer.kind == .statusReport,
           let original = answer.unmapped.first(where: { $0.key == "OrgnlGrpInfAndSts/OrgnlMsgId" })?.value, original != "ACQ-" + number {
            return "OrgnlMsgId \(original), expected ACQ-\(number)"
        }
        return nil
    }

    public func code(_ answer: PaymentMessage) -> ResponseCode {
        guard let status = answer.status else { return .none }
        return ResponseCode(status + (answer.statusReason.map { "/" + $0 } ?? ""))
    }
}

extension ISO20022Exchange {
    /// A sample request: `pacs.008` (EUR 1,250.00 between two test banks), `pacs.028` or `camt.056`; nil for another name.
    public static func sample(_ name: String) -> PaymentMessage? {
        var transfer = PaymentMessage(kind: .creditTransfer, function: .request)
        transfer.amount = Currency("EUR").map { Amount(minorUnits: 125_000, currency: $0) }
        transfer.settlementMethod = "CLRG"
        transfer.chargeBearer = "SLEV"
        transfer.instructingAgent = "BANKDEFFXXX"
        transfer.instructedAgent = "BANKFRPPXXX"
        transfer.debtorAgent = "BANKDEFFXXX"
        transfer.creditorAgent = "BANKFRPPXXX"
        transfer.debtor = Party(name: "Debtor GmbH", iban: "DE89370400440532013000")
        transfer.creditor = Party(name: "Creditor SA", iban: "FR1420041010050500013M02606")
        switch name {
        case "pacs.008": return transfer
        case "pacs.028":
            var request = PaymentMessage(kind: .statusRequest, function: .request)
            request.instructingAgent = transfer.instructingAgent
            request.instructedAgent = transfer.instructedAgent
            return request
        case "camt.056":
            transfer.kind = .cancellationRequest
            transfer.statusReason = "DUPL"
            return transfer
        default: return nil
        }
    }
}
