import PostgresNIO
import XalorraCore

/// Rate-limit counters in PostgreSQL (table `rate_limit_counters`, UNLOGGED: counters are worth a crash's loss, not
/// a WAL write per request), shared by every instance on the database: one upsert adds to every counter given.
struct PostgresRateLimitCounters: RateLimitCounterRepository {
    let database: PostgresDatabase

    func add(_ deltas: [RateLimitDelta]) async throws(XalorraError) -> [Int64] {
        guard !deltas.isEmpty else { return [] }
        // One row per counter (an upsert may not touch a row twice), in key order (two instances' upserts lock
        // their rows in the same order, so they cannot deadlock).
        var merged: [RateLimitDelta] = []
        for delta in deltas.sorted(by: { ($0.slot, $0.windowStart) < ($1.slot, $1.windowStart) }) {
            if let last = merged.last, last.slot == delta.slot, last.windowStart == delta.windowStart {
                merged[merged.count - 1].count += delta.count
            } else {
                merged.append(delta)
            }
        }
        let slots = merged.map(\.slot), starts = merged.map(\.windowStart)
        let ends = merged.map(\.windowEnd), counts = merged.map(\.count)
        let query: PostgresQuery = """
            INSERT INTO rate_limit_counters AS c (slot, window_start, window_end, count)
            SELECT * FROM unnest(\(slots)::text[], \(starts)::bigint[], \(ends)::bigint[], \(counts)::bigint[])
            ON CONFLICT (slot, window_start) DO UPDATE SET count = c.count + excluded.count
            RETURNING slot, window_start, count
            """
        var totals: [String: Int64] = [:]
        for row in try await database.rows(query) {
            do {
                let (slot, start, count) = try row.decode((String, Int64, Int64).self)
                totals["\(start) \(slot)"] = count
            } catch {
                throw XalorraError(.internal, "store: a rate-limit counter cannot be read")
            }
        }
        return deltas.map { totals["\($0.windowStart) \($0.slot)"] ?? $0.count }
    }

    func sweep(now: Int64) async throws(XalorraError) -> Int {
        let rows = try await database.rows(
            "WITH gone AS (DELETE FROM rate_limit_counters WHERE window_end < \(now) RETURNING 1) SELECT count(*) FROM gone")
        let count = (try? rows.first?.decode(Int64.self)) ?? 0
        return Int(count)
    }
}
