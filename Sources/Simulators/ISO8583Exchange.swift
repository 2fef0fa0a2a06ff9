public import ISO8583

/// The POS simulator's traffic: ISO 8583 requests from templates, each with a unique STAN (DE 11)
/// and RRN (DE 37, the request's sequence number), and answers checked for MTI, STAN, RRN and amount.
///
/// Each template is encoded once; a request is that frame with the STAN and RRN digits written in
/// place, so sending allocates nothing.
public struct ISO8583Exchange: LoadExchange {
    /// A template, encoded, with where its STAN and RRN digits are.
    struct Template: Sendable {
        var frame: [UInt8]
        var stan: DigitField
        var rrn: DigitField
        var answerMTI: MTI
        var amount: Int64?
        /// Where a PIN block and KSN go, when PINs are entered.
        var pinPlaces: PINEntry.Places?
    }

    /// A run of decimal digits inside a frame, in the dialect's encoding.
    struct DigitField: Sendable {
        enum Style: Sendable { case ascii, ebcdic, bcd }
        var offset: Int
        var digits: Int
        var style: Style

        func write(_ value: Int, into frame: UnsafeMutableBufferPointer<UInt8>) {
            var value = value
            switch style {
            case .ascii, .ebcdic:
                let zone: UInt8 = style == .ascii ? 0x30 : 0xF0
                for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                    frame[index] = zone | UInt8(value % 10)
                    value /= 10
                }
            case .bcd:
                for index in stride(from: offset + digits / 2 - 1, through: offset, by: -1) {
                    let low = UInt8(value % 10)
                    value /= 10
                    frame[index] = UInt8(value % 10) << 4 | low
                    value /= 10
                }
            }
        }
    }

    let dialect: Dialect
    let templates: [Template]
    public let weights: [Int]
    let pinEntry: PINEntry?

    /// - Parameters:
    ///   - templates: Requests (their STAN and RRN are replaced) with their weights in the mix.
    ///   - pinEntry: PINs entered under DUKPT into every request (DE 52 and the KSN's element).
    public init(dialect: Dialect, templates: [(message: ISO8583Message, weight: Int)], pinEntry: PINEntry? = nil) throws {
        guard !templates.isEmpty else { throw SimulatorError("no request templates") }
        self.dialect = dialect
        self.pinEntry = pinEntry
        self.templates = try templates.map { try ISO8583Exchange.prepare($0.message, dialect: dialect, pinEntry: pinEntry) }
        self.weights = templates.map(\.weight)
    }

    static func prepare(_ message: ISO8583Message, dialect: Dialect, pinEntry: PINEntry? = nil) throws -> Template {
        guard message.mti.expectsResponse else {
            throw SimulatorError("template \(message.mti) is not a request that expects an answer")
        }
        var message = message
        pinEntry?.prepare(&message)
        message.set(11, "000000")
        message.set(37, "000000000000")
        let frame = try message.encoded(as: dialect)
        let encoded = try ISO8583Message(decoding: frame, dialect: dialect)
        var template = Template(frame: frame, stan: try digitField(11, digits: 6, in: encoded),
                                rrn: try digitField(37, digits: 12, in: encoded), answerMTI: message.mti.response,
                                amount: message.integer(4), pinPlaces: try pinEntry?.places(in: encoded))
        // Check the positions: a frame written with known numbers must read them back.
        template.frame.withUnsafeMutableBufferPointer { frame in
            template.stan.write(123_456, into: frame)
            template.rrn.write(987_654_321_012, into: frame)
        }
        let check = try ISO8583Message(decoding: template.frame, dialect: dialect)
        guard check.integer(11) == 123_456, check.integer(37) == 987_654_321_012 else {
            throw SimulatorError("cannot place the STAN and RRN in a \(dialect.name) frame")
        }
        return template
    }

    static func digitField(_ field: Int, digits: Int, in message: ISO8583Message) throws -> DigitField {
        guard let wire = message.wireBytes(field), let first = wire.first else {
            throw SimulatorError("field \(field) is missing from the template")
        }
        switch (wire.count, first) {
        case (digits, 0x30): return DigitField(offset: wire.startIndex, digits: digits, style: .ascii)
        case (digits, 0xF0): return DigitField(offset: wire.startIndex, digits: digits, style: .ebcdic)
        case (digits / 2, 0x00): return DigitField(offset: wire.startIndex, digits: digits, style: .bcd)
        default: throw SimulatorError("field \(field) has an encoding the load generator cannot write in place")
        }
    }

    /// STAN for a sequence number: 000001 to 999999, then round again.
    static func stan(_ sequence: Int) -> Int { sequence % 999_999 + 1 }

    public func request(_ sequence: Int, variant: Int, into buffer: inout [UInt8]) {
        let template = templates[variant]
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: template.frame)
        buffer.withUnsafeMutableBufferPointer { frame in
            template.stan.write(ISO8583Exchange.stan(sequence), into: frame)
            template.rrn.write(sequence, into: frame)
        }
        if let pinEntry, let places = template.pinPlaces { pinEntry.write(sequence, places: places, into: &buffer) }
    }

    public func read(_ payload: UnsafeRawBufferPointer) -> AnswerReading<ISO8583Message> {
        let answer: ISO8583Message
        do {
            answer = try ISO8583Message(decoding: payload, dialect: dialect)
        } catch {
            return .undecodable("\(error)")
        }
        guard let rrn = answer.integer(37) else { return .undecodable("the answer has no numeric RRN (DE 37)") }
        return .answer(sequence: Int(rrn), answer)
    }

    public func mismatch(_ answer: ISO8583Message, sequence: Int, variant: Int) -> String? {
        let template = templates[variant]
        if answer.mti != template.answerMTI { return "MTI \(answer.mti), expected \(template.answerMTI)" }
        if answer.integer(11) != Int64(ISO8583Exchange.stan(sequence)) { return "STAN \(answer.string(11) ?? "missing"), expected \(ISO8583Exchange.stan(sequence))" }
        if let amount = template.amount, answer.contains(4), answer.integer(4) != amount {
            return "amount \(answer.string(4) ?? "?"), expected \(amount)"
        }
        return nil
    }

    public func code(_ answer: ISO8583Message) -> ResponseCode {
        guard let code = answer.string(39) else { return .none }
        return ResponseCode(code)
    }
}
