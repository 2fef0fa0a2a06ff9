@testable import ISO8583
import PaymentModel
import TestSupport
import Testing

/// ISO 8583 to and from the canonical message, across every pair of shipped dialects.
struct MappingTests {
    static let pairs: [(String, String)] = Dialect.shippedNames.flatMap { a in Dialect.shippedNames.map { (a, $0) } }

    /// A random canonical message with every value an ISO 8583 mapping carries.
    static func canonical(_ random: inout SeededRandom, table: ResultCodeTable) -> PaymentMessage {
        func digits(_ count: Int) -> String { String((0..<count).map { _ in "0123456789".randomElement(using: &random)! }) }
        func text(_ count: Int) -> String { String((0..<count).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".randomElement(using: &random)! }) }
        let kinds: [PaymentMessage.Kind] = [.authorization, .financial, .reversal]
        let functions: [PaymentMessage.Function] = [.request, .response, .advice]
        var payment = PaymentMessage(kind: kinds.randomElement(using: &random)!, function: functions.randomElement(using: &random)!)
        payment.pan = PAN("4" + digits(Int.random(in: 12...18, using: &random)))
        payment.processing = ProcessingCode("00" + ["00", "10", "20", "30"].randomElement(using: &random)! + "00")
        let currency = Currency(["EUR", "USD", "JPY", "KWD"].randomElement(using: &random)!)!
        payment.amount = Amount(minorUnits: Int64.random(in: 0...999_999_999, using: &random), currency: currency)
        payment.transmissionDateTime = "1121" + digits(6)
        payment.localDateTime = "1121" + digits(6)
        payment.stan = digits(6)
        payment.rrn = text(12)
        payment.terminal = text(8)
        payment.expiry = SensitiveText("27" + digits(2))
        payment.track2 = SensitiveText(payment.pan!.revealed + "=2712" + digits(8))
        payment.acquirer = digits(Int.random(in: 1...11, using: &random))
        payment.forwarder = digits(11)
        payment.merchant = Merchant(id: text(15), categoryCode: digits(4), name: text(Int.random(in: 1...23, using: &random)),
                                    city: text(Int.random(in: 1...13, using: &random)), country: digits(3))
        payment.merchant?.location = "IL" + "US"
        payment.emv = SensitiveBytes([0x9F, 0x26, 0x08] + (0..<8).map { _ in UInt8.random(in: 0...255, using: &random) } + [0x9F, 0x27, 0x01, 0x80])
        if payment.function == .response {
            // Only codes that read back to themselves in both versions, in an answer of this kind
            // (the first row for each, or the first of the kind's range: "00" in a 0410 is 4000).
            let messageClass = payment.kind == .reversal ? 4 : nil
            let exact = table.rows.filter { row in
                row.iso87.flatMap { table.fromISO87($0, messageClass: messageClass) } == row.canonical
                    && row.iso93.flatMap { table.fromISO93($0, messageClass: messageClass) } == row.canonical
            }
            payment.result = exact.randomElement(using: &random)!.canonical
            payment.approvalCode = text(6)
        }
        if payment.kind == .reversal {
            payment.original = OriginalData(mti: "0200", stan: digits(6), transmissionDateTime: "1121" + digits(6), acquirer: digits(11), forwarder: digits(11))
        }
        return payment
    }

    /// The values both mappings carry, in a form that survives either version.
    static func view(_ payment: PaymentMessage, _ a: ISO8583Mapping, _ b: ISO8583Mapping) -> [String: String] {
        let shared = Set(a.entries.map(\.target)).intersection(b.entries.map(\.target))
        var view: [String: String] = ["kind": payment.kind.rawValue, "function": payment.function.rawValue]
        func put(_ target: ISO8583Mapping.Target, _ value: String?) { if shared.contains(target), let value { view[target.rawValue] = value } }
        put(.pan, payment.pan?.revealed)
        put(.processing, payment.processing?.description)
        put(.amount, payment.amount.map { "\($0.minorUnits) \($0.currency.code)" })
        put(.transmissionDateTime, payment.transmissionDateTime)
        put(.stan, payment.stan)
        put(.rrn, payment.rrn)
        put(.terminal, payment.terminal)
        put(.expiry, payment.expiry?.revealed)
        put(.track2, payment.track2?.revealed)
        put(.emv, payment.emv.map { Hex.encode($0.revealed) })
        put(.acquirer, payment.acquirer)
        put(.forwarder, payment.forwarder)
        put(.merchantID, payment.merchant?.id)
        put(.merchantCategory, payment.merchant?.categoryCode)
        put(.merchantCountry, payment.merchant?.country)
        put(.merchantNameLocation, payment.merchant.map { "\($0.name ?? "")|\($0.city ?? "")|\($0.location ?? "")" })
        put(.result, payment.result?.description)
        put(.approvalCode, payment.approvalCode)
        // 1993 adds the year to local and original date-times; the last ten digits are common.
        if let local = payment.localDateTime { view["local"] = String(local.suffix(10)) }
        if shared.contains(.originalData), let original = payment.original {
            view["original"] = [original.mti, original.stan, original.transmissionDateTime.map { String($0.suffix(10)) }, original.acquirer]
                .map { $0 ?? "-" }.joined(separator: "/")
        }
        return view
    }

    @Test(arguments: pairs)
    func dialectToCanonicalToDialectIsTheIdentityOnMappedFields(from: String, to: String) throws {
        let source = try Dialect.shipped(from), target = try Dialect.shipped(to)
        let sourceMapping = try ISO8583Mapping.shipped(for: from), targetMapping = try ISO8583Mapping.shipped(for: to)
        var random = SeededRandom(seed: UInt64(from.hashValue & 0xFFFF) &+ 7)
        let table = ResultCodeTable.shipped
        for _ in 0..<200 {
            let generated = Self.canonical(&random, table: table)
            // Only what both mappings carry is compared, so what one of them has no element for may go.
            let first = try sourceMapping.canonical(
                from: ISO8583Message(decoding: try sourceMapping.message(from: generated, dialect: source,
                                                                         mayDrop: Set(sourceMapping.uncarriedFields(of: generated))).encoded(as: source),
                                     dialect: source),
                dialect: source)
            let frame = try targetMapping.message(from: first, dialect: target, mayDrop: Set(targetMapping.uncarriedFields(of: first))).encoded(as: target)
            let second = try targetMapping.canonical(from: ISO8583Message(decoding: frame, dialect: target), dialect: target)
            #expect(Self.view(first, sourceMapping, targetMapping) == Self.view(second, sourceMapping, targetMapping), "\(from) → \(to)")
            #expect(Self.view(generated, sourceMapping, sourceMapping) == Self.view(first, sourceMapping, sourceMapping))
        }
    }

    @Test func aCanonicalFieldTheTargetHasNoElementForIsRefusedUnlessItMayBeDropped() throws {
        let iso93 = try ISO8583Mapping.shipped(for: "iso93ascii"), dialect = try Dialect.shipped("iso93ascii")
        var payment = PaymentMessage(kind: .financial, function: .request)
        payment.terminal = "TERM0001"
        payment.posEntryMode = "051"
        payment.posConditionCode = "00"
        #expect(try ISO8583Mapping.shipped(for: "iso87ascii").uncarriedFields(of: payment).isEmpty)
        #expect(iso93.uncarriedFields(of: payment) == [.posEntryMode, .posCondition])
        #expect {
            _ = try iso93.message(from: payment, dialect: dialect, mayDrop: [.posCondition])
        } throws: { error in
            let reason = (error as? MappingError)?.reason ?? ""
            return reason.contains("pos-entry-mode") && !reason.contains("pos-condition")
        }
        let message = try iso93.message(from: payment, dialect: dialect, mayDrop: [.posEntryMode, .posCondition])
        #expect(message.string(41) == "TERM0001" && !message.contains(22) && !message.contains(25))
    }

    /// A 0200 with a STAN, a PIN block (mapped to the canonical PIN block) and two fields no
    /// mapping covers: private data and a MAC.
    static func messageWithUnmappedFields() -> ISO8583Message {
        var message = ISO8583Message(mti: MTI("0200")!)
        message.set(11, "000123")
        message.set(48, "PRIVATE DATA 123")
        message.set(52, bytes: [0xAB, 0xCD, 0xEF, 1, 2, 3, 4, 5])
        message.set(64, bytes: [1, 2, 3, 4, 5, 6, 7, 8])
        return message
    }

    @Test func unmappedFieldsSurviveAForwardInTheSameDialect() throws {
        let dialect = try Dialect.shipped("iso87binary"), mapping = try ISO8583Mapping.shipped(for: "iso87binary")
        let message = Self.messageWithUnmappedFields()
        let payment = try mapping.canonical(from: message, dialect: dialect)
        #expect(payment.unmapped.map(\.key) == ["48", "64"])
        // The PIN block is kept for the forward but never printed.
        #expect(payment.pinBlock?.revealed == [0xAB, 0xCD, 0xEF, 1, 2, 3, 4, 5])
        #expect(!"\(payment)".contains("ABCDEF0102030405") && !"\(payment)".uppercased().contains("ABCDEF"))
        #expect("\(payment.pinBlock!)" == "(8 bytes)")
        let back = try mapping.message(from: payment, dialect: dialect)
        #expect(try back.encoded(as: dialect) == message.encoded(as: dialect))
    }

    /// Translation never drops a field: an unmapped one (and the PIN block) follows into every
    /// dialect that defines it (`translate --from iso87binary --to iso87bcd` once lost DE 52).
    @Test(arguments: ["iso87ascii", "iso87binary", "iso87bcd", "iso87ebcdic"])
    func unmappedFieldsFollowIntoOtherDialects(target: String) throws {
        let source = try Dialect.shipped("iso87binary"), mapping = try ISO8583Mapping.shipped(for: "iso87binary")
        let message = Self.messageWithUnmappedFields()
        let payment = try mapping.canonical(from: ISO8583Message(decoding: message.encoded(as: source), dialect: source), dialect: source)
        let dialect = try Dialect.shipped(target)
        let out = try mapping.message(from: payment, dialect: dialect)
        let decoded = try ISO8583Message(decoding: out.encoded(as: dialect), dialect: dialect)
        #expect(decoded.fieldNumbers == [11, 48, 52, 64])
        #expect(decoded.string(48) == "PRIVATE DATA 123")
        #expect(decoded.bytes(52) == [0xAB, 0xCD, 0xEF, 1, 2, 3, 4, 5])
        #expect(decoded.bytes(64) == [1, 2, 3, 4, 5, 6, 7, 8])
    }

    /// The PIN block is a canonical value: a 1987 request's DE 52 is the 1993 request's DE 52,
    /// and reads back as the same canonical PIN block.
    @Test func thePINBlockCrossesEditions() throws {
        let source = try Dialect.shipped("iso87binary"), mapping87 = try ISO8583Mapping.shipped(for: "iso87binary")
        var message = ISO8583Message(mti: MTI("0200")!)
        message.set(11, "000123")
        message.set(52, bytes: [0xAB, 0xCD, 0xEF, 1, 2, 3, 4, 5])
        let payment = try mapping87.canonical(from: ISO8583Message(decoding: message.encoded(as: source), dialect: source), dialect: source)
        let target = try Dialect.shipped("iso93ascii"), mapping93 = try ISO8583Mapping.shipped(for: "iso93ascii")
        #expect(mapping93.uncarriedFields(of: payment).isEmpty)
        let out = try ISO8583Message(decoding: mapping93.message(from: payment, dialect: target).encoded(as: target), dialect: target)
        #expect(out.bytes(52) == [0xAB, 0xCD, 0xEF, 1, 2, 3, 4, 5])
        // And back: the 1993 DE 52 is the canonical PIN block too.
        #expect(try mapping93.canonical(from: out, dialect: target).pinBlock == payment.pinBlock)
    }

    /// DE 43 is written from the merchant's name, city and location, padded to 23, 13 and 4
    /// characters: by bytes when they are ASCII, by characters when not; a name over 23 is cut.
    @Test(arguments: [
        (Merchant(name: "ACME STORE 42", city: "SPRINGFIELD"), "IL", "ACME STORE 42          SPRINGFIELD  IL  "),
        (Merchant(name: "Café Zürich", city: "Zürich"), "CH", "Café Zürich            Zürich       CH  "),
        (Merchant(name: "A NAME OF TWENTY-SIX BYTES", city: nil), nil, "A NAME OF TWENTY-SIX BY                 "),
        (Merchant(id: "M1", name: nil, city: nil), "US", nil),
    ] as [(Merchant, String?, String?)])
    func merchantNameAndLocationArePadded(merchant: Merchant, location: String?, expected: String?) throws {
        let dialect = try Dialect.shipped("iso87ascii"), mapping = try ISO8583Mapping.shipped(for: "iso87ascii")
        var payment = PaymentMessage(kind: .financial, function: .request)
        payment.merchant = merchant
        payment.merchant?.location = location
        let message = try mapping.message(from: payment, dialect: dialect)
        #expect(message.string(43) == expected)
        if let expected, expected.utf8.allSatisfy({ $0 < 0x80 }) {
            let back = try mapping.canonical(from: ISO8583Message(decoding: message.encoded(as: dialect), dialect: dialect), dialect: dialect)
            #expect(back.merchant?.name == merchant.name.map { String($0.prefix(23)) } && back.merchant?.city == merchant.city)
        }
    }

    @Test func unmappedFieldTheTargetLacksIsAnErrorNamingIt() throws {
        let mapping = try ISO8583Mapping.shipped(for: "iso87binary")
        var payment = PaymentMessage(kind: .financial, function: .request)
        payment.source = PaymentMessage.Source(format: "iso8583", version: "iso87binary")
        payment.unmapped = [UnmappedField(key: "48", value: "PRIVATE")]
        let tiny = try Dialect.load(yaml: """
            dialect: tiny
            fields:
              - {field: 11, name: STAN, class: n, length: 6}
            """, file: "tiny.yaml")
        let error = #expect(throws: MappingError.self) { try mapping.message(from: payment, dialect: tiny) }
        #expect(error?.field == 48)
        payment.unmapped = [UnmappedField(key: "0", value: "X")]
        #expect(throws: MappingError.self) { try mapping.message(from: payment, dialect: tiny) }
    }

    @Test func amountsUseTheCurrencysImpliedDecimals() throws {
        let dialect = try Dialect.shipped("iso87ascii"), mapping = try ISO8583Mapping.shipped(for: "iso87ascii")
        var message = ISO8583Message(mti: MTI("0100")!)
        message.set(4, "000000001234")
        message.set(49, "414")  // KWD: three decimals
        let payment = try mapping.canonical(from: message, dialect: dialect)
        #expect(payment.amount?.decimalText == "1.234" && payment.amount?.currency.code == "KWD")
    }

    /// Values read in place (ASCII, raw EMV bytes) and values decoded first (BCD, EBCDIC, hex)
    /// give the same canonical message, and the frame's EMV slice equals the bytes set.
    @Test func everyFormOfAValueGivesTheSameCanonicalMessage() throws {
        let icc: [UInt8] = [0x9F, 0x26, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x9F, 0x27, 0x01, 0x80]
        var message = ISO8583Message(mti: MTI("0200")!)
        for (field, value) in [(2, "4761739001010119"), (3, "003000"), (4, "000000010000"), (7, "1120153045"), (11, "123456"),
                               (12, "153045"), (13, "1120"), (14, "2712"), (18, "5411"), (35, "4761739001010119=27122011143804400000"),
                               (41, "TERM0001"), (42, "MERCHANT0000001"), (43, "ACME STORE 42          SPRINGFIELD  ILUS"), (49, "840")] {
            message.set(field, value)
        }
        message.set(55, bytes: icc)
        var seen: [PaymentMessage] = []
        for name in ["iso87ascii", "iso87binary", "iso87bcd", "iso87ebcdic"] {
            let dialect = try Dialect.shipped(name), mapping = try ISO8583Mapping.shipped(for: name)
            var payment = try mapping.canonical(from: ISO8583Message(decoding: message.encoded(as: dialect), dialect: dialect), dialect: dialect)
            #expect(payment.pan?.revealed == "4761739001010119" && payment.track2?.revealed == "4761739001010119=27122011143804400000")
            #expect(payment.emv == SensitiveBytes(icc) && payment.emv?.revealed == icc)
            #expect(payment.processing?.fromAccount == "30" && payment.amount?.currency.code == "USD" && payment.localDateTime == "1120153045")
            #expect(payment.merchant?.name == "ACME STORE 42" && payment.merchant?.location == "ILUS" && payment.merchant?.categoryCode == "5411")
            payment.source = nil
            seen.append(payment)
        }
        #expect(Set(seen).count == 1)
    }

    @Test(arguments: [(2, "47617390010"), (2, "47617390010101191234"), (2, "4761739001O10119"), (3, "00300"), (3, "0030O0"),
                      (49, "999"), (49, "84"), (6, "00000001000X")])
    func badValueIsAMappingErrorNamingItsField(field: Int, value: String) throws {
        let dialect = try Dialect.shipped("iso87ascii"), mapping = try ISO8583Mapping.shipped(for: "iso87ascii")
        var message = ISO8583Message(mti: MTI("0200")!)
        message.set(2, "4761739001010119")
        message.set(4, "000000010000")
        message.set(49, "840")
        message.set(field, value)
        let error = #expect(throws: MappingError.self) { try mapping.canonical(from: message, dialect: dialect) }
        #expect(error?.field == field)
        // The routing scope refuses the same message the same way.
        let routingError = #expect(throws: MappingError.self) { try mapping.canonical(from: message, dialect: dialect, scope: .routing) }
        #expect(routingError?.field == field)
    }

    /// The routing scope builds what routing, channel health and the transaction key read, equal to
    /// the full message's, and nothing else.
    @Test func theRoutingScopeHasWhatRoutingReadsAndNothingElse() throws {
        let dialect = try Dialect.shipped("iso87binary"), mapping = try ISO8583Mapping.shipped(for: "iso87binary")
        var message = ISO8583Message(mti: MTI("0420")!)
        for (field, value) in [(2, "4761739001010119"), (3, "003000"), (4, "000000010000"), (7, "1120153045"), (11, "123456"),
                               (12, "153045"), (13, "1120"), (14, "2712"), (18, "5411"), (19, "840"), (22, "051"), (25, "00"),
                               (32, "123456"), (35, "4761739001010119=27122011143804400000"), (37, "000000123456"),
                               (41, "TERM0001"), (42, "MERCHANT0000001"), (43, "ACME STORE 42          SPRINGFIELD  ILUS"), (48, "PRIVATE"),
                               (49, "840"), (90, "020012345611201530450000012345600000000000")] {
            message.set(field, value)
        }
        message.set(55, bytes: [0x9F, 0x27, 0x01, 0x80])
        let full = try mapping.canonical(from: message, dialect: dialect)
        let routing = try mapping.canonical(from: message, dialect: dialect, scope: .routing)
        #expect(routing.kind == full.kind && routing.function == full.function && routing.isRepeat == full.isRepeat)
        #expect(routing.pan == full.pan && routing.processing == full.processing && routing.amount == full.amount)
        #expect(routing.stan == full.stan && routing.terminal == full.terminal && routing.acquirer == full.acquirer)
        #expect(routing.posEntryMode == full.posEntryMode && routing.original == full.original && routing.original != nil)
        #expect(routing.merchant?.id == full.merchant?.id && routing.merchant?.categoryCode == full.merchant?.categoryCode)
        #expect(routing.merchant?.country == full.merchant?.country && routing.merchant?.country != nil)
        #expect(routing.merchant?.name == nil && full.merchant?.name == "ACME STORE 42")
        #expect(routing.track2 == nil && routing.emv == nil && routing.rrn == nil && routing.localDateTime == nil)
        #expect(routing.unmapped.isEmpty && !full.unmapped.isEmpty)
    }

    @Test func unknownResponseCodeIsAnError() throws {
        let dialect = try Dialect.shipped("iso87ascii"), mapping = try ISO8583Mapping.shipped(for: "iso87ascii")
        var message = ISO8583Message(mti: MTI("0110")!)
        message.set(39, "Q7")
        #expect(throws: MappingError.self) { try mapping.canonical(from: message, dialect: dialect) }
    }

    @Test func mappingFilesAreValidated() {
        #expect(throws: (any Error).self) {
            try ISO8583Mapping.load(yaml: "mapping: x\nversion: 0\ndialects: []\nresult-codes: iso87\nfields:\n  - {field: 4, to: amount}\n", file: "m.yaml")
        }
    }
}

/// 1987 dates carry no year; moved into a 1993 field they take the year within six months of today.
struct YearWindowTests {
    @Test(arguments: [
        ("1231235959", 2027, 1, "26"), ("0101000000", 2026, 12, "27"), ("1231235959", 2026, 12, "26"),
        ("0101000000", 2027, 1, "27"), ("0615120000", 2026, 1, "26"), ("0801120000", 2026, 1, "25"),
        ("0601120000", 2026, 12, "26"), ("0501120000", 2026, 12, "27"), ("1231235959", 2000, 1, "99"),
    ])
    func yearOfA1987Date(monthDay: String, year: Int, month: Int, expected: String) {
        #expect(ISO8583Mapping.year(of: monthDay, today: (year, month)) == expected)
    }
}

/// 1993 DE 56 (original data): found by the iso8583map fuzz target, which checks that
/// ISO 8583 → canonical → ISO 8583 → canonical changes nothing. Characters after the acquirer were dropped.
struct OriginalDataTests {
    static func canonical(_ de56: String) throws -> PaymentMessage {
        let dialect = try Dialect.shipped("iso93ascii"), mapping = try ISO8583Mapping.shipped(for: "iso93ascii")
        var message = ISO8583Message(mti: MTI("1420")!)
        message.set(56, de56)
        return try mapping.canonical(from: ISO8583Message(decoding: message.encoded(as: dialect), dialect: dialect), dialect: dialect)
    }

    /// The fuzzer's frame: DE 56 with an empty acquirer and six characters after it, which the
    /// positional subfields let pass and the mapping dropped. The decoder now refuses it.
    @Test func charactersAfterTheLastSubfieldAreRefusedByTheDecoder() throws {
        let frame = try #require(Hex.decode("313430333031303030303030303030303031323030313232303031323330303030303030303030303030303030303030303030303030303030303030303030"))
        expectISO8583Error(.invalidSubfields, field: 56, offset: 54) { try ISO8583Message(decoding: frame, dialect: Dialect.shipped("iso93ascii")) }
    }

    /// A message built by hand reaches the mapping without the decoder: it refuses the same.
    @Test func charactersAfterTheAcquirerAreAMappingError() throws {
        var message = ISO8583Message(mti: MTI("1420")!)
        message.set(56, "1200" + "123456" + "261120153045" + "0012")
        let error = #expect(throws: MappingError.self) {
            try ISO8583Mapping.shipped(for: "iso93ascii").canonical(from: message, dialect: Dialect.shipped("iso93ascii"))
        }
        #expect(error?.field == 56)
    }

    @Test(arguments: [("", nil), ("00", ""), ("06123456", "123456")] as [(String, String?)])
    func acquirerRoundTrips(suffix: String, acquirer: String?) throws {
        let payment = try Self.canonical("1200" + "123456" + "261120153045" + suffix)
        #expect(payment.original?.acquirer == acquirer)
        let mapping = try ISO8583Mapping.shipped(for: "iso93ascii"), dialect = try Dialect.shipped("iso93ascii")
        let again = try mapping.canonical(from: ISO8583Message(decoding: mapping.message(from: payment, dialect: dialect).encoded(as: dialect),
                                                               dialect: dialect), dialect: dialect)
        #expect(again == payment)
    }
}
