import ISO20022
import ISO8583
import PaymentModel

extension CaptureSession {
    /// The session with its expectations rewritten from the answers a replay received: what
    /// `replay --record` writes, to bless answers after a reviewed change.
    ///
    /// An expectation that still holds is kept as written (patterns, wildcards and `echo` stay).
    /// Other values become exact, except card data: a sensitive value becomes `echo` when it equals
    /// the request's, otherwise `*`, so no card number is written.
    public func recorded(from outcome: SessionOutcome) -> CaptureSession {
        var session = self
        let dialect: Dialect? = if case .iso8583(let name) = wire { try? Dialect.shipped(name) } else { nil }
        var request = SentRequest.none
        for index in steps.indices where index < outcome.steps.count {
            switch steps[index].action {
            case .send(let content):
                if let sent = try? ReplayRunner.encode(content, dialect: dialect) { request = sent.1 }
            case .expect(let expectation):
                guard let answer = outcome.steps[index].answer else { continue }
                session.steps[index].action = .expect(expectation.recorded(answer, dialect: dialect, request: request))
            case .expectClose, .expectSilence:
                continue
            }
        }
        return session
    }
}

extension AnswerExpectation {
    /// Leaf elements whose values a host makes up anew for every answer.
    static let volatilePaths: Set<String> = ["GrpHdr/MsgId", "GrpHdr/CreDtTm", "AppHdr/BizMsgIdr", "AppHdr/CreDt", "Assgnmt/Id", "Assgnmt/CreDtTm"]

    func recorded(_ answer: [UInt8], dialect: Dialect?, request: SentRequest) -> AnswerExpectation {
        let keeps = { (key: String, expectation: ValueExpectation) -> Bool in
            AnswerExpectation(form: .iso8583(mti: nil, fields: [(key, expectation)], onlyListed: false))
                .differences(in: answer, dialect: dialect, request: request).isEmpty
        }
        switch form {
        case .bytes:
            return AnswerExpectation(form: .bytes(answer))
        case let .iso8583(mti, fields, _):
            guard let dialect, let message = try? ISO8583Message(decoding: answer, dialect: dialect) else {
                return AnswerExpectation(form: .bytes(answer))
            }
            let sent: ISO8583Message? = if case .iso8583(let request) = request { request } else { nil }
            var written: [(key: String, expectation: ValueExpectation)] = []
            let old = Dictionary(fields.map { ($0.key, $0.expectation) }, uniquingKeysWith: { first, _ in first })
            for number in message.fieldNumbers {
                let key = String(number)
                if let expectation = old[key], keeps(key, expectation) {
                    written.append((key, expectation))
                } else if let value = message.string(number) {
                    let sensitive = dialect[field: number]?.sensitivity.isSensitive ?? false
                    written.append((key, !sensitive ? .equals(value) : (sent?.string(number) == value ? .echo : .any)))
                }
            }
            // Subfield, EMV tag and `absent` expectations that still hold are kept; the whole-field
            // list above already covers any that no longer do.
            for field in fields where FieldKey(field.key)?.part != nil || field.expectation == .absent {
                if !written.contains(where: { $0.key == field.key }), keeps(field.key, field.expectation) { written.append(field) }
            }
            let mtiKept = mti.flatMap { expectation in
                AnswerExpectation(form: .iso8583(mti: expectation, fields: [], onlyListed: false))
                    .differences(in: answer, dialect: dialect, request: request).isEmpty ? expectation : nil
            }
            return AnswerExpectation(form: .iso8583(mti: mtiKept ?? .equals(message.mti.description), fields: written, onlyListed: true))
        case let .iso20022(_, paths):
            guard let document = try? ISO20022Codec().parse(answer) else { return AnswerExpectation(form: .bytes(answer)) }
            let values = ISO20022Values(document)
            var written: [(key: String, expectation: ValueExpectation)] = []
            let old = Dictionary(paths.map { ($0.key, $0.expectation) }, uniquingKeysWith: { first, _ in first })
            let holds = { (key: String, expectation: ValueExpectation) -> Bool in
                AnswerExpectation(form: .iso20022(message: nil, paths: [(key, expectation)]))
                    .differences(in: answer, dialect: nil, request: request).isEmpty
            }
            for element in document.header + document.elements where element.block == 0 {
                for key in [element.path] + element.attributes.keys.sorted().map({ element.path + "@" + $0 }) {
                    guard !written.contains(where: { $0.key == key }), let value = values.values[key] else { continue }
                    if let expectation = old[key], holds(key, expectation) {
                        written.append((key, expectation))
                    } else {
                        // A card number or an IBAN in a leaf is required present, never written down.
                        let unwritten = Self.volatilePaths.contains(key) || CardDataScrubber.looksLikeCardNumber(value) || IBAN.isPath(key)
                        written.append((key, unwritten ? .any : .equals(value)))
                    }
                }
            }
            for path in paths where !written.contains(where: { $0.key == path.key }) && holds(path.key, path.expectation) {
                written.append(path)
            }
            return AnswerExpectation(form: .iso20022(message: document.definition.rawValue, paths: written))
        }
    }
}
