public import PaymentModel

extension ISO8583Mapping {
    /// The canonical fields `payment` holds that this mapping has no data element for.
    ///
    /// A message translated into this mapping's dialects would lose them, so
    /// ``message(from:dialect:results:mayDrop:)`` refuses it unless the caller names each one.
    public func uncarriedFields(of payment: PaymentMessage) -> [Target] {
        var lost: [Target] = []
        // Any one of `targets` is a place for the value.
        func check(_ present: Bool, _ targets: Target...) {
            if present && !entries.contains(where: { targets.contains($0.target) }) { lost.append(targets[0]) }
        }
        check(payment.pan != nil, .pan)
        check(payment.processing != nil, .processing)
        check(payment.amount != nil, .amount)
        check(payment.billingAmount != nil, .billingAmount)
        check(payment.transmissionDateTime != nil, .transmissionDateTime)
        check(payment.stan != nil, .stan)
        check(payment.rrn != nil, .rrn)
        check(payment.terminal != nil, .terminal)
        check(payment.expiry != nil, .expiry)
        check(payment.track2 != nil, .track2)
        check(payment.emv != nil, .emv)
        check(payment.acquirer != nil, .acquirer)
        check(payment.forwarder != nil, .forwarder)
        check(payment.localDateTime != nil, .localDateTime, .localDate, .localTime)
        check(payment.merchant?.categoryCode != nil, .merchantCategory)
        check(payment.merchant?.country != nil, .merchantCountry)
        check(payment.merchant?.id != nil, .merchantID)
        check(payment.merchant.map { $0.name != nil || $0.city != nil || $0.location != nil } ?? false, .merchantNameLocation)
        check(payment.posEntryMode != nil, .posEntryMode)
        check(payment.posConditionCode != nil, .posCondition)
        check(payment.approvalCode != nil, .approvalCode)
        check(payment.result != nil, .result)
        check(payment.original != nil, .originalData)
        return lost
    }
}
