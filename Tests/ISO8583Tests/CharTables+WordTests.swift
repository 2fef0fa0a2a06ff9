@testable import ISO8583
import PaymentModel
import Testing

/// The class checks (eight bytes at a time for digits and printable text) agree with the byte
/// table on every byte, in every position of values short and long: a word check that let one
/// wrong byte through would accept a malformed field.
@Suite struct CharTablesWordTests {
    static let classes: [FieldClass] = [.numeric, .alpha, .alphanumeric, .alphanumericSpecial, .track]

    /// The first byte outside the class by the table alone, one byte at a time.
    static func expected(_ bytes: [UInt8], _ fieldClass: FieldClass) -> Int? {
        let allowed = Charset.allowedBits(fieldClass)
        return bytes.firstIndex { Charset.classBits[Int($0)] & allowed == 0 }
    }

    @Test(arguments: classes)
    func everyByteInEveryPositionIsJudgedAsTheTableJudgesIt(_ fieldClass: FieldClass) {
        // A value of the class (digits fit every class but alpha, letters fit alpha).
        let fill: UInt8 = fieldClass == .alpha ? UInt8(ascii: "K") : UInt8(ascii: "7")
        var mismatches = 0
        for count in [1, 2, 3, 5, 7, 8, 9, 12, 15, 16, 17, 23] {
            for position in 0..<count {
                for byte in 0...255 {
                    var value = [UInt8](repeating: fill, count: count)
                    value[position] = UInt8(byte)
                    // Followed by bytes outside every class: a check reading past the value (as a short
                    // value is read, as one word, when eight bytes are readable) must mask them off.
                    let frame = value + [0x00, 0xFF, 0x0D, 0x80, 0x7F, 0x1F, 0x3A, 0x2F]
                    for readable in [0, frame.count] {
                        let found = frame.withUnsafeBufferPointer {
                            charTables.firstOutsideClass($0.baseAddress!, count, fieldClass, Charset.allowedBits(fieldClass), readableBytes: readable)
                        }
                        if found != CharTablesWordTests.expected(value, fieldClass) { mismatches += 1 }
                    }
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test(arguments: [
        ("", true), ("0", true), ("0123456789", true), ("12345a", false), ("1234567890123/", false), ("9:", false),
    ])
    func digitsAreDigits(_ text: String, _ expected: Bool) {
        #expect(Array(text.utf8).withUnsafeBufferPointer(isASCIIDigits) == expected)
    }
}
