extension ISO8583Message {
    /// Builds a message from values as people write them: characters for text and numeric fields,
    /// hexadecimal (either case) for the dialect's binary fields.
    ///
    /// The JSON form and conformance captures both write messages this way.
    public init(mti: MTI, texts: some Sequence<(Int, String)>, dialect: Dialect) throws(ISO8583Error) {
        self.init(mti: mti)
        for (number, text) in texts {
            guard (2...Dialect.fieldLimit).contains(number) else {
                throw ISO8583Error(code: .undefinedField, field: number, offset: nil, reason: "is not a data element number 2-\(Dialect.fieldLimit)")
            }
            if dialect[field: number]?.fieldClass == .binary {
                guard let bytes = Hex.decode(text) else {
                    throw ISO8583Error(code: .invalidHex, field: number, offset: nil, reason: "is binary: its value must be hexadecimal text")
                }
                set(number, bytes: bytes)
            } else {
                set(number, text)
            }
        }
    }
}
