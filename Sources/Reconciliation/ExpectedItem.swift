/// One transaction the switch journalled for the business date, as the reconciliation needs it.
///
/// The caller builds these from its journal; the module knows neither the journal's storage nor
/// any wire format. A key field left nil counts as empty text when keys are compared.
public struct ExpectedItem: Sendable {
    /// What the journal says became of the transaction.
    public enum State: String, Sendable, Codable, CaseIterable {
        /// Approved and standing: the host must show one approval and no reversal.
        case settled
        /// Approved, then reversed with the host's acknowledgement.
        case reversed
        /// Approved, then reversed, the reversal not yet acknowledged (still in store-and-forward).
        case reversalPending = "reversal-pending"
        /// Declined or unanswered, never reversed: the host must not show a standing approval.
        case notApproved = "not-approved"
    }

    /// The journal record's id, printed in reports.
    public var reference: String
    /// Retrieval reference number (DE 37).
    public var rrn: String?
    /// System trace audit number (DE 11).
    public var stan: String?
    /// Card acceptor terminal id (DE 41).
    public var terminal: String?
    /// Approval code (DE 38).
    public var approvalCode: String?
    /// The amount in minor units; nil skips the amount comparison.
    public var amount: Int64?
    /// ISO 4217 numeric code such as `840` (an alphabetic code is accepted); nil skips the currency comparison.
    public var currency: String?
    /// The masked card number: informational.
    public var maskedPAN: String?
    public var state: State

    public init(reference: String, state: State) {
        self.reference = reference
        self.state = state
    }

    /// The value of one key field.
    func value(of field: ClearingLayout.KeyField) -> String? {
        switch field {
        case .rrn: rrn
        case .stan: stan
        case .terminal: terminal
        case .approvalCode: approvalCode
        }
    }
}
