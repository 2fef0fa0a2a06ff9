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
        switch target {
        case .pan: payment.pan != nil
        case .processing: payment.processing != nil
        case .amount: payment.amount != nil
        case .billingAmount: payment.billingAmount != nil
        case .transmissionDateTime: payment.transmissionDateTime != nil
        case .stan: payment.stan != nil
        case .rrn: payment.rrn != nil
        case .terminal: payment.terminal != nil
        case .expiry: payment.expiry != nil
        case .track2: payment.track2 != nil
        case .emv: payment.emv != nil
        case .result: payment.result != nil
        case .acquirer: payment.acquirer != nil
        case .forwarder: payment.forwarder != nil
        case .localTime, .localDate, .localDateTime: payment.localDateTime != nil
        case .merchantCategory: payment.merchant?.categoryCode != nil
        case .merchantCountry: payment.merchant?.country != nil
        case .merchantID: payment.merchant?.id != nil
        case .merchantNameLocation: payment.merchant.map { $0.name != nil || $0.city != nil || $0.location != nil } ?? false
        case .posEntryMode: payment.posEntryMode != nil
        case .posCondition: payment.posConditionCode != nil
        case .approvalCode: payment.approvalCode != nil
        case .originalData: payment.original != nil
        case .unmappedElements: false
        }
    }
}
