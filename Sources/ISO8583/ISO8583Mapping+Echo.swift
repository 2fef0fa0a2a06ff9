public import PaymentModel

extension ISO8583Mapping {
    /// The fields of `request` (in a dialect this mapping serves) that its answer echoes, given
    /// the host's answer as a canonical message from any dialect: each field whose canonical value
    /// the host's answer carries (with its currency field), and each unmapped element the host's
    /// answer carries under the same number in the same edition (or, across editions, one that
    /// means the same in every edition, such as the settlement date).
    ///
    /// A switch answering across dialects gives these back as the originator sent them, rather
    /// than rebuilt from the host's form of them.
    public func echoedFields(of request: ISO8583Message, answer: PaymentMessage) -> [Int] {
        let sameEdition = answer.source?.edition == version
        let unmapped = Set(answer.unmapped.compactMap { Int($0.key) }).filter { sameEdition || Self.sameMeaningInEveryEdition.contains($0) }
        return request.fieldNumbers.filter { field in
            // The entry of a mapped field by table; a currency field (DE 49, 51) belongs to its amount's entry.
            let position = fieldTable[field]
            let entry = position > 0 ? entries[position - 1]
                : coveredFields.contains(field) ? entries.first { $0.currencyField == field } : nil
            guard let entry else { return unmapped.contains(field) }
            return Self.holds(answer, entry.target)
        }
    }
}
