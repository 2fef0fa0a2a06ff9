import PostgresNIO

extension ClusterStore {
    /// The largest STAN (DE 11 is six digits; 000000 is not used).
    public static let largestStan = 999_999

    /// Takes the next block of up to `size` STANs for `host`'s links: blocks handed to the nodes
    /// never overlap until the numbers wrap (at 999999 the block ends short and the next starts
    /// at 1). A node keeps its block in memory; a gap left by a node that stopped is allowed.
    public func stanBlock(host: String, size: Int = 1_000) throws(ClusterStoreError) -> ClosedRange<Int> {
        try transaction("take a STAN block for host \(host)") { () throws(ClusterStoreError) -> ClosedRange<Int> in
            let purpose = "take a STAN block for host \(host)"
            guard (1...ClusterStore.largestStan).contains(size) else {
                throw ClusterStoreError(purpose: purpose, reason: "a block holds 1 to \(ClusterStore.largestStan) numbers, not \(size)")
            }
            try rows("INSERT INTO stan_block (host, next) VALUES (\(host), 1) ON CONFLICT (host) DO NOTHING", purpose)
            // The row lock of the UPDATE orders concurrent takers; the old value is the block's start.
            let taken = try rows("""
                UPDATE stan_block SET next = CASE WHEN stan_block.next + \(size) > \(ClusterStore.largestStan) THEN 1 ELSE stan_block.next + \(size) END
                FROM (SELECT host, next FROM stan_block WHERE host = \(host) FOR UPDATE) AS old
                WHERE stan_block.host = old.host
                RETURNING old.next
                """, purpose)
            guard let row = taken.first else { throw ClusterStoreError(purpose: purpose, reason: "the database returned no block") }
            let start = Int(try decode(row, as: Int32.self, purpose))
            return start...min(start + size - 1, ClusterStore.largestStan)
        }
    }
}
