public import PaymentModel

extension ISO8583Mapping {
    /// The canonical fields `payment` holds that this mapping has no data element for.
    ///
    /// A message translated into this mapping's dialects would lose them, so
    /// ``message(from:dialect:results:mayDrop:)`` refuses it unless the caller names each one.
    public func uncarriedFields(of payment: PaymentMessage) -> [Target] {
        var lost: [Target] = []
        for target in uncarriableTargets where Self.holds(payment, target) { lost.append(target) }
        return lost
    }

    /// The targets no entry of `entries` carries, worked out once per mapping; the local date and
    /// time count as carried when any of their three forms is, and are named `local-date-time`.
    static func uncarriable(by entries: [Entry]) -> [Target] {
        let localForms: [Target] = [.localDateTime, .localDate, .localTime]
        return Target.allCases.filter { target in
            if target == .unmappedElements { return false }
            if localForms.contains(target) {
                return target == .localDateTime && !entries.contains { localForms.contains($0.target) }
            }
            return !entries.contains { $0.target == target }
        }
    }

    /// Whether the canonical message has a value for `target`.
    static func holds(_ payment: PaymentMessage, _ target: Target) -> Bool {
        // Short texts are looked at in place: no string is built to be compared with nil.
        if let text = target.textField {
            return payment.hasText(text)
        }
        switch target {
        case .pan: return payment.pan != nil
        case .processing: return payment.processing != nil
        case .amount: return payment.amount != nil
        case .billingAmount: return payment.billingAmount != nil
        case .expiry: return payment.expiry != nil
        case .track2: return payment.track2 != nil
        case .emv: return payment.emv != nil
        case .pinBlock: return payment.pinBlock != nil
        case .result: return payment.result != nil
        case .localTime, .localDate: return payment.hasText(.localDateTime)
        case .merchantNameLocation:
            return payment.hasText(.merchantName) || payment.hasText(.merchantCity) || payment.hasText(.merchantLocation)
        case .originalData: return payment.hasOriginal
        case .unmappedElements: return false
        case .transmissionDateTime, .stan, .rrn, .terminal, .acquirer, .forwarder, .localDateTime, .merchantCategory,
             .merchantCountry, .merchantID, .posEntryMode, .posCondition, .approvalCode:
            preconditionFailure("a short text, handled above")
        }
    }
}
