import Synchronization
import XalorraML

/// Explainers of model versions with their trees' tables built (``ModelExplainer/prepared()``), shared by every
/// request of the process, so that a server explaining batches of one model builds its tables once instead of for
/// every request of ``TreeSHAP/tableRows`` rows or more (about 5 ms on 100 trees of depth 6). The values are those
/// of an unprepared explainer, bit for bit (``TreeSHAP/prepared()``): offline and over HTTP agree.
///
/// A version is prepared by the first call of ``TreeSHAP/tableRows`` rows or more (which would build the tables
/// anyway); smaller calls use a kept explainer when there is one, else an unprepared one. The key holds the version's
/// creation time, so a version deleted and created again is never explained with the old one's tables. At most
/// ``maxValues`` table values (32 MiB) and ``maxEntries`` versions are kept, the least recently used dropped first;
/// an explainer larger than that on its own serves its call and is not kept.
final class ExplainerCache: Sendable {
    /// The most table values kept, all versions together (8 bytes each).
    static let maxValues = 1 << 22
    /// The most versions kept.
    static let maxEntries = 32

    private struct State {
        var kept: [String: (explainer: ModelExplainer, used: UInt64)] = [:]
        var values = 0
        var clock: UInt64 = 0
    }

    private let state = Mutex(State())

    private static func key(_ version: ModelVersion) -> String {
        "\(version.tenant)\u{0}\(version.name)@\(version.version)\u{0}\(version.createdAt.microseconds)"
    }

    /// The explainer for `version`, to explain `rows` rows: the kept one, else `make()`'s, prepared and kept when
    /// `rows` is enough for tables.
    func explainer(
        for version: ModelVersion, rows: Int, make: () throws(ExplanationError) -> ModelExplainer
    ) throws(ExplanationError) -> ModelExplainer {
        let key = Self.key(version)
        let kept = state.withLock { state -> ModelExplainer? in
            state.clock += 1
            guard let entry = state.kept[key] else { return nil }
            state.kept[key] = (entry.explainer, state.clock)
            return entry.explainer
        }
        if let kept { return kept }
        let explainer = try make()
        guard rows >= TreeSHAP.tableRows else { return explainer }
        let prepared = explainer.prepared()
        keep(prepared, as: key)
        return prepared
    }

    /// How many versions are kept and their table values, for tests.
    var usage: (versions: Int, values: Int) { state.withLock { ($0.kept.count, $0.values) } }

    /// Keeps `explainer` under `key`, dropping the least recently used others while over the bounds.
    private func keep(_ explainer: ModelExplainer, as key: String) {
        let values = explainer.preparedValues
        guard values > 0, values <= Self.maxValues else { return }
        let dropped = state.withLock { state in
            if let old = state.kept.updateValue((explainer, state.clock), forKey: key) {
                state.values -= old.explainer.preparedValues
            }
            state.values += values
            var dropped = 0
            while state.values > Self.maxValues || state.kept.count > Self.maxEntries,
                let oldest = state.kept.filter({ $0.key != key }).min(by: { $0.value.used < $1.value.used })
            {
                state.kept.removeValue(forKey: oldest.key)
                state.values -= oldest.value.explainer.preparedValues
                dropped += oldest.value.explainer.preparedValues
            }
            return dropped
        }
        HeapTrim.release(after: dropped)
    }
}
