extension ISO8583Message {
    /// Fields an answer never echoes: card-reading and cardholder-verification data (POS entry and
    /// condition, track 1 and 2, PIN data, chip data) that only the request carries.
    public static let requestOnlyFields: [Int] = [14, 22, 23, 25, 26, 35, 36, 45, 52, 53, 55]

    /// The answer to this request before its result is set: the response MTI and the request's
    /// fields, without request-only data and without DE 38 and 39.
    ///
    /// Consuming: a request not used afterwards becomes its answer in place, with no copy.
    public consuming func answerSkeleton() -> ISO8583Message {
        mti = mti.response
        for field in ISO8583Message.requestOnlyFields { remove(field) }
        remove(38)
        remove(39)
        return self
    }
}
