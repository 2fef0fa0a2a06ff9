public import SpecFiles

/// A malformed row or an unreadable file, located by file, line and column: the same error, and
/// the same `file:line:column: error: message` form, as a malformed spec file's. Its column is the
/// byte column of the field in the line (0 when unknown; line 0 when the fault concerns the whole
/// file), and its message never holds a field value longer than 10 characters, so never a card number.
public typealias ReconciliationError = SpecError
