public import SpecFiles
import PaymentModel

extension Reconciler {
    /// Takes one line of the host's file, without its line break (a trailing carriage return is
    /// dropped). Lines are counted for `skip-lines` and the header; blank lines are skipped.
    ///
    /// - Parameters:
    ///   - line: The line's bytes; not kept after the call.
    ///   - number: The line's number in the file, from 1, for errors and reports.
    ///   - file: The file's name, for errors.
    public mutating func consume(line: UnsafeRawBufferPointer, number: Int, file: String) throws(ReconciliationError) {
        if let businessDateFault { throw ReconciliationError(file: file, line: 0, column: 0, message: businessDateFault) }
        linesSeen += 1
        guard linesSeen > layout.skipLines else { return }
        var line = line
        if line.count > 0 && line[line.count - 1] == 0x0D { line = UnsafeRawBufferPointer(rebasing: line[..<(line.count - 1)]) }
        // A byte-order mark some spreadsheet programs write before the first line.
        if linesSeen == layout.skipLines + 1, line.count >= 3, line[0] == 0xEF, line[1] == 0xBB, line[2] == 0xBF {
            line = UnsafeRawBufferPointer(rebasing: line[3...])
        }
        if layout.header && !headerSeen {
            headerSeen = true
            if let fault = readHeader(line) { throw ReconciliationError(file: file, line: number, column: fault.column, message: fault.message) }
            return
        }
        guard line.contains(where: { $0 != UInt8(ascii: " ") }) else { return }
        if let fault = readRow(line, number: number) {
            throw ReconciliationError(file: file, line: number, column: fault.column, message: fault.message)
        }
    }

    /// Finds the columns the layout names in the header line.
    private mutating func readHeader(_ line: UnsafeRawBufferPointer) -> RowFault? {
        guard layout.format == .csv, plan.needsHeader else { return nil }
        // Split every field: the names may sit anywhere.
        var names: [String: Int] = [:]
        var fault: RowFault?
        var count = 0
        let capacity = line.count + 1
        withUnsafeTemporaryAllocation(of: Span.self, capacity: capacity) { spans in
            fault = Self.splitCSV(line, delimiter: layout.delimiter, lastColumn: capacity - 1, into: spans, count: &count)
            for column in 0..<count where names[Self.text(line, spans[column])] == nil {
                names[Self.text(line, spans[column])] = column
            }
        }
        if let fault { return fault }
        for (slot, column) in plan.columns.enumerated() {
            guard case .named(let name) = column else { continue }
            guard let position = names[name] else {
                return RowFault(column: 1, message: "the header has no column '\(name)' (for \(plan.labels[slot]))")
            }
            plan.columnIndex[slot] = position
        }
        plan.lastColumn = plan.columnIndex.max() ?? 0
        return nil
    }

    /// A field's text, unescaped: for the header only, off the per-row path.
    private static func text(_ line: UnsafeRawBufferPointer, _ span: Span) -> String {
        let bytes = UnsafeRawBufferPointer(rebasing: line[span.start..<span.end])
        return String(decoding: span.escaped ? unescape(bytes) : Array(bytes), as: UTF8.self)
    }

    /// `""` as `"`.
    static func unescape(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var quote = false
        for byte in bytes {
            if byte == UInt8(ascii: "\"") && quote {
                quote = false
                continue
            }
            quote = byte == UInt8(ascii: "\"")
            result.append(byte)
        }
        return result
    }

    /// Splits fields 0...`lastColumn` of a CSV line into `spans` (RFC 4180 quoting, no line breaks
    /// inside quotes); `count` is how many fields the line has, up to `lastColumn` + 1.
    @inline(__always)
    static func splitCSV(
        _ line: UnsafeRawBufferPointer, delimiter: UInt8, lastColumn: Int, into spans: UnsafeMutableBufferPointer<Span>,
        count: inout Int
    ) -> RowFault? {
        let quote = UInt8(ascii: "\""), space = UInt8(ascii: " ")
        let end = line.count
        var position = 0
        var field = 0
        while true {
            let fieldStart = position
            if position < end && line[position] == quote {
                position += 1
                let contentStart = position
                var escaped = false
                while true {
                    guard position < end else {
                        return RowFault(column: fieldStart + 1, message: "field \(field + 1) opens a quote that the line does not close")
                    }
                    if line[position] == quote {
                        if position + 1 < end && line[position + 1] == quote {
                            escaped = true
                            position += 2
                            continue
                        }
                        break
                    }
                    position += 1
                }
                let contentEnd = position
                position += 1
                while position < end && line[position] == space { position += 1 }
                guard position == end || line[position] == delimiter else {
                    return RowFault(column: position + 1, message: "field \(field + 1) has text after its closing quote")
                }
                spans[field] = Span(start: contentStart, end: contentEnd, column: fieldStart + 1, escaped: escaped)
            } else {
                while position < end && line[position] != delimiter { position += 1 }
                var start = fieldStart, stop = position
                while start < stop && line[start] == space { start += 1 }
                while stop > start && line[stop - 1] == space { stop -= 1 }
                spans[field] = Span(start: start, end: stop, column: fieldStart + 1, escaped: false)
            }
            field += 1
            if field > lastColumn || position >= end {
                count = field
                return nil
            }
            position += 1  // the delimiter
        }
    }

    /// Reads one data row and counts it against its key.
    private mutating func readRow(_ line: UnsafeRawBufferPointer, number: Int) -> RowFault? {
        // A layout changed after loading may name columns this format cannot find: refuse, never read past a buffer.
        if layout.format == .csv, let slot = plan.columnIndex.firstIndex(where: { $0 < 0 }) {
            return RowFault(column: 0, message: "the layout's \(plan.labels[slot]) (\(plan.columns[slot])) is no column of this file")
        }
        return withUnsafeTemporaryAllocation(of: Span.self, capacity: plan.slotCount) { slots -> RowFault? in
            switch layout.format {
            case .csv:
                let capacity = plan.lastColumn + 1
                let fault = withUnsafeTemporaryAllocation(of: Span.self, capacity: capacity) { fields -> RowFault? in
                    var count = 0
                    if let fault = Self.splitCSV(line, delimiter: layout.delimiter, lastColumn: plan.lastColumn, into: fields, count: &count) {
                        return fault
                    }
                    for slot in 0..<plan.slotCount {
                        let column = plan.columnIndex[slot]
                        guard column < count else {
                            return RowFault(
                                column: line.count + 1,
                                message: "the row has \(count) field\(count == 1 ? "" : "s"); \(plan.labels[slot]) is field \(column + 1)")
                        }
                        slots[slot] = fields[column]
                    }
                    return nil
                }
                if let fault { return fault }
            case .fixed:
                for slot in 0..<plan.slotCount {
                    guard case .span(let start, let length) = plan.columns[slot] else {
                        return RowFault(column: 0, message: "the layout's \(plan.labels[slot]) (\(plan.columns[slot])) is no fixed-width column")
                    }
                    guard start <= line.count else {
                        return RowFault(
                            column: line.count + 1, message: "the line has \(line.count) bytes; \(plan.labels[slot]) starts at byte \(start)")
                    }
                    var first = start - 1, stop = min(start - 1 + length, line.count)
                    while first < stop && line[first] == UInt8(ascii: " ") { first += 1 }
                    while stop > first && line[stop - 1] == UInt8(ascii: " ") { stop -= 1 }
                    slots[slot] = Span(start: first, end: stop, column: start, escaped: false)
                }
            }
            guard slots.contains(where: \.escaped) else { return count(line, slots, number: number) }
            // Rare: quoted values holding "". Copy the unescaped values out and read those.
            var copy: [UInt8] = []
            for slot in 0..<plan.slotCount {
                let bytes = UnsafeRawBufferPointer(rebasing: line[slots[slot].start..<slots[slot].end])
                let value = slots[slot].escaped ? Self.unescape(bytes) : Array(bytes)
                slots[slot].start = copy.count
                copy += value
                slots[slot].end = copy.count
            }
            return copy.withUnsafeBytes { count($0, slots, number: number) }
        }
    }

    /// Checks a row's values and counts it against its key.
    private mutating func count(_ line: UnsafeRawBufferPointer, _ slots: UnsafeMutableBufferPointer<Span>, number: Int) -> RowFault? {
        rowsRead += 1
        func bytes(_ slot: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: line[slots[slot].start..<slots[slot].end]) }

        if plan.dateSlot >= 0 {
            let value = bytes(plan.dateSlot)
            guard let date = RowPlan.parseDate(value, layout.dateFormat) else {
                return RowFault(
                    column: slots[plan.dateSlot].column,
                    message: "\(RowFault.shown("business-date", value)) is not a date in the form \(layout.dateFormat.rawValue)")
            }
            if let businessDate, date != businessDate {
                rowsOfOtherDates += 1
                return nil
            }
        }

        let record = bytes(plan.recordSlot)
        let isReversal: Bool
        if plan.approvals.contains(where: { $0.elementsEqual(record) }) {
            isReversal = false
        } else if plan.reversals.contains(where: { $0.elementsEqual(record) }) {
            isReversal = true
        } else {
            let known = (layout.approvalValues + layout.reversalValues).map { "'\($0)'" }.joined(separator: ", ")
            return RowFault(column: slots[plan.recordSlot].column, message: "\(RowFault.shown("record", record)) is not one of \(known)")
        }

        let currencyBytes = bytes(plan.currencySlot)
        guard let currency = currency(currencyBytes) else {
            return RowFault(column: slots[plan.currencySlot].column, message: "\(RowFault.shown("currency", currencyBytes)) is not an ISO 4217 code")
        }

        let amountBytes = bytes(plan.amountSlot)
        let amount: Int64
        switch Self.amount(amountBytes, format: layout.amountFormat, scale: currency.minorUnits) {
        case .success(let value): amount = value
        case .failure(let reason):
            return RowFault(column: slots[plan.amountSlot].column, message: "\(RowFault.shown("amount", amountBytes)) \(reason.text)")
        }

        // The key: the key fields joined by 0x1F, on the stack.
        var length = plan.keyCount - 1
        for slot in 0..<plan.keyCount { length += slots[slot].count }
        withUnsafeTemporaryAllocation(byteCount: max(length, 1), alignment: 1) { buffer in
            var offset = 0
            for slot in 0..<plan.keyCount {
                if slot > 0 {
                    buffer[offset] = Self.keySeparator
                    offset += 1
                }
                let value = bytes(slot)
                if value.count > 0 { (buffer.baseAddress! + offset).copyMemory(from: value.baseAddress!, byteCount: value.count) }
                offset += value.count
            }
            let key = UnsafeRawBufferPointer(rebasing: buffer[..<length])
            if let entry = index.find(key) {
                tallies[entry].count(isReversal: isReversal, amount: amount, currency: currency.numeric, line: number)
            } else {
                hostOnly[String(decoding: key, as: UTF8.self), default: Tally()]
                    .count(isReversal: isReversal, amount: amount, currency: currency.numeric, line: number)
            }
        }
        return nil
    }

    /// A currency code, numeric or alphabetic, as its numeric value and minor units.
    private mutating func currency(_ bytes: UnsafeRawBufferPointer) -> (numeric: Int, minorUnits: Int)? {
        guard bytes.count == 3 else { return nil }
        if bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            let known = bytes.withMemoryRebound(to: UInt8.self) { Currency(numericDigits: $0) }
            guard let known else { return nil }
            let value = bytes.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            return (value, known.minorUnits)
        }
        let packed = UInt32(bytes[0]) << 16 | UInt32(bytes[1]) << 8 | UInt32(bytes[2])
        if let cached = alphabeticCurrencies[packed] { return cached }
        // Met once per code per file: the string is built only then.
        guard bytes.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }),
              let known = Currency(String(decoding: bytes, as: UTF8.self)), let value = Int(known.numeric) else { return nil }
        alphabeticCurrencies[packed] = (value, known.minorUnits)
        return (value, known.minorUnits)
    }

    enum AmountFault: Error {
        case empty, notMinor, notDecimal, tooManyDecimals(Int), tooLarge

        var text: String {
            switch self {
            case .empty: "is empty"
            case .notMinor: "is not a whole number of minor units"
            case .notDecimal: "is not a plain decimal such as 12.50"
            case .tooManyDecimals(let scale): "has more than the currency's \(scale) decimals"
            case .tooLarge: "exceeds \(Int64.max) minor units"
            }
        }
    }

    /// An amount in minor units, every step overflow-checked. Decimal amounts are scaled by the
    /// currency's minor units; zeros past the scale are accepted (`1.500` for USD).
    static func amount(_ bytes: UnsafeRawBufferPointer, format: ClearingLayout.AmountFormat, scale: Int) -> Result<Int64, AmountFault> {
        guard bytes.count > 0 else { return .failure(.empty) }
        var value: Int64 = 0
        var fractionDigits = -1  // -1 until the point
        var overflow = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") && format == .decimal && fractionDigits < 0 {
                fractionDigits = 0
                continue
            }
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return .failure(format == .minor ? .notMinor : .notDecimal) }
            if fractionDigits >= 0 {
                fractionDigits += 1
                if fractionDigits > scale {
                    guard byte == UInt8(ascii: "0") else { return .failure(.tooManyDecimals(scale)) }
                    continue
                }
            }
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = shifted.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            overflow = overflow || o1 || o2
            value = sum
        }
        if format == .decimal {
            // "12." and "." are not amounts; ".5" is taken as 0.5.
            guard fractionDigits != 0 else { return .failure(.notDecimal) }
            for _ in min(max(fractionDigits, 0), scale)..<scale {
                let (shifted, o) = value.multipliedReportingOverflow(by: 10)
                overflow = overflow || o
                value = shifted
            }
        }
        return overflow ? .failure(.tooLarge) : .success(value)
    }
}
