/// A set of integers as sorted, disjoint, non-adjacent closed intervals.
///
/// The one representation for BIN ranges, MCC ranges, amounts and time windows, so the compiler
/// and the validator reason about all of them with the same few operations.
public struct IntervalSet: Sendable, Hashable {
    /// The intervals, sorted and merged.
    public private(set) var ranges: [ClosedRange<Int64>]

    /// The set of the given intervals, in any order, overlapping or not.
    public init(_ intervals: some Sequence<ClosedRange<Int64>>) {
        let sorted = intervals.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<Int64>] = []
        merged.reserveCapacity(sorted.count)
        for range in sorted {
            if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                if range.upperBound > last.upperBound { merged[merged.count - 1] = last.lowerBound...range.upperBound }
            } else {
                merged.append(range)
            }
        }
        ranges = merged
    }

    public init(_ range: ClosedRange<Int64>) { ranges = [range] }

    public static let empty = IntervalSet([ClosedRange<Int64>]())

    public var isEmpty: Bool { ranges.isEmpty }

    /// Whether `value` is in the set: a binary search, no allocation.
    @inline(__always)
    public func contains(_ value: Int64) -> Bool {
        var low = 0, high = ranges.count
        while low < high {
            let middle = (low + high) >> 1
            if ranges[middle].upperBound < value { low = middle + 1 } else { high = middle }
        }
        return low < ranges.count && ranges[low].lowerBound <= value
    }

    public func union(_ other: IntervalSet) -> IntervalSet { IntervalSet(ranges + other.ranges) }

    public func intersection(_ other: IntervalSet) -> IntervalSet {
        var result: [ClosedRange<Int64>] = []
        var i = 0, j = 0
        while i < ranges.count && j < other.ranges.count {
            let a = ranges[i], b = other.ranges[j]
            let low = max(a.lowerBound, b.lowerBound), high = min(a.upperBound, b.upperBound)
            if low <= high { result.append(low...high) }
            if a.upperBound < b.upperBound { i += 1 } else { j += 1 }
        }
        var set = IntervalSet.empty
        set.ranges = result
        return set
    }

    public func isSubset(of other: IntervalSet) -> Bool { intersection(other) == self }
}
