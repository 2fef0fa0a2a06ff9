/// A buffer of plain values that is appended to and cut back without giving memory back,
/// uniqueness checks or `Array`'s generic range replacement: the reader's open elements, their
/// names, their children's names and character data, which grow to the document's deepest path
/// and longest text once per parse and are then reused element by element.
struct ReusableBuffer<Element: BitwiseCopyable>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>
    /// How many values fit before it grows.
    private(set) var capacity: Int
    /// How many values are in use.
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    mutating func append(_ values: UnsafeBufferPointer<Element>) {
        guard let source = values.baseAddress, !values.isEmpty else { return }
        reserve(values.count)
        let target = base + count
        if values.count <= 16 {
            // Most names and text runs are short: a loop costs less than a call to memcpy.
            for offset in 0..<values.count { target[offset] = source[offset] }
        } else {
            target.update(from: source, count: values.count)
        }
        count += values.count
    }

    @inline(__always)
    mutating func append(_ value: Element) {
        reserve(1)
        base[count] = value
        count += 1
    }

    /// Removes and returns the last value, which must be there.
    @inline(__always)
    mutating func removeLast() -> Element {
        precondition(count > 0)
        count -= 1
        return base[count]
    }

    /// Keeps the first `count` values.
    @inline(__always)
    mutating func truncate(to count: Int) {
        self.count = min(max(count, 0), self.count)
    }

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let grown = max(count + extra, capacity * 2)
        let moved = UnsafeMutablePointer<Element>.allocate(capacity: grown)
        moved.moveInitialize(from: base, count: count)
        base.deallocate()
        base = moved
        capacity = grown
    }

    @inline(__always)
    subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < count)
            return base[index]
        }
        set {
            precondition(index >= 0 && index < count)
            base[index] = newValue
        }
    }

    /// The values in `range`, which must be within ``count``; valid until the next change.
    subscript(range: Range<Int>) -> UnsafeBufferPointer<Element> {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        return UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    var last: Element? { count > 0 ? base[count - 1] : nil }
}

extension ReusableBuffer where Element == UInt8 {
    mutating func append(contentsOf text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    /// The bytes from `start` on as a String.
    func string(from start: Int = 0) -> String {
        String(decoding: self[start..<count], as: UTF8.self)
    }

    /// Whether the bytes from `start` to the end are `expected`'s UTF-8.
    func equals(_ expected: String, from start: Int) -> Bool {
        var expected = expected
        let bytes = self[start..<count]
        return expected.withUTF8 { bytes.elementsEqual($0) }
    }
}
