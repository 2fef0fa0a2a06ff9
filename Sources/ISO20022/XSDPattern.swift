/// An XSD `pattern` facet over ASCII, matched on bytes: character classes with ranges and escapes,
/// literals, groups, and the quantifiers `{n}`, `{n,m}`, `{n,}`, `?`, `*`, `+`. That covers every
/// pattern of the ISO 20022 schemas here (BIC, IBAN, UETR, LEI, phone number …); anything else (a
/// negated class, `.`, a non-ASCII literal) is not read, and the caller falls back to `Regex`.
/// XSD patterns match the whole value, with no anchors.
struct XSDPattern: Sendable {
    /// A set of ASCII bytes, as two 64-bit masks.
    struct ByteSet: Sendable {
        var low: UInt64 = 0
        var high: UInt64 = 0

        mutating func insert(_ byte: UInt8) {
            if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
        }

        func contains(_ byte: UInt8) -> Bool {
            byte < 64 ? low & (1 << UInt64(byte)) != 0 : byte < 128 && high & (1 << UInt64(byte - 64)) != 0
        }
    }

    /// One set of bytes, or a group of pieces. A struct, not an indirect enum: the patterns live in
    /// the process-wide schema table, and LeakSanitizer does not see pointers an enum tags.
    struct Atom: Sendable {
        var bytes = ByteSet()
        var group: [Piece]? = nil
    }

    struct Piece: Sendable {
        var atom: Atom
        var min = 1
        var max = 1
    }

    let pieces: [Piece]

    init?(_ pattern: String) {
        var parser = Parser(bytes: Array(pattern.utf8))
        guard let pieces = parser.sequence(), parser.index == parser.bytes.count else { return nil }
        self.pieces = pieces
    }

    func matches(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { bytes in
            Matcher(bytes: bytes).sequence(pieces[...], 0) { $0 == bytes.count }
        }
    }

    /// Backtracking over the pieces, greedy, with the rest of the match as a continuation (the
    /// patterns are short: a few pieces, repetitions up to 35).
    private struct Matcher {
        let bytes: UnsafeBufferPointer<UInt8>

        func sequence(_ pieces: ArraySlice<Piece>, _ position: Int, _ next: (Int) -> Bool) -> Bool {
            guard let piece = pieces.first else { return next(position) }
            let rest = pieces.dropFirst()
            return repeated(piece, count: 0, position) { sequence(rest, $0, next) }
        }

        func repeated(_ piece: Piece, count: Int, _ position: Int, _ next: (Int) -> Bool) -> Bool {
            if piece.atom.group == nil {
                let set = piece.atom.bytes
                // A run of one set: measured once, then given back one byte at a time.
                var end = position
                let limit = piece.max == Int.max ? bytes.count : min(bytes.count, position + piece.max - count)
                while end < limit, set.contains(bytes[end]) { end += 1 }
                var taken = end
                while taken - position + count >= piece.min {
                    if next(taken) { return true }
                    if taken == position { break }
                    taken -= 1
                }
                return false
            }
            if count < piece.max,
               one(piece.atom, position, { after in after != position && repeated(piece, count: count + 1, after, next) }) {
                return true
            }
            return count >= piece.min && next(position)
        }

        func one(_ atom: Atom, _ position: Int, _ next: (Int) -> Bool) -> Bool {
            if let pieces = atom.group { return sequence(pieces[...], position, next) }
            return position < bytes.count && atom.bytes.contains(bytes[position]) && next(position + 1)
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        mutating func sequence() -> [Piece]? {
            var pieces: [Piece] = []
            while index < bytes.count, bytes[index] != UInt8(ascii: ")") {
                guard var piece = atom().map({ Piece(atom: $0) }), quantifier(&piece) else { return nil }
                pieces.append(piece)
            }
            return pieces
        }

        mutating func atom() -> Atom? {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "["):
                var set = ByteSet()
                guard index < bytes.count, bytes[index] != UInt8(ascii: "^") else { return nil }
                while index < bytes.count, bytes[index] != UInt8(ascii: "]") {
                    guard let low = literal() else { return nil }
                    if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "-"), bytes[index + 1] != UInt8(ascii: "]") {
                        index += 1
                        guard let high = literal(), low <= high else { return nil }
                        for member in low...high { set.insert(member) }
                    } else {
                        set.insert(low)
                    }
                }
                guard index < bytes.count else { return nil }
                index += 1
                return Atom(bytes: set)
            case UInt8(ascii: "("):
                guard let pieces = sequence(), index < bytes.count else { return nil }
                index += 1
                return Atom(group: pieces)
            case UInt8(ascii: "."), UInt8(ascii: "|"), UInt8(ascii: "{"), UInt8(ascii: "?"), UInt8(ascii: "*"), UInt8(ascii: "+"):
                return nil
            default:
                index -= 1
                guard let byte = literal() else { return nil }
                var set = ByteSet()
                set.insert(byte)
                return Atom(bytes: set)
            }
        }

        /// One ASCII character, or an escaped one (`\-`, `\+`, `\(` …; not the class escapes `\d`, `\s` …).
        mutating func literal() -> UInt8? {
            guard index < bytes.count else { return nil }
            var byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\\") {
                guard index < bytes.count else { return nil }
                byte = bytes[index]
                index += 1
                guard !(byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) else { return nil }
            }
            return byte < 128 ? byte : nil
        }

        mutating func quantifier(_ piece: inout Piece) -> Bool {
            guard index < bytes.count else { return true }
            switch bytes[index] {
            case UInt8(ascii: "?"): (piece.min, piece.max) = (0, 1)
            case UInt8(ascii: "*"): (piece.min, piece.max) = (0, Int.max)
            case UInt8(ascii: "+"): (piece.min, piece.max) = (1, Int.max)
            case UInt8(ascii: "{"):
                index += 1
                guard let low = number() else { return false }
                var high = low
                if index < bytes.count, bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    high = number() ?? Int.max
                }
                guard index < bytes.count, bytes[index] == UInt8(ascii: "}"), low <= high else { return false }
                (piece.min, piece.max) = (low, high)
            default: return true
            }
            index += 1
            return true
        }

        mutating func number() -> Int? {
            var value: Int?
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9"), (value ?? 0) < 100_000 {
                value = (value ?? 0) * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            return value
        }
    }
}
