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
        #expect(dialect.tertiaryBitmap)
        #expect(dialect[field: 65] == nil)
    }

    @Test func iso93UsesThe1993FieldSet() throws {
        let dialect = try Dialect.shipped("iso93ascii")
        #expect(dialect[field: 12]?.maxLength == 12)
        #expect(dialect[field: 22]?.fieldClass == .alphanumeric && dialect[field: 22]?.maxLength == 12)
        #expect(dialect[field: 24]?.maxLength == 3)
        #expect(dialect[field: 39]?.fieldClass == .numeric && dialect[field: 39]?.maxLength == 3)
    }

    @Test func extendsMergesFieldsAndClassDefaults() throws {
        let bcd = try Dialect.shipped("iso87bcd")
        #expect(bcd.mtiEncoding == .bcd)
        #expect(bcd[field: 3]?.dataEncoding == .bcd)
        #expect(bcd[field: 2]?.padding == .right && bcd[field: 2]?.padCharacter == UInt8(ascii: "F"))
        #expect(bcd[field: 2]?.name == "Primary Account Number (PAN)")
        #expect(bcd[field: 43]?.dataEncoding == .ascii)
        #expect(bcd[field: 44]?.prefixEncoding == .bcd)
        #expect(bcd[field: 52]?.dataEncoding == .binary)
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
