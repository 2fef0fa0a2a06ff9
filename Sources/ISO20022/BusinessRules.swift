import PaymentModel

/// Checks the XML schema cannot make: IBAN check digits, BIC shape, amounts within the currency's
/// minor units, NbOfTxs and CtrlSum against the transactions, CreDtTm in UTC.
///
/// Every problem names the element path (and its line); an empty list means none was found.
public enum ISO20022BusinessRules {
    public static func check(_ document: ISO20022Document) -> [ISO20022Problem] {
        var problems: [ISO20022Problem] = []
        func problem(_ element: ISO20022Document.Element, _ reason: String, suffix: String = "") {
            problems.append(ISO20022Problem(path: element.location + suffix, line: element.line, reason: reason))
        }
        for element in document.elements {
            let name = element.path.split(separator: "/").last.map(String.init) ?? element.path
            switch name {
            case "IBAN" where !isValidIBAN(element.text):
                // An IBAN is personal data: the error shows it masked.
                problem(element, "'\(IBAN.masked(element.text))' is not a valid IBAN (shape or mod-97 check digits)")
            case "BICFI", "AnyBIC", "BIC":
                if !isValidBIC(element.text) {
                    problem(element, "'\(element.text)' is not a BIC (4 letters bank, 2 letters country, 2 letters or digits location, optional 3 branch)")
                }
            case "CreDtTm" where element.path == "GrpHdr/CreDtTm":
                if !(element.text.hasSuffix("Z") || element.text.hasSuffix("+00:00")) {
                    problem(element, "'\(element.text)' is not in UTC (it must end with Z or +00:00)")
                }
            default:
                break
            }
            if let code = element.attributes["Ccy"] {
                if let currency = Currency(code), currency.code == code {
                    do {
                        _ = try Amount(parsing: element.text, currency: currency)
                    } catch {
                        problem(element, "'\(element.text)' is not a \(code) amount: \(error)")
                    }
                } else {
                    problem(element, "unknown currency '\(code)'", suffix: "@Ccy")
                }
            }
        }
        return problems + groupTotalProblems(document)
    }

    /// NbOfTxs and CtrlSum of a credit transfer against its transactions (their amounts at the
    /// mapping's first amount place).
    static func groupTotalProblems(_ document: ISO20022Document) -> [ISO20022Problem] {
        let mapping = document.definition.mapping
        guard mapping.kind == .creditTransfer, let amount = mapping.entries.first(where: { $0.field.form == .amount }) else { return [] }
        return checkGroupTotals(document, count: document.transactionsPresent, amountPath: amount.places[0])
    }

    /// NbOfTxs equals the number of transactions; CtrlSum, when present, equals the sum of their amounts.
    private static func checkGroupTotals(_ document: ISO20022Document, count: Int, amountPath: String) -> [ISO20022Problem] {
        var problems: [ISO20022Problem] = []
        if let number = document.first("GrpHdr/NbOfTxs"), Int(number.text) != count {
            problems.append(ISO20022Problem(path: number.location, line: number.line,
                                            reason: "NbOfTxs is \(number.text) but the message has \(count) transactions"))
        }
        if let control = document.first("GrpHdr/CtrlSum") {
            do throws(AmountError) {
                let expected = try Amount.scaled(control.text, scale: scale, ignoringTrailingZeros: true)
                var sum: Int64 = 0
                for element in document.elements where element.path == amountPath {
                    let (total, overflow) = sum.addingReportingOverflow(try Amount.scaled(element.text, scale: scale, ignoringTrailingZeros: true))
                    guard !overflow else { throw AmountError(.outOfRange) }
                    sum = total
                }
                if expected != sum {
                    problems.append(ISO20022Problem(path: control.location, line: control.line,
                                                    reason: "CtrlSum is \(control.text) but the transaction amounts add up to \(decimalText(sum))"))
                }
            } catch {
                problems.append(ISO20022Problem(path: control.location, line: control.line,
                                                reason: "CtrlSum '\(control.text)' cannot be compared with the sum of the amounts: \(error)"))
            }
        }
        return problems
    }

    /// The IBAN rule (ISO 13616): 2 letters, 2 check digits, up to 30 letters or digits; the
    /// rearranged number modulo 97 is 1.
    public static func isValidIBAN(_ text: String) -> Bool {
        let characters = Array(text.utf8)
        guard (15...34).contains(characters.count),
              characters[0..<2].allSatisfy(isUpper), characters[2..<4].allSatisfy(isDigit),
              characters.allSatisfy({ isUpper($0) || isDigit($0) }) else { return false }
        var remainder = 0
        for byte in characters[4...] + characters[..<4] {
            let value = isDigit(byte) ? Int(byte - UInt8(ascii: "0")) : Int(byte - UInt8(ascii: "A")) + 10
            remainder = (remainder * (value >= 10 ? 100 : 10) + value) % 97
        }
        return remainder == 1
    }

    /// The BIC shape (ISO 9362): 4 letters bank, 2 letters country, 2 letters or digits location,
    /// optionally 3 letters or digits branch.
    public static func isValidBIC(_ text: String) -> Bool {
        let characters = Array(text.utf8)
        guard characters.count == 8 || characters.count == 11 else { return false }
        return characters[0..<6].allSatisfy(isUpper) && characters[6...].allSatisfy { isUpper($0) || isDigit($0) }
    }

    private static func isUpper(_ byte: UInt8) -> Bool { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) }
    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    /// Fraction digits the group totals are compared at (ActiveCurrencyAndAmount allows 5).
    static let scale = 5

    /// A sum at ``scale`` as decimal text with at least two fraction digits: `150.5` → `150.50`.
    static func decimalText(_ value: Int64) -> String {
        var fraction = String(value % 100_000)
        fraction = String(repeating: "0", count: scale - fraction.count) + fraction
        while fraction.count > 2, fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(value / 100_000).\(fraction)"
    }
}
