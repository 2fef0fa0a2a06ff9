public import SecurityModule

/// The journal records of one storage batch, stored as one row: a backend writes one block per
/// commit, not a row per transaction, so the journal costs the switch a few microseconds per
/// transaction instead of a B-tree insert per column index.
///
/// `records` holds the records one after another (identification masked: nothing in it needs
/// sealing); `sealedMessages` holds every request and answer the block keeps, concatenated and
/// sealed once with the data key. Queries read blocks and filter their records
/// (``SwitchStorage/journal(_:)``).
public struct JournalBlock: Sendable, Equatable {
    public var records: [UInt8]
    public var sealedMessages: [UInt8]
    public var count: Int
    /// The earliest and latest `started` of its records (Unix milliseconds), to select blocks by time.
    public var firstStarted: Int64
    public var lastStarted: Int64

    public init(records: [UInt8], sealedMessages: [UInt8], count: Int, firstStarted: Int64, lastStarted: Int64) {
        self.records = records
        self.sealedMessages = sealedMessages
        self.count = count
        self.firstStarted = firstStarted
        self.lastStarted = lastStarted
    }

    /// The first byte of ``records``: the layout the records are written in. Format 2 adds the
    /// business dates, the approval code and the processing code after each record's forward kind; format 1 is still read.
    static let format: UInt8 = 2

    /// Builds a block record by record.
    public struct Builder {
        private var writer = StoredBytesWriter()
        /// The messages' plaintext, sealed whole by ``finish(sealing:)``.
        private var messages: [UInt8] = []
        public private(set) var count = 0
        private var firstStarted = Int64.max
        private var lastStarted = Int64.min

        public init() {
            writer.bytes.append(JournalBlock.format)
        }

        public var isEmpty: Bool { count == 0 }

        /// Appends a record with the request and answer to keep sealed (nil: not kept).
        ///
        /// A record read back from a journal of the first schema carries its messages sealed one
        /// by one (``SealedMessages``); those are kept as they are.
        public mutating func append(_ record: JournalRecord, request: [UInt8]? = nil, answer: [UInt8]? = nil) {
            count += 1
            firstStarted = min(firstStarted, record.started)
            lastStarted = max(lastStarted, record.started)
            writer.text(record.id)
            writer.integer(record.started)
            writer.text(record.listener)
            writer.text(record.message)
            writer.text(record.stan)
            writer.text(record.rrn)
            writer.text(record.terminal)
            writer.text(record.merchant)
            writer.text(record.maskedPAN)
            writer.text(record.panHash)
            writer.integer(record.amount)
            writer.text(record.currency)
            writer.text(record.uetr)
            writer.text(record.endToEndId)
            writer.text(record.messageId)
            writer.text(record.rule)
            writer.text(record.channel)
            writer.text(record.channelsTried)
            writer.text(record.hostStan)
            writer.integer(Int64(record.result))
            writer.text(record.responseCode)
            writer.text(record.outcome)
            writer.integer(record.totalMicros)
            writer.integer(record.hostMicros)
            writer.text(record.forward)
            writer.text(record.businessDate)
            writer.text(record.forwardBusinessDate)
            writer.text(record.approvalCode)
            writer.text(record.processingCode)
            message(request, kept: record.messages?.request)
            message(answer, kept: record.messages?.answer)
        }

        /// A message: 0 none; 1 a range of the block's sealed messages; 2 sealed on its own.
        private mutating func message(_ plaintext: [UInt8]?, kept: SealedMessages.Part?) {
            if let plaintext {
                writer.bytes.append(1)
                writer.unsigned(UInt64(messages.count))
                writer.unsigned(UInt64(plaintext.count))
                messages.append(contentsOf: plaintext)
            } else if let kept, kept.range == nil {
                writer.bytes.append(2)
                writer.data(kept.sealed)
            } else {
                writer.bytes.append(0)
            }
        }

        /// The block, its messages sealed with the data key.
        public func finish(protection: DataProtection) throws(SecurityError) -> JournalBlock {
            try finish { plaintext throws(SecurityError) in try protection.seal(plaintext) }
        }

        /// The block, its messages sealed by `seal` (not called when it keeps none).
        public func finish<E: Error>(sealing seal: ([UInt8]) throws(E) -> [UInt8]) throws(E) -> JournalBlock {
            JournalBlock(records: writer.bytes, sealedMessages: messages.isEmpty ? [] : try seal(messages), count: count,
                         firstStarted: count == 0 ? 0 : firstStarted, lastStarted: count == 0 ? 0 : lastStarted)
        }
    }

    /// The block's records, in the order written; their messages refer to ``sealedMessages``.
    ///
    /// - Parameter name: The block as errors name it (`journal block 12`).
    public func decoded(name: String) throws(StorageError) -> [JournalRecord] {
        var reader = StoredBytesReader(records, what: name)
        let format = try reader.byte()
        guard format == 1 || format == JournalBlock.format else {
            throw StorageError(operation: "reading \(name)", reason: "its records are in a layout this payswitch does not know (a newer one?)")
        }
        var decoded: [JournalRecord] = []
        // The stored count is read, not trusted: a record takes at least 20 bytes.
        decoded.reserveCapacity(min(max(count, 0), records.count / 20))
        while !reader.isAtEnd {
            var record = JournalRecord(id: try reader.text(), started: try reader.integer(), listener: "", message: "", rule: "",
                                       channel: "", channelsTried: "", result: 0, outcome: "", totalMicros: 0)
            record.listener = try reader.text()
            record.message = try reader.text()
            record.stan = try reader.optionalText()
            record.rrn = try reader.optionalText()
            record.terminal = try reader.optionalText()
            record.merchant = try reader.optionalText()
            record.maskedPAN = try reader.optionalText()
            record.panHash = try reader.optionalText()
            record.amount = try reader.optionalInteger()
            record.currency = try reader.optionalText()
            record.uetr = try reader.optionalText()
            record.endToEndId = try reader.optionalText()
            record.messageId = try reader.optionalText()
            record.rule = try reader.text()
            record.channel = try reader.text()
            record.channelsTried = try reader.text()
            record.hostStan = try reader.optionalText()
            let result = try reader.integer()
            guard let narrow = Int(exactly: result), (0...9999).contains(narrow) else { throw reader.failure("result code \(result) is out of range") }
            record.result = narrow
            record.responseCode = try reader.optionalText()
            record.outcome = try reader.text()
            record.totalMicros = try reader.integer()
            record.hostMicros = try reader.optionalInteger()
            record.forward = try reader.text()
            if format >= 2 {
                record.businessDate = try reader.optionalText()
                record.forwardBusinessDate = try reader.optionalText()
                record.approvalCode = try reader.optionalText()
                record.processingCode = try reader.optionalText()
            }
            let request = try message(&reader)
            let answer = try message(&reader)
            if request != nil || answer != nil { record.messages = SealedMessages(request: request, answer: answer) }
            decoded.append(record)
        }
        return decoded
    }

    private func message(_ reader: inout StoredBytesReader) throws(StorageError) -> SealedMessages.Part? {
        switch try reader.byte() {
        case 0:
            return nil
        case 1:
            let start = try reader.unsigned()
            let count = try reader.unsigned()
            // Checked against the plaintext's size once opened (the tag and nonce take 28 bytes).
            guard start <= UInt64(Int.max / 2), count <= UInt64(Int.max / 2) else { throw reader.failure("a message range overflows") }
            return SealedMessages.Part(sealed: sealedMessages, range: Int(start)..<Int(start + count))
        case 2:
            return SealedMessages.Part(sealed: try reader.data(), range: nil)
        case let other:
            throw reader.failure("message kind \(other) is unknown")
        }
    }
}

/// Where a journal record's request and answer are kept: sealed with the data key, either in the
/// sealed messages of its block (a range of the opened bytes) or, for records from the first
/// journal schema, each sealed on its own.
public struct SealedMessages: Sendable, Equatable, Codable {
    public struct Part: Sendable, Equatable, Codable {
        public var sealed: [UInt8]
        /// The message's bytes within the opened `sealed`; nil when `sealed` is the message alone.
        public var range: Range<Int>?

        public init(sealed: [UInt8], range: Range<Int>?) {
            self.sealed = sealed
            self.range = range
        }
    }

    public var request: Part?
    public var answer: Part?

    public init(request: Part?, answer: Part?) {
        self.request = request
        self.answer = answer
    }
}
