import ISO8583
import SpecFiles
import Testing

/// Spec files are validated on load; every error names file:line:column.
struct DialectLoadingTests {
    @Test(arguments: Dialect.shippedNames)
    func shippedDialectsLoad(name: String) throws {
        let dialect = try Dialect.shipped(name)
        #expect(dialect.name == name)
        #expect(dialect[field: 2]?.sensitivity == .pan)
        #expect(dialect[field: 55]?.subfields == .berTLV)
        // jPOS's ISO87BPackager has no tertiary bitmap: its DE 65 is one byte.
        #expect(dialect.tertiaryBitmap == (name != "iso87bcd"))
        #expect((dialect[field: 65] == nil) == (name != "iso87bcd"))
    }

    /// iso87bcd follows ISO87BPackager where it departs from the 1987 sizes and pads.
    @Test func iso87bcdIsJPOSISO87BPackagerFieldForField() throws {
        let bcd = try Dialect.shipped("iso87bcd")
        for field in [2, 32, 33, 35, 99, 100] {
            #expect(bcd[field: field]?.padding == .right && bcd[field: field]?.padCharacter == UInt8(ascii: "0"), "DE \(field)")
        }
        for field in [28, 29, 30, 31, 97] { #expect(bcd[field: field]?.dataEncoding == .bcd, "DE \(field)") }
        #expect(bcd[field: 36]?.dataEncoding == .ascii && bcd[field: 36]?.lengthUnit == .characters)
        #expect(bcd[field: 54]?.maxLength == 120 && bcd[field: 55]?.maxLength == 999)
        #expect(bcd[field: 65]?.maxLength == 1 && bcd[field: 65]?.fieldClass == .binary)
        #expect(bcd[field: 93]?.maxLength == 6 && bcd[field: 96]?.maxLength == 16)
        #expect(bcd[field: 129] == nil)
    }

    @Test func iso93UsesThe1993FieldSet() throws {
        let dialect = try Dialect.shipped("iso93ascii")
        #expect(dialect[field: 12]?.maxLength == 12)
        #expect(dialect[field: 22]?.fieldClass == .alphanumeric && dialect[field: 22]?.maxLength == 12)
        #expect(dialect[field: 24]?.maxLength == 3)
        #expect(dialect[field: 39]?.fieldClass == .numeric && dialect[field: 39]?.maxLength == 3)
    }

    @Test func extendsMergesFieldsAndClassDefaults() throws {
        let ebcdic = try Dialect.shipped("iso87ebcdic")
        #expect(ebcdic.mtiEncoding == .ebcdic)
        #expect(ebcdic[field: 3]?.dataEncoding == .ebcdic037)
        #expect(ebcdic[field: 2]?.name == "Primary Account Number (PAN)")
        #expect(ebcdic[field: 44]?.prefixEncoding == .ebcdic)
        // From iso87binary, which it extends: raw binary fields and bitmaps.
        #expect(ebcdic[field: 52]?.dataEncoding == .binary)
        #expect(ebcdic.bitmapEncoding == .binary)
    }

    static let header = "dialect: test\nfields:\n"

    /// Each broken spec, the line and column the error must point at, and words it must contain.
    static let brokenSpecs: [(String, Int, Int, String)] = [
        ("  - {field: 2, name: PAN, class: n, lenght: LL}\n", 3, 37, "unknown key 'lenght'"),
        ("  - {field: 2, name: PAN, class: q, length: 6}\n", 3, 34, "class 'q' is not one of"),
        ("  - {field: 2, name: PAN, class: n, length: L9}\n", 3, 45, "length must be a number"),
        ("  - {field: 2, name: PAN, class: n, length: LL}\n", 3, 5, "needs 'max'"),
        ("  - {field: 2, name: PAN, class: n, length: LL, max: 120}\n", 3, 54, "over the 99"),
        ("  - {field: 52, name: PIN, class: b, length: 8, encoding: bcd}\n", 3, 59, "class b cannot be written as bcd"),
        // A signed amount packed as jPOS's IFB_AMOUNT is fixed only.
        ("  - {field: 28, name: Fee, class: xn, length: LL, max: 9, encoding: bcd}\n", 3, 69, "class xn cannot be written as bcd"),
        ("  - {field: 2, name: A, class: n, length: 6}\n  - {field: 2, name: B, class: n, length: 6}\n", 4, 5, "defined twice"),
        ("  - {field: 200, name: X, class: n, length: 6}\n", 3, 5, "numbered 2-192"),
        ("  - {field: 3, name: X, class: an, length: 6, subfields: {format: ber-tlv}}\n", 3, 67, "need a binary (b) field"),
        ("  - {field: 3, name: X, class: n, length: 6, counts: nibbles}\n", 3, 54, "cannot be counted in nibbles"),
        ("  - {field: 3, name: X, class: n, length: 6, encoding: bcd, pad-char: X}\n", 3, 71, "BCD pad nibble"),
        ("  - {field: 3, name: X, class: n, length: 6\n", 4, 1, "YAML"),
        ("  - {field: 3, class: n, length: 6}\n", 3, 5, "needs 'name'"),
        ("  - {field: 48, name: X, class: ans, length: LLL, max: 999, subfields: {format: tlv, tag-length: 4}}\n", 3, 98, "tag-length must be 2 or 3"),
    ]

    @Test(arguments: brokenSpecs)
    func brokenSpecIsLocated(yaml: String, line: Int, column: Int, words: String) {
        #expect {
            try Dialect.load(yaml: Self.header + yaml, file: "broken.yaml")
        } throws: { error in
            guard let error = error as? SpecError else { return false }
            let matches = error.file == "broken.yaml" && error.line == line && error.column == column
                && error.message.contains(words)
            if !matches { Issue.record("got \(error)") }
            return matches
        }
    }

    @Test func unknownTopLevelKey() {
        #expect(throws: SpecError.self) { try Dialect.load(yaml: "dialect: x\nbitmaps: hex\n", file: "t.yaml") }
    }

    @Test func extendsAnUnknownDialect() throws {
        do {
            _ = try Dialect.load(yaml: "dialect: x\nextends: iso99\n", file: "t.yaml")
            Issue.record("loaded")
        } catch {
            #expect(error.description == "t.yaml:2:10: error: no dialect named 'iso99' to extend")
        }
    }

    @Test func tertiaryFieldsNeedATertiaryBitmap() throws {
        do {
            _ = try Dialect.load(yaml: Self.header + "  - {field: 130, name: X, class: n, length: 2}\n", file: "t.yaml")
            Issue.record("loaded")
        } catch {
            #expect(error.message.contains("tertiary-bitmap: true"))
        }
    }
}
