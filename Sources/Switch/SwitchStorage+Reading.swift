public import SecurityModule

extension SwitchStorage {
    /// Journal records matching a query, oldest first (by when they started, then as written), at
    /// most `query.limit`; with the state of the forward item each left.
    ///
    /// Blocks are read in the order of their earliest record, and reading stops once no later
    /// block can hold a record older than those kept.
    public func journal(_ query: JournalQuery) throws(StorageError) -> [JournalRecord] {
        guard query.limit > 0 else { return [] }
        var kept: [(record: JournalRecord, order: Int)] = []
        var order = 0
        func trim() {
            kept.sort { ($0.record.started, $0.order) < ($1.record.started, $1.order) }
            if kept.count > query.limit { kept.removeLast(kept.count - query.limit) }
        }
        try journalBlocks(JournalBlockSelection(since: query.since, until: query.until)) { stored throws(StorageError) in
            if kept.count >= query.limit, let last = kept.last, stored.block.firstStarted > last.record.started { return false }
            for record in try stored.block.decoded(name: "journal block \(stored.sequence)") where query.matches(record) {
                kept.append((record, order))
                order += 1
            }
            if kept.count / 2 >= query.limit { trim() }
            return true
        }
        trim()
        var records = kept.map(\.record)
        let forwarded = records.filter { $0.forward != "none" }.map(\.id)
        if !forwarded.isEmpty {
            let states = try forwardStates(of: forwarded)
            for index in records.indices {
                guard let state = states[records[index].id] else { continue }
                records[index].forwardState = state.state
                records[index].forwardResult = state.responseCode
            }
        }
        return records
    }

    /// Calls `body` with every journal record a query selects, block by block as written, without
    /// the forward states and without a limit: what a day-end job reads, never holding more than a
    /// block's records.
    public func forEachJournalRecord(_ query: JournalQuery, _ body: (JournalRecord) -> Void) throws(StorageError) {
        try journalBlocks(JournalBlockSelection(since: query.since, until: query.until)) { stored throws(StorageError) in
            for record in try stored.block.decoded(name: "journal block \(stored.sequence)") where query.matches(record) { body(record) }
            return true
        }
    }

    /// Journal counts by channel, outcome and response code, in that order.
    public func journalStats(_ query: JournalQuery) throws(StorageError) -> [JournalCount] {
        var counts: [JournalCountKey: Int] = [:]
        try forEachJournalRecord(query) { record in
            counts[JournalCountKey(channel: record.channel, outcome: record.outcome, responseCode: record.responseCode), default: 0] += 1
        }
        return counts.sorted { ($0.key.channel, $0.key.outcome, $0.key.responseCode ?? "") < ($1.key.channel, $1.key.outcome, $1.key.responseCode ?? "") }
            .map { JournalCount(channel: $0.key.channel, outcome: $0.key.outcome, responseCode: $0.key.responseCode, count: $0.value) }
    }

    /// The claims a previous run left unsettled (no journal record for their transaction), oldest
    /// first, and every claim block read: once the open claims are dealt with, they can all go.
    /// `only`: those of these blocks (a dead node's, adopted), not every block of the store's.
    public func openClaims(protection: DataProtection, only: Set<Int64>? = nil) throws -> (claims: [Claim], blocks: [Int64]) {
        let blocks = try claimBlocks().filter { block in only?.contains(block.id) ?? true }
        guard let mark = blocks.map(\.journalMark).min() else { return ([], []) }
        var claims: [Claim] = []
        for block in blocks { claims += try ClaimBlock.decoded(block, protection: protection) }
        var settled = Set<String>()
        try journalBlocks(JournalBlockSelection(after: mark)) { stored throws(StorageError) in
            for record in try stored.block.decoded(name: "journal block \(stored.sequence)") { settled.insert(record.id) }
            return true
        }
        let open = claims.filter { !settled.contains($0.transaction) }.sorted { ($0.created, $0.transaction) < ($1.created, $1.transaction) }
        return (open, blocks.map(\.id))
    }
}

extension JournalQuery {
    /// Whether a record is one the query selects.
    public func matches(_ record: JournalRecord) -> Bool {
        func equal(_ wanted: String?, _ value: String?) -> Bool { wanted == nil || wanted == value }
        func sameCard(_ wanted: String?, _ recorded: String?) -> Bool {
            guard let wanted else { return true }
            return recorded.map { LookupHasher.matches(wanted, $0) } ?? false
        }
        return equal(stan, record.stan) && equal(rrn, record.rrn) && equal(terminal, record.terminal)
            && equal(maskedPAN, record.maskedPAN) && sameCard(panHash, record.panHash) && equal(uetr, record.uetr)
            && equal(endToEndId, record.endToEndId) && equal(outcome, record.outcome) && equal(channel, record.channel)
            && equal(businessDate, record.businessDate)
            && (since.map { record.started >= $0 } ?? true) && (until.map { record.started < $0 } ?? true)
    }
}

/// What ``SwitchStorage/journalStats(_:)`` counts by.
private struct JournalCountKey: Hashable {
    let channel: String, outcome: String, responseCode: String?
}
