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
        add("sourceAmountText", payment.sourceAmountText)
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
        add("messageId", payment.identifiers.messageId)
        add("instructionId", payment.identifiers.instructionId)
        add("endToEndId", payment.identifiers.endToEndId)
        add("transactionId", payment.identifiers.transactionId)
        add("uetr", payment.identifiers.uetr)
        add("instructingAgent", payment.instructingAgent)
        add("instructedAgent", payment.instructedAgent)
        add("debtorName", payment.debtor?.name)
        add("debtorIBAN", shown(iban: payment.debtor?.iban))
        add("debtorAccount", payment.debtor?.otherAccount)
        add("debtorAgent", payment.debtorAgent)
        add("creditorName", payment.creditor?.name)
        add("creditorIBAN", shown(iban: payment.creditor?.iban))
        add("creditorAccount", payment.creditor?.otherAccount)
        add("creditorAgent", payment.creditorAgent)
        add("settlementDate", payment.settlementDate)
        add("settlementMethod", payment.settlementMethod)
        add("chargeBearer", payment.chargeBearer)
        add("status", payment.status)
        add("instructionPriority", payment.instructionPriority)
        add("serviceLevel", payment.serviceLevel)
        add("localInstrument", payment.localInstrument)
        add("categoryPurpose", payment.categoryPurpose)
        add("purpose", payment.purpose)
        add("creditorReference", payment.creditorReference)
        add("ultimateDebtorName", payment.ultimateDebtorName)
        add("ultimateCreditorName", payment.ultimateCreditorName)
        add("clearingSystem", payment.clearingSystem)
        add("statusReason", payment.statusReason)
        if let header = payment.businessHeader {
            add("headerFrom", header.from)
            add("headerTo", header.to)
            add("businessMessageId", header.businessMessageId)
            add("headerMessageDefinition", header.messageDefinitionId)
            add("businessService", header.businessService)
            add("headerCreationDate", header.creationDate)
            add("copyDuplicate", header.copyDuplicate)
            add("possibleDuplicate", header.possibleDuplicate.map { $0 ? "true" : "false" })
            add("priority", header.priority)
        }
        add("sourceFormat", payment.source?.format)
        add("sourceVersion", payment.source?.version)
        return members
    }

    public static func render(_ payment: PaymentMessage, unmask: Bool) -> String {
        var json = "{" + members(payment, unmask: unmask).map { "\(MessageJSON.quote($0.0)):\(MessageJSON.quote($0.1))" }.joined(separator: ",")
        if !payment.remittanceInformation.isEmpty {
            json += ",\"remittanceInformation\":[" + payment.remittanceInformation.map(MessageJSON.quote).joined(separator: ",") + "]"
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
        if let amount = string("amount") {
            guard let code = string("currency"), let currency = Currency(code) else { throw CanonicalJSONError("\"amount\" needs a known \"currency\"") }
            do {
                payment.amount = try Amount(parsing: amount, currency: currency)
            } catch {
                throw CanonicalJSONError("\"amount\" \(amount) is not a \(currency.code) amount: \(error)")
            }
        }
        payment.identifiers.messageId = string("messageId")
        payment.identifiers.instructionId = string("instructionId")
        payment.identifiers.endToEndId = string("endToEndId")
        payment.identifiers.transactionId = string("transactionId")
        payment.identifiers.uetr = string("uetr")
        payment.instructingAgent = string("instructingAgent")
        payment.instructedAgent = string("instructedAgent")
        if string("debtorName") != nil || string("debtorIBAN") != nil || string("debtorAccount") != nil {
            payment.debtor = Party(name: string("debtorName"), iban: string("debtorIBAN"), otherAccount: string("debtorAccount"))
        }
        if string("creditorName") != nil || string("creditorIBAN") != nil || string("creditorAccount") != nil {
            payment.creditor = Party(name: string("creditorName"), iban: string("creditorIBAN"), otherAccount: string("creditorAccount"))
        }
        payment.debtorAgent = string("debtorAgent")
        payment.creditorAgent = string("creditorAgent")
        payment.settlementDate = string("settlementDate")
        payment.settlementMethod = string("settlementMethod")
        payment.chargeBearer = string("chargeBearer")
        payment.status = string("status")
        payment.instructionPriority = string("instructionPriority")
        payment.serviceLevel = string("serviceLevel")
        payment.localInstrument = string("localInstrument")
        payment.categoryPurpose = string("categoryPurpose")
        payment.purpose = string("purpose")
        payment.creditorReference = string("creditorReference")
        payment.ultimateDebtorName = string("ultimateDebtorName")
        payment.ultimateCreditorName = string("ultimateCreditorName")
        payment.clearingSystem = string("clearingSystem")
        payment.statusReason = string("statusReason")
        payment.stan = string("stan")
        payment.rrn = string("rrn")
        payment.result = string("result").flatMap { Int($0) }.flatMap(ResultCode.init)
        if string("headerFrom") != nil || string("headerTo") != nil || string("businessMessageId") != nil {
            var header = BusinessHeader(from: string("headerFrom"), to: string("headerTo"), businessMessageId: string("businessMessageId"),
                                        messageDefinitionId: string("headerMessageDefinition"), businessService: string("businessService"),
                                        creationDate: string("headerCreationDate"))
            header.copyDuplicate = string("copyDuplicate")
            header.possibleDuplicate = string("possibleDuplicate").map { $0 == "true" }
            header.priority = string("priority")
            payment.businessHeader = header
        }
        if let format = string("sourceFormat"), let version = string("sourceVersion") {
            payment.source = PaymentMessage.Source(format: format, version: version)
        }
        if cardData { try parseCardData(string, into: &payment) }
        payment.remittanceInformation = object["remittanceInformation"] as? [String] ?? []
        payment.sourcePositions = object["sourcePositions"] as? [String: String] ?? [:]
        payment.sourceAmountText = string("sourceAmountText")
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
