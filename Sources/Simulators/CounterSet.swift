/// Counters added field by field: each type lists its counting fields once, and merging (loops,
/// connections, intervals) goes through that list.
protocol CounterSet {
    /// Every counter of the type.
    static var counterFields: [WritableKeyPath<Self, Int>] { get }
}

extension CounterSet {
    /// Adds each of `other`'s counters to this one's.
    mutating func add(_ other: Self) {
        for field in Self.counterFields { self[keyPath: field] += other[keyPath: field] }
    }
}
