import ISO8583
import Testing

/// Property tests: random valid messages survive encode → decode → encode in every shipped dialect.
struct RoundTripTests {
    static let casesPerDialect = 3000

    @Test(arguments: Dialect.shippedNames)
    func generatedMessagesRoundTrip(dialectName: String) throws {
        let dialect = try Dialect.shipped(dialectName)
        var generator = MessageGenerator(dialect: dialect, seed: 0x8583_0000 &+ UInt64(dialectName.utf8.count))
        var checked = 0
        for _ in 0..<RoundTripTests.casesPerDialect {
            let (message, expected) = generator.message()
            let frame = try message.encoded(as: dialect)
            let decoded = try ISO8583Message(decoding: frame, dialect: dialect)
            #expect(decoded.mti == message.mti)
            #expect(decoded.fieldNumbers == expected.keys.sorted())
            for (field, value) in expected {
                // Fixed text fields come back as written; nothing here is shorter than its length.
                #expect(decoded.string(field) == value, "DE \(field) in \(dialectName)")
            }
            // Decode then encode gives back the original bytes.
            #expect(try decoded.encoded(as: dialect) == frame)
            checked += 1
        }
        #expect(checked == RoundTripTests.casesPerDialect)
    }

    /// A message decoded in one dialect re-encodes in another and decodes to the same values (every
    /// field both define alike: iso87bcd follows jPOS's sizes for 54, 55, 93 and 96).
    @Test(arguments: [("iso87ascii", "iso87bcd"), ("iso87bcd", "iso87ebcdic"), ("iso87ebcdic", "iso87binary"), ("iso87binary", "iso87ascii")])
    func translationBetweenDialectsKeepsValues(from: String, to: String) throws {
        let source = try Dialect.shipped(from)
        let target = try Dialect.shipped(to)
        var generator = MessageGenerator(dialect: source, seed: 42, alike: target)
        for _ in 0..<500 {
            let (message, expected) = generator.message()
            let decoded = try ISO8583Message(decoding: try message.encoded(as: source), dialect: source)
            let translated = try ISO8583Message(decoding: try decoded.encoded(as: target), dialect: target)
            for (field, value) in expected { #expect(translated.string(field) == value, "DE \(field) \(from) → \(to)") }
        }
    }
}
