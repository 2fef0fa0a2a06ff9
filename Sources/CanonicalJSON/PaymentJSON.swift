import Foundation
import ISO8583
public import PaymentModel

/// The canonical message as flat JSON: `{"kind":"creditTransfer","function":"request","amount":"12.30",…}`.
///
/// One form for both directions: `payswitch iso20022 decode` and `translate --canonical` print it
/// (card data and IBANs masked unless asked), `payswitch iso20022 encode` reads it back (a masked
/// IBAN is refused there, not sent).
public enum PaymentJSON {
    /// An unmapped value as printed: masked when it is card data or an IBAN (the IBANs of a
    /// document's further transactions are kept under their paths), unless `unmask`.
    static func printable(_ field: UnmappedField, unmask: Bool) -> String {
        if unmask { return field.value }
        return IBAN.isPath(field.key) ? IBAN.masked(field.value) : field.printableValue
    }

    /// The string members, in a stable order; card data and IBANs masked unless `unmask`.
    public static func members(_ payment: PaymentMessage, unmask: Bool) -> [(String, String)] {
        var members: [(String, String)] = [("kind", payment.kind.rawValue), ("function", payment.function.rawValue)]
        func add(_ key: String, _ value: String?) { if let value { members.append((key, value)) } }
        func shown(iban: String?) -> String? { iban.map { unmask ? $0 : IBAN.masked($0) } }
        func shown(_ bytes: SensitiveBytes?) -> String? { bytes.map { unmask ? Hex.encode($0.revealed) : $0.description } }
        add("pan", payment.pan.map { unmask ? $0.revealed : $0.description })
        add("track2", payment.track2.map { unmask ? $0.revealed : $0.description })
        add("expiry", payment.expiry.map { unmask ? $0.revealed : $0.description })
        add("processing", payment.processing?.description)
        add("amount", payment.amount?.decimalText)
        add("currency", payment.amount?.currency.code)
        add("stan", payment.stan)
        add("rrn", payment.rrn)
        add("transmissionDateTime", payment.transmissionDateTime)
        add("localDateTime", payment.localDateTime)
        add("acquirer", payment.acquirer)
        add("forwarder", payment.forwarder)
        add("terminal", payment.terminal)
        add("merchantId", payment.merchant?.id)
        add("merchantCategory", payment.merchant?.categoryCode)
        add("merchantName", payment.merchant?.name)
        add("merchantCity", payment.merchant?.city)
        add("posEntryMode", payment.posEntryMode)
        add("result", payment.result?.description)
        add("approvalCode", payment.approvalCode)
        add("emv", shown(payment.emv))
        add("pinBlock", shown(payment.pinBlock))
        add("originalStan", payment.original?.stan)
        // The credit transfer values, named as the ISO 20022 mapping tables name them.
        for field in TransferField.all where field.form == .text || field.form == .amount {
            if field.form == .amount {
                guard field.name != "amount", let amount = field.amount?(payment) else { continue }
                add(field.name, amount.decimalText)
                add(field.name + "Currency", amount.currency.code)
            } else {
                add(field.name, field.name.hasSuffix("IBAN") ? shown(iban: field.text(of: payment)) : field.text(of: payment))
            }
        }
        add("sourceFormat", payment.source?.format)
        add("sourceVersion", payment.source?.version)
        return members
    }

    public static func render(_ payment: PaymentMessage, unmask: Bool) -> String {
        var json = "{" + members(payment, unmask: unmask).map { "\(MessageJSON.quote($0.0)):\(MessageJSON.quote($0.1))" }.joined(separator: ",")
        for field in TransferField.all where field.form == .list || field.form == .charges {
            let lines = field.values(payment)
            if !lines.isEmpty { json += ",\(MessageJSON.quote(field.name)):[" + lines.map(MessageJSON.quote).joined(separator: ",") + "]" }
        }
        if !payment.sourceTexts.isEmpty {
            json += ",\"sourceTexts\":{" + payment.sourceTexts.sorted { $0.key < $1.key }
                .map { "\(MessageJSON.quote($0.key)):\(MessageJSON.quote($0.value))" }.joined(separator: ",") + "}"
        }
        if !payment.sourcePositions.isEmpty {
            json += ",\"sourcePositions\":{" + payment.sourcePositions.sorted { $0.key < $1.key }
                .map { "\(MessageJSON.quote($0.key)):\(MessageJSON.quote($0.value))" }.joined(separator: ",") + "}"
        }
        if !payment.unmapped.isEmpty {
            json += ",\"unmapped\":{" + payment.unmapped.map { "\(MessageJSON.quote($0.key)):\(MessageJSON.quote(printable($0, unmask: unmask)))" }.joined(separator: ",") + "}"
        }
        return json + "}"
    }

    /// Reads the JSON form back: the ISO 20022 and amount members, and with `cardData` (for
    /// `rules explain`, which routes on BIN, MCC and acceptor data) the card members too.
    public static func parse(_ text: String, cardData: Bool = false) throws -> PaymentMessage {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw CanonicalJSONError("the input is not a JSON object")
        }
        func string(_ key: String) -> String? { object[key] as? String }
        guard let kind = string("kind").flatMap(PaymentMessage.Kind.init(rawValue:)) else {
            throw CanonicalJSONError("\"kind\" must be one of: \(PaymentMessage.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let function = string("function").flatMap(PaymentMessage.Function.init(rawValue:)) ?? .request
        var payment = PaymentMessage(kind: kind, function: function)
        /// The amount under `key` in the currency under `currencyKey`, or nil when there is none.
        func amount(_ key: String, currency currencyKey: String) throws -> Amount? {
            guard let text = string(key) else { return nil }
            guard let code = string(currencyKey), let currency = Currency(code) else {
                throw CanonicalJSONError("\"\(key)\" needs a known \"\(currencyKey)\"")
            }
            do {
                return try Amount(parsing: text, currency: currency)
            } catch {
                throw CanonicalJSONError("\"\(key)\" \(text) is not a \(currency.code) amount: \(error)")
            }
        }
        payment.amount = try amount("amount", currency: "currency")
        for field in TransferField.all {
            switch field.form {
            case .text: if let value = string(field.name) { _ = field.set(&payment, text: value) }
            case .list: if let lines = object[field.name] as? [String] { field.set(&payment, lines: lines) }
            case .charges:
                guard let items = object[field.name] as? [String] else { continue }
                var charges: [Charge] = []
                for item in items {
                    guard let charge = Charge(item) else { throw CanonicalJSONError("\"\(field.name)\": '\(item)' is not an amount, a currency and an optional BIC") }
                    charges.append(charge)
                }
                field.setCharges?(&payment, charges)
            case .amount:
                guard field.name != "amount", let value = try amount(field.name, currency: field.name + "Currency") else { continue }
                field.setAmount?(&payment, value)
            }
        }
        payment.stan = string("stan")
        payment.rrn = string("rrn")
        payment.result = string("result").flatMap { Int($0) }.flatMap(ResultCode.init)
        if let format = string("sourceFormat"), let version = string("sourceVersion") {
            payment.source = PaymentMessage.Source(format: format, version: version)
        }
        if cardData { try parseCardData(string, into: &payment) }
        payment.sourcePositions = object["sourcePositions"] as? [String: String] ?? [:]
        payment.sourceTexts = object["sourceTexts"] as? [String: String] ?? [:]
        for (key, value) in (object["unmapped"] as? [String: String] ?? [:]).sorted(by: { $0.key < $1.key }) {
            payment.unmapped.append(UnmappedField(key: key, value: value))
        }
        return payment
    }

    /// The card members of the JSON form; a malformed PAN is reported masked.
    private static func parseCardData(_ string: (String) -> String?, into payment: inout PaymentMessage) throws {
        if let pan = string("pan") {
            guard let value = PAN(pan) else { throw CanonicalJSONError("\"pan\" \(PAN.masked(pan)) is not 12 to 19 digits") }
            payment.pan = value
        }
        if let processing = string("processing") {
            guard let value = ProcessingCode(processing) else { throw CanonicalJSONError("\"processing\" must be six digits") }
            payment.processing = value
        }
        payment.acquirer = string("acquirer")
        payment.forwarder = string("forwarder")
        payment.terminal = string("terminal")
        payment.posEntryMode = string("posEntryMode")
        let merchant = Merchant(id: string("merchantId"), categoryCode: string("merchantCategory"),
                                name: string("merchantName"), city: string("merchantCity"), country: string("merchantCountry"))
        if merchant != Merchant() { payment.merchant = merchant }
        if let stan = string("originalStan") { payment.original = OriginalData(stan: stan) }
    }
}
