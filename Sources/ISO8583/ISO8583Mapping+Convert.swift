public import PaymentModel

extension ISO8583Mapping {
    /// The canonical message an ISO 8583 message carries; unmapped elements are kept as they are.
    ///
    /// One pass over the present fields, each looked up in the mapping's field table (no search
    /// per entry). Each value is read in place from the message's storage (or a stack buffer for
    /// BCD, EBCDIC and binary forms): numbers and amounts are parsed from the bytes, and every
    /// string is built once from its bytes, so a value of up to 15 bytes is held inline and
    /// allocates nothing.
    ///
    /// - Parameter scope: ``CanonicalScope/routing`` builds only what routing reads, for a request
    ///   whose frame is forwarded as received; the checks that can refuse a message are the same.
    public func canonical(from message: ISO8583Message, dialect: Dialect, results: ResultCodeTable = .shipped,
                          scope: CanonicalScope = .everything) throws(MappingError) -> PaymentMessage {
        let mti = message.mti
        let kind = try ISO8583Mapping.kind(mti)
        return try ISO8583Mapping.building(kind, ISO8583Mapping.function(mti)) { payment throws(MappingError) in
            payment.isRepeat = mti.origin % 2 == 1
            // The edition is the mapping's (it reads the element numbers), whatever version digit the MTI carries.
            payment.source = PaymentMessage.Source(format: "iso8583", version: dialect.name, edition: version)
            try fill(&payment, from: message, dialect: dialect, results: results, scope: scope)
        }
    }

    /// A new message of `kind` and `function` filled by `body`. Returning a changed local of a type
    /// this large costs two more copies of it (and a retain and release of each reference) in
    /// Swift 6.3's code; returned from here, it is built in place.
    @inline(__always)
    private static func building(_ kind: PaymentMessage.Kind, _ function: PaymentMessage.Function,
                                 _ body: (inout PaymentMessage) throws(MappingError) -> Void) throws(MappingError) -> PaymentMessage {
        var payment = PaymentMessage(kind: kind, function: function)
        try body(&payment)
        return payment
    }

    /// Out of line: the compiler stops inlining into a function past a size, and inlined into
    /// `canonical` this loop was too large to inline `setText` in turn.
    @inline(never)
    private func fill(_ payment: inout PaymentMessage, from message: ISO8583Message, dialect: Dialect, results: ResultCodeTable,
                      scope: CanonicalScope) throws(MappingError) {
        // DE 13 and DE 12 (1987) make one local date and time: kept as slots, read together.
        var localDate: FieldSlot? = nil
        var localTime: FieldSlot? = nil
        for slot in message.slots {
            let field = Int(slot.number)
            let position = Int(fieldTable[field])
            guard position != 0 else {
                if scope == .everything && !coveredFields.contains(field) { ISO8583Mapping.keepUnmapped(slot, of: message, dialect: dialect, in: &payment) }
                continue
            }
            let entry = entries[position - 1]
            if scope == .routing && !entry.target.isReadByRouting { continue }
            switch entry.target {
            case .emv:
                payment.emv = ISO8583Mapping.sensitiveBytes(slot, of: message)
            case .pinBlock:
                payment.pinBlock = ISO8583Mapping.sensitiveBytes(slot, of: message)
            case .localDate:
                localDate = slot
            case .localTime:
                localTime = slot
            default:
                if let text = entry.textField, slot.form == .text {
                    // Most card texts are characters in the frame: copied from it straight into the
                    // message's slot, reading whole words while the frame has 24 bytes left.
                    message.storage.withUnsafeBufferPointer { frame in
                        payment.setText(text, utf8: ValueReader(buffer: frame, slot: slot).storedBytes, readableBytes: frame.count - Int(slot.offset))
                    }
                    continue
                }
                try store(slot, entry, from: message, into: &payment, results: results)
            }
        }
        if let localDate, let localTime {
            message.withText(localDate) { date in
                message.withText(localTime) { time in
                    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: date.count + time.count) { buffer in
                        let end = buffer.initialize(fromContentsOf: date)
                        let count = UnsafeMutableBufferPointer(rebasing: buffer[end...]).initialize(fromContentsOf: time) + end
                        payment.setText(.localDateTime, utf8: UnsafeBufferPointer(rebasing: buffer[..<count]))
                    }
                }
            }
        }
    }

    // The cases below are out of the loop above: inlined, they made it keep its state on the
    // stack rather than in registers.

    /// An element the mapping does not map, kept as it is.
    @inline(never)
    private static func keepUnmapped(_ slot: FieldSlot, of message: ISO8583Message, dialect: Dialect, in payment: inout PaymentMessage) {
        let field = Int(slot.number)
        payment.unmapped.append(message.withText(slot) { value in
            UnmappedField(key: ISO8583Mapping.decimalKeys[field], utf8: value, isSensitive: dialect.isSensitive(field))
        })
    }

    /// EMV data or a PIN block: raw bytes stay in the frame; other forms (hexadecimal) are decoded into an array.
    @inline(never)
    private static func sensitiveBytes(_ slot: FieldSlot, of message: ISO8583Message) -> SensitiveBytes {
        slot.form == .binary
            ? SensitiveBytes(slice: message.storage[Int(slot.offset)..<Int(slot.offset + slot.units)])
            : SensitiveBytes(message.logicalBytes(slot))
    }

    /// Reads one field's value once and stores it: a read inlined in every case made the loop some
    /// 25 KB of code.
    @inline(never)
    private func store(_ slot: FieldSlot, _ entry: Entry, from message: ISO8583Message, into payment: inout PaymentMessage,
                       results: ResultCodeTable) throws(MappingError) {
        if slot.form == .text {
            // Characters in the frame: read in place, without a scratch buffer or a closure.
            try message.storage.withUnsafeBufferPointer { frame throws(MappingError) in
                try store(ValueReader(buffer: frame, slot: slot).storedBytes, entry, field: Int(slot.number),
                          into: &payment, message: message, results: results)
            }
            return
        }
        try message.withText(slot) { value throws(MappingError) in
            try store(value, entry, field: Int(slot.number), into: &payment, message: message, results: results)
        }
    }

    /// Stores one field's value (its text, as ``ISO8583Message/withText(_:_:)`` gives it) in the
    /// canonical message. A merchant's value makes the merchant present; a DE 43 of blanks alone does not.
    private func store(_ value: UnsafeBufferPointer<UInt8>, _ entry: Entry, field: Int, into payment: inout PaymentMessage,
                       message: ISO8583Message, results: ResultCodeTable) throws(MappingError) {
        if let text = entry.textField {
            // Copied from the stack straight into the message's inline slot.
            payment.setText(text, utf8: value)
            return
        }
        switch entry.target {
        case .amount:
            payment.amount = try ISO8583Mapping.amount(value, field: field, currencyField: entry.currencyField!, message: message)
        case .billingAmount:
            payment.billingAmount = try ISO8583Mapping.amount(value, field: field, currencyField: entry.currencyField!, message: message)
        case .merchantNameLocation:
            ISO8583Mapping.nameAndLocation(value, into: &payment)
        case .pan:
            guard let pan = PAN(utf8: value) else { throw MappingError(field: field, reason: "not a PAN of 12 to 19 digits") }
            payment.pan = pan
        case .processing:
            guard ISO8583Mapping.isDigits(value, 6...6) else { throw MappingError(field: field, reason: "a processing code is 6 digits") }
            payment.processing = ProcessingCode(sixDigits: value)
        case .expiry:
            payment.expiry = SensitiveText(utf8: value)
        case .track2:
            payment.track2 = SensitiveText(utf8: value)
        case .result:
            let text = ISO8583Mapping.string(value)
            let messageClass = message.mti.messageClass
            let code = usesActionCodes ? results.fromISO93(text, messageClass: messageClass) : results.fromISO87(text, messageClass: messageClass)
            guard let code else { throw MappingError(field: field, reason: "response code '\(text)' is not in specs/codes/results.yaml") }
            payment.result = code
        case .originalData:
            payment.original = try originalData(ISO8583Mapping.string(value), field: field)
        case .emv, .pinBlock, .localDate, .localTime, .transmissionDateTime, .stan, .rrn, .terminal, .acquirer, .forwarder, .localDateTime,
             .merchantCategory, .merchantCountry, .merchantID, .posEntryMode, .posCondition, .approvalCode:
            preconditionFailure("handled by the caller or as a short text")
        case .unmappedElements:
            preconditionFailure("no entry maps to unmapped-elements (refused when the mapping is read)")
        }
    }

    /// A field number as decimal text, without the generic integer formatting.
    static func decimal(_ number: Int) -> String {
        withDecimal(Int64(number), string)
    }

    /// Every data element number as decimal text, made once: an unmapped field's key is a lookup.
    static let decimalKeys: [String] = (0...Dialect.fieldLimit).map(decimal)

    /// A string of a value's UTF-8 bytes (ill-formed sequences repaired, as `String(decoding:as:)`
    /// does). Up to 15 ASCII bytes are copied straight into an inline string: no validation pass,
    /// no allocation.
    @inline(__always)
    static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { buffer in buffer.initialize(fromContentsOf: bytes) }
    }

    /// Whether a value is all ASCII digits and its length in `lengths`.
    @inline(__always)
    static func isDigits(_ bytes: UnsafeBufferPointer<UInt8>, _ lengths: ClosedRange<Int>) -> Bool {
        lengths.contains(bytes.count) && isASCIIDigits(bytes)
    }

    /// Whether every byte is ASCII and none is CR.
    @inline(__always)
    static func isASCIIWithoutCR(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        everyWord(of: value, passes: { word in
            // A CR becomes a zero byte; zero bytes are found exactly (no borrow between bytes).
            let crossed = word ^ 0x0D0D_0D0D_0D0D_0D0D
            let zero = ~(((crossed & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | crossed)
            return (word | zero) & 0x8080_8080_8080_8080 == 0
        }, orEveryByte: { $0 < 0x80 && $0 != 0x0D })
    }

    /// 1987 DE 43: name in characters 1-23, city in 24-36, state and country in 37-40, each without
    /// its trailing spaces and none when blank.
    static func nameAndLocation(_ value: UnsafeBufferPointer<UInt8>, into payment: inout PaymentMessage) {
        // In ASCII without CR (CR LF is one character) a character is a byte: slice the bytes.
        guard ISO8583Mapping.isASCIIWithoutCR(value) else {
            let characters = Array(String(decoding: value, as: UTF8.self))
            func part(_ field: PaymentMessage.TextField, _ range: Range<Int>) {
                let clipped = range.clamped(to: 0..<characters.count)
                var text = String(characters[clipped]).trimmingTrailingSpaces()
                if !text.isEmpty { text.withUTF8 { payment.setText(field, utf8: $0) } }
            }
            part(.merchantName, 0..<23)
            part(.merchantCity, 23..<36)
            part(.merchantLocation, 36..<40)
            return
        }
        // Pointer arithmetic rather than ranges and slices of the buffer.
        guard let base = value.baseAddress else { return }
        @inline(__always) func part(_ field: PaymentMessage.TextField, _ lower: Int, _ upper: Int) {
            let start = min(lower, value.count)
            var end = min(upper, value.count)
            while end > start && base[end - 1] == UInt8(ascii: " ") { end -= 1 }
            if end > start {
                payment.setText(field, utf8: UnsafeBufferPointer(start: base + start, count: end - start), readableBytes: value.count - start)
            }
        }
        part(.merchantName, 0, 23)
        part(.merchantCity, 23, 36)
        part(.merchantLocation, 36, 40)
    }

    /// The ISO 8583 message that carries a canonical message in a dialect this mapping serves.
    ///
    /// Unmapped elements of an ISO 8583 source are carried into this dialect; one it does not
    /// define is an error naming it, never a silent drop. So is a canonical field this mapping has
    /// no element for (see ``uncarriedFields(of:)``), unless `mayDrop` names it.
    public func message(from payment: PaymentMessage, dialect: Dialect, results: ResultCodeTable = .shipped,
                        mayDrop: Set<Target> = []) throws(MappingError) -> ISO8583Message {
        let refused = uncarriedFields(of: payment).filter { !mayDrop.contains($0) }
        if !refused.isEmpty {
            throw MappingError(field: nil, reason: "mapping \(name) has no data element for "
                               + refused.map(\.rawValue).joined(separator: ", ") + ", so the message cannot be carried without losing it")
        }
        let classDigit: Int
        switch payment.kind {
        case .authorization: classDigit = 1
        case .financial: classDigit = 2
        case .reversal: classDigit = 4
        case .networkManagement: classDigit = 8
        default: throw MappingError(field: nil, reason: "a \(payment.kind.rawValue) has no ISO 8583 form")
        }
        let functionDigit: Int
        switch payment.function {
        case .request, .repeat: functionDigit = 0
        case .response: functionDigit = 1
        case .advice: functionDigit = 2
        case .adviceResponse: functionDigit = 3
        }
        let origin = payment.isRepeat || payment.function == .repeat ? 1 : 0
        guard let mti = MTI(asciiDigits: 0x30 &+ UInt8(truncatingIfNeeded: version), 0x30 &+ UInt8(classDigit), 0x30 &+ UInt8(functionDigit), 0x30 &+ UInt8(origin)) else {
            throw MappingError(field: 0, reason: "mapping \(name): version \(version) is not one MTI digit")
        }
        var message = ISO8583Message(mti: mti)
        // One allocation each for the values and the slots, rather than growth field by field.
        message.reserveCapacity(bytes: 512, fields: entries.count + payment.unmapped.count)
        for entry in entries {
            let field = entry.field
            // A short text goes as it is; a 1987 local date and time gains its year (below).
            if let text = entry.textField, entry.target != .localDateTime {
                payment.withText(text) { value in if let value { message.set(field, utf8: value) } }
                continue
            }
            switch entry.target {
            case .pan: if let pan = payment.pan { pan.withRevealedDigits { message.set(field, utf8: $0) } }
            case .processing: if let code = payment.processing { message.set(field, code.description) }
            case .amount, .billingAmount:
                guard let amount = entry.target == .amount ? payment.amount : payment.billingAmount else { continue }
                ISO8583Mapping.withDecimal(amount.minorUnits) { message.set(field, utf8: $0) }
                amount.currency.withNumericDigits { message.set(entry.currencyField!, utf8: $0) }
            case .expiry: if let value = payment.expiry { value.withRevealedUTF8 { message.set(field, utf8: $0) } }
            case .track2: if let value = payment.track2 { value.withRevealedUTF8 { message.set(field, utf8: $0) } }
            case .emv: if let value = payment.emv { message.set(field, bytes: value.revealedSlice) }
            case .pinBlock: if let value = payment.pinBlock { message.set(field, bytes: value.revealedSlice) }
            case .localDate: if let value = payment.localDateTime { ISO8583Mapping.set(&message, field, value, suffix: 10, prefix: 4) }
            case .localTime: if let value = payment.localDateTime { ISO8583Mapping.set(&message, field, value, suffix: 6, prefix: 6) }
            case .localDateTime:
                // 1993 carries the year; a 1987 value has none, so the current year is assumed.
                if let value = payment.localDateTime { message.set(field, value.count == 10 ? ISO8583Mapping.year(of: value) + value : value) }
            case .merchantNameLocation:
                ISO8583Mapping.setNameAndLocation(&message, field, payment)
            case .result:
                guard let result = payment.result else { continue }
                guard let code = responseCode(for: result, results: results) else {
                    throw MappingError(field: field, reason: "result \(result) has no \(usesActionCodes ? "1993" : "1987") code in specs/codes/results.yaml")
                }
                message.set(field, code)
            case .originalData:
                if let original = payment.original { message.set(field, originalText(original)) }
            case .unmappedElements:
                continue
            case .transmissionDateTime, .stan, .rrn, .terminal, .acquirer, .forwarder, .merchantCategory,
                 .merchantCountry, .merchantID, .posEntryMode, .posCondition, .approvalCode:
                preconditionFailure("a short text, handled above")
            }
        }
        // The unmapped elements last: the mapped ones, in field order, are appended rather than
        // inserted before them.
        if payment.source?.format == "iso8583", !payment.unmapped.isEmpty, let edition = payment.source?.edition, edition != version {
            // Another edition numbers its elements differently (1993's DE 22 is the POS data code,
            // 1987's the entry mode): carried by number, an element would change its meaning. Only
            // the few that mean the same in every edition go across.
            for field in payment.unmapped {
                guard let number = Int(field.key), Self.sameInEveryEdition.contains(number), dialect[field: number] != nil else { continue }
                setValue(&message, number, field, dialect: dialect)
            }
            let changing = payment.unmapped.filter { Int($0.key).map { !Self.sameInEveryEdition.contains($0) } ?? true }
            if !changing.isEmpty && !mayDrop.contains(.unmappedElements) {
                let numbers = changing.map(\.key).joined(separator: ", ")
                throw MappingError(field: Int(changing[0].key), reason: "DE \(numbers) of ISO 8583:\(Self.year(edition: edition)) have no mapped "
                                   + "meaning and mean something else in ISO 8583:\(Self.year(edition: version)); name unmapped-elements in may-drop to drop them")
            }
        } else if payment.source?.format == "iso8583" {
            // Carried into any ISO 8583 dialect of the same edition that defines the element; never dropped silently.
            for field in payment.unmapped {
                guard let number = Int(field.key), (2...Dialect.fieldLimit).contains(number) else {
                    throw MappingError(field: nil, reason: "unmapped element '\(field.key)' is not an ISO 8583 data element number")
                }
                guard dialect[field: number] != nil else {
                    throw MappingError(field: number, reason: "dialect \(dialect.name) has no DE \(number), so it cannot be carried")
                }
                setValue(&message, number, field, dialect: dialect)
            }
        }
        return message
    }

    /// Sets `field` to `prefix` characters of the last `suffix` characters of `value` (all of
    /// them when it is shorter): by bytes when `value` is ASCII, else by characters.
    static func set(_ message: inout ISO8583Message, _ field: Int, _ value: String, suffix: Int, prefix: Int) {
        var value = value
        let done: Bool = value.withUTF8 { bytes in
            guard isASCII(bytes) else { return false }
            let tail = bytes.suffix(suffix)
            message.set(field, utf8: UnsafeBufferPointer(rebasing: tail.prefix(prefix)))
            return true
        }
        if !done { message.set(field, String(value.suffix(suffix).prefix(prefix))) }
    }

    /// 1987 DE 43: name, city and location padded with spaces to 23, 13 and 4 characters, copied
    /// from the message's inline texts into a stack buffer when all three are ASCII. Nothing when
    /// there is neither a name nor a city.
    static func setNameAndLocation(_ message: inout ISO8583Message, _ field: Int, _ payment: PaymentMessage) {
        let done: Bool = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { buffer in
            buffer.initialize(repeating: UInt8(ascii: " "))
            let name = payment.copyText(.merchantName, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<23]))
            let city = payment.copyText(.merchantCity, into: UnsafeMutableBufferPointer(rebasing: buffer[23..<36]))
            let location = payment.copyText(.merchantLocation, into: UnsafeMutableBufferPointer(rebasing: buffer[36..<40]))
            guard name != nil || city != nil else { return true }
            guard name?.isASCII ?? true, city?.isASCII ?? true, location?.isASCII ?? true else { return false }
            message.set(field, utf8: UnsafeBufferPointer(buffer))
            return true
        }
        if !done, let merchant = payment.merchant {
            message.set(field, (merchant.name ?? "").padded(23) + (merchant.city ?? "").padded(13) + (merchant.location ?? "").padded(4))
        }
    }

    /// Calls `body` with the decimal digits of a number (a `-` first if negative), from a stack buffer.
    static func withDecimal<Result>(_ value: Int64, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var magnitude = value.magnitude
            var start = 20
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                start -= 1
                buffer[start] = UInt8(ascii: "-")
            }
            return body(UnsafeBufferPointer(rebasing: buffer[start...]))
        }
    }

    /// DE 39 for a canonical result in this mapping's form (a 1987 code or a 1993 action code), or
    /// nil when the table has none.
    public func responseCode(for result: ResultCode, results: ResultCodeTable = .shipped) -> String? {
        let row = results.row(result)
        return usesActionCodes ? row?.iso93 : row?.iso87
    }

    // MARK: Conversions that need code

    static func kind(_ mti: MTI) throws(MappingError) -> PaymentMessage.Kind {
        switch mti.messageClass {
        case 1: return .authorization
        case 2: return .financial
        case 4: return .reversal
        case 8: return .networkManagement
        default: throw MappingError(field: 0, reason: "MTI \(mti): message class \(mti.messageClass) has no canonical kind yet")
        }
    }

    static func function(_ mti: MTI) -> PaymentMessage.Function {
        switch mti.function {
        case 1: return .response
        case 2: return .advice
        case 3: return .adviceResponse
        default: return .request
        }
    }

    /// An ISO 8583 amount is already in minor units: its implied decimals are the currency's.
    static func amount(_ value: UnsafeBufferPointer<UInt8>, field: Int, currencyField: Int, message: ISO8583Message) throws(MappingError) -> Amount {
        guard let index = message.slotIndex(currencyField) else {
            throw MappingError(field: field, reason: "the amount needs DE \(currencyField) for its currency")
        }
        let slot = message.slots[index]
        // Three digits: an index into the numeric table, no string. Otherwise the code as text.
        guard let currency = message.withText(slot, Currency.init(numericDigits:)) ?? Currency(message.withText(slot, ISO8583Mapping.string)) else {
            throw MappingError(field: currencyField, reason: "unknown currency '\(message.withText(slot, ISO8583Mapping.string))'")
        }
        guard !value.isEmpty, isASCIIDigits(value) else {
            throw MappingError(field: field, reason: "the amount is not a whole number of minor units")
        }
        var minor: Int64 = 0
        if value.count <= 18 {
            // 18 digits stay below Int64.max: no overflow to check.
            for digit in value { minor = minor &* 10 &+ Int64(digit &- UInt8(ascii: "0")) }
            return Amount(minorUnits: minor, currency: currency)
        }
        for digit in value {
            let (shifted, overflow) = minor.multipliedReportingOverflow(by: 10)
            let (sum, carry) = shifted.addingReportingOverflow(Int64(digit &- UInt8(ascii: "0")))
            guard !overflow, !carry else { throw MappingError(field: field, reason: "the amount exceeds \(Int64.max) minor units") }
            minor = sum
        }
        return Amount(minorUnits: minor, currency: currency)
    }

    func originalData(_ value: String, field: Int) throws(MappingError) -> OriginalData {
        let characters = Array(value)
        func take(_ start: Int, _ count: Int) -> String? {
            guard start + count <= characters.count else { return nil }
            return String(characters[start..<start + count])
        }
        if version == 0 {
            // 1987 DE 90: MTI 4, STAN 6, transmission date and time 10, acquirer 11, forwarder 11.
            guard characters.count == 42 else { throw MappingError(field: field, reason: "1987 original data elements are 42 digits") }
            return OriginalData(mti: take(0, 4), stan: take(4, 6), transmissionDateTime: take(10, 10),
                                acquirer: take(20, 11), forwarder: take(31, 11))
        }
        // 1993 DE 56: MTI 4, STAN 6, local date and time 12, then an LL-prefixed acquirer.
        guard characters.count >= 22 else { throw MappingError(field: field, reason: "1993 original data elements need at least 22 digits") }
        var original = OriginalData(mti: take(0, 4), stan: take(4, 6), transmissionDateTime: take(10, 12))
        if characters.count > 22 {
            // Then an LL-prefixed acquiring institution code, and nothing after it: what does not
            // fit that is an error, never dropped.
            guard let prefix = take(22, 2), prefix.allSatisfy({ ("0"..."9").contains($0) }), let length = Int(prefix),
                  characters.count == 24 + length else {
                throw MappingError(field: field, reason: "1993 original data elements: the \(characters.count - 22) characters "
                                   + "after the date and time are not one LL-prefixed acquiring institution code")
            }
            original.acquirer = take(24, length)
        }
        return original
    }

    func originalText(_ original: OriginalData) -> String {
        if version == 0 {
            return (original.mti ?? "0000") + (original.stan ?? "000000") + String((original.transmissionDateTime ?? "").suffix(10)).zeroPadded(10)
                + (original.acquirer ?? "").zeroPadded(11) + (original.forwarder ?? "").zeroPadded(11)
        }
        let dateTime = original.transmissionDateTime.map { $0.count == 10 ? ISO8583Mapping.year(of: $0) + $0 : $0 } ?? ""
        var text = (original.mti ?? "0000") + (original.stan ?? "000000") + dateTime.zeroPadded(12)
        if let acquirer = original.acquirer { text += String(acquirer.count).zeroPadded(2) + acquirer }
        return text
    }

    /// Sets a value the way the dialect expects it: hexadecimal text becomes bytes for binary fields.
    func setValue(_ message: inout ISO8583Message, _ field: Int, _ value: UnmappedField, dialect: Dialect) {
        let isBinary = dialect[field: field]?.fieldClass == .binary
        value.withValueUTF8 { text in
            // Plain hexadecimal (a PIN block) is decoded on the stack; anything else as before.
            if isBinary, text.count % 2 == 0, Charset.withBytes(fromPlainHex: text, { message.set(field, bytes: $0) }) { return }
            if isBinary, let bytes = Charset.bytes(fromHex: String(decoding: text, as: UTF8.self)) {
                message.set(field, bytes: bytes)
            } else {
                message.set(field, utf8: text)
            }
        }
    }

    /// The year's last two digits for a 1987 date without one (`MMDD…`), moved into a 1993 field:
    /// the year that puts the month within six months of today (UTC), the usual window, so that
    /// 1231 read on 1 January is last year's and 0101 read on 31 December next year's.
    static func year(of monthDay: String, today: (year: Int, month: Int) = ISO8583Mapping.today()) -> String {
        var year = today.year
        if let month = Int(monthDay.prefix(2)), (1...12).contains(month) {
            if month - today.month > 6 { year -= 1 }
            if today.month - month > 6 { year += 1 }
        }
        return String(year % 100).zeroPadded(2)
    }

    /// Today's year and month (UTC).
    static func today() -> (year: Int, month: Int) {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        return (Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1)
    }
}

extension String {
    func padded(_ width: Int) -> String {
        count >= width ? String(prefix(width)) : self + String(repeating: " ", count: width - count)
    }

    func zeroPadded(_ width: Int) -> String {
        count >= width ? String(suffix(width)) : String(repeating: "0", count: width - count) + self
    }

    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension ISO8583Mapping {
    /// Unmapped elements that mean the same in the 1987, 1993 and 2003 editions: track 1 data, and
    /// the PIN block for a mapping that leaves it unmapped (the shipped ones map it).
    static let sameInEveryEdition: Set<Int> = [45, 52]
    /// Unmapped elements that mean the same in every edition, though the form may differ: those
    /// above and the settlement date (MMDD in 1987, YYMMDD in 1993). An answer may echo them.
    static let sameMeaningInEveryEdition: Set<Int> = sameInEveryEdition.union([15])

    /// The year of an edition's MTI version digit.
    static func year(edition: Int) -> String {
        switch edition {
        case 0: "1987"
        case 1: "1993"
        case 2: "2003"
        default: "edition \(edition)"
        }
    }
}
