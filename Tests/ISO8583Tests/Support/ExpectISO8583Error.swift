import ISO8583
import Testing

/// Expects `body` to throw an ``ISO8583Error`` with exactly this code, field and offset (nil: none),
/// so that a test names the whole of the error it pins, not only its kind.
func expectISO8583Error<Result>(_ code: ISO8583Error.Code, field: Int?, offset: Int?,
                                sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Result) {
    let error = #expect(throws: ISO8583Error.self, sourceLocation: sourceLocation) { _ = try body() }
    #expect(error?.code == code, sourceLocation: sourceLocation)
    #expect(error?.field == field, "field", sourceLocation: sourceLocation)
    #expect(error?.offset == offset, "offset", sourceLocation: sourceLocation)
}
