public import ISO8583
public import PaymentModel

extension ReconciliationTotals {
    /// The reconciliation request carrying these totals for `date`: 0520 (1520 in 1993 dialects)
    /// with its transmission time, `stan`, DE 15 and DE 74–89 and 97 in the dialect's widths. What
    /// the switch sends after cutover and `payswitch recon totals --send` sends on demand.
    public func request(for date: BusinessDate, stan: UInt32, dialect: Dialect, version: Int) -> ISO8583Message {
        var message = ISO8583Message(mti: MTI(version == 0 ? "0520" : "1520")!)
        message.set(7, NetworkManagement.transmissionDateTime())
        message.set(11, NetworkManagement.sixDigits(stan))
        if let field = dialect[field: 15] { message.set(15, date.settlementDateField(digits: field.maxLength)) }
        write(into: &message, dialect: dialect)
        return message
    }
}
