/// The display rule for IBANs, which are personal data: the country code and check digits, then
/// the last four characters, the rest masked (`DE89**************3000`).
public enum IBAN {
    /// `text` masked for display; a text of eight characters or fewer is masked whole, since
    /// showing eight of them would show it all.
    public static func masked(_ text: String) -> String {
        let characters = Array(text)
        guard characters.count > 8 else { return String(repeating: "*", count: characters.count) }
        return String(characters[..<4]) + String(repeating: "*", count: characters.count - 8) + String(characters[(characters.count - 4)...])
    }

    /// Whether an ISO 20022 element path (`…/DbtrAcct/Id/IBAN`) names an IBAN: what dumps and
    /// differences show masked.
    public static func isPath(_ path: String) -> Bool { path == "IBAN" || path.hasSuffix("/IBAN") }

    /// Whether `text` has the shape ISO 13616 and the XSD's IBAN2007Identifier pattern give an
    /// IBAN: two capital letters, two digits, then 1-30 letters or digits.
    public static func hasShape(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (5...34).contains(bytes.count) else { return false }
        func isCapital(_ byte: UInt8) -> Bool { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) }
        func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        return isCapital(bytes[0]) && isCapital(bytes[1]) && isDigit(bytes[2]) && isDigit(bytes[3])
            && bytes[4...].allSatisfy { isCapital($0) || isDigit($0) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }
    }
}
