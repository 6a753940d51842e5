import Synchronization
import XalorraML

/// Explainers of model versions, shared by every request of the process, so that a server explaining one model
/// again and again neither prepares the model for TreeSHAP on every request (copying its trees, their expected
/// values) nor builds its tables for every request of ``TreeSHAP/tableRows`` rows or more (about 5 ms and more on
/// 100 trees of depth 6). The values are those of a fresh explainer, bit for bit (``TreeSHAP/prepared()``): offline
/// and over HTTP agree.
///
/// A version's explainer is kept from its first explanation, and prepared with its tables (``ModelExplainer/prepared()``)
/// by its first call of ``TreeSHAP/tableRows`` rows or more, which would build the tables anyway. The key holds the
/// version's creation time, so a version deleted and created again is never explained with the old one's trees. At
/// most ``maxWords`` 8-byte words (32 MiB of trees and tables) and ``maxEntries`` versions are kept, the least
/// recently used dropped first; an explainer larger than that on its own serves its call and is not kept. A model
/// deleted by this process takes its explainers with it, and all go when the store's notifications were missed
/// (``StoreChange/resync``).
final class ExplainerCache: Sendable {
    /// The most memory kept, all versions together, in 8-byte words (``ModelExplainer/footprint``).
    static let maxWords = 1 << 22
    /// The most versions kept.
    static let maxEntries = 32

    private struct State {
        /// Each kept explainer with its last use and its ``ModelExplainer/footprint``.
        var kept: [String: (explainer: ModelExplainer, used: UInt64, words: Int)] = [:]
        var words = 0
        var clock: UInt64 = 0
        /// Counts ``forget(tenant:name:)`` and ``clear()``: an explainer made from a lookup before one of them is not
        /// kept after it (it may be of a version just deleted).
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())

    private static func key(_ version: ModelVersion) -> String {
        "\(version.tenant)\u{0}\(version.name)@\(version.version)\u{0}\(version.createdAt.microseconds)"
    }

    /// The explainer for `version`, to explain `rows` rows: the kept one (prepared first when `rows` is enough for
    /// tables and it is not yet), else `make()`'s, kept.
    func explainer(
        for version: ModelVersion, rows: Int, make: () throws(ExplanationError) -> ModelExplainer
    ) throws(ExplanationError) -> ModelExplainer {
        let key = Self.key(version)
        let tabling = rows >= TreeSHAP.tableRows
        let (kept, generation) = state.withLock { state -> (ModelExplainer?, UInt64) in
            state.clock += 1
            guard let entry = state.kept[key] else { return (nil, state.generation) }
            state.kept[key]?.used = state.clock
            return (entry.explainer, state.generation)
        }
        if let kept, kept.isPrepared || !tabling { return kept }
        let explainer: ModelExplainer
        if let kept { explainer = kept } else { explainer = try make() }
        let ready = tabling ? explainer.prepared() : explainer
        keep(ready, as: key, madeIn: generation)
        return ready
    }

    /// Drops the explainers of every version of `name` in `tenant`: the model was deleted, or some of its versions.
    func forget(tenant: String, name: String) {
        let prefix = "\(tenant)\u{0}\(name)@"
        let dropped = state.withLock { state in
            state.generation += 1
            var dropped = 0
            for (key, entry) in state.kept where key.hasPrefix(prefix) {
                state.kept.removeValue(forKey: key)
                state.words -= entry.words
                dropped += entry.words
            }
            return dropped
        }
        HeapTrim.release(after: dropped)
    }

    /// Drops every explainer: another process changed models, and which versions it deleted is not known here.
    func clear() {
        let dropped = state.withLock { state in
            defer { state = State(generation: state.generation + 1) }
            return state.words
        }
        HeapTrim.release(after: dropped)
    }

    /// How many versions are kept, and how many of them are prepared, for tests.
    var usage: (versions: Int, prepared: Int, words: Int) {
        state.withLock { state in
            (state.kept.count, state.kept.values.filter(\.explainer.isPrepared).count, state.words)
        }
    }

    /// Keeps `explainer` under `key`, dropping the least recently used others while over the bounds; not when a
    /// ``forget(tenant:name:)`` or ``clear()`` came after its lookup (`generation`).
    private func keep(_ explainer: ModelExplainer, as key: String, madeIn generation: UInt64) {
        let words = explainer.footprint
        guard words <= Self.maxWords else { return }
        let dropped = state.withLock { state in
            guard state.generation == generation else { return 0 }
            if let old = state.kept.updateValue((explainer, state.clock, words), forKey: key) { state.words -= old.words }
            state.words += words
            var dropped = 0
            while state.words > Self.maxWords || state.kept.count > Self.maxEntries,
                let oldest = state.kept.filter({ $0.key != key }).min(by: { $0.value.used < $1.value.used })
            {
                state.kept.removeValue(forKey: oldest.key)
                state.words -= oldest.value.words
                dropped += oldest.value.words
            }
            return dropped
        }
        HeapTrim.release(after: dropped)
    }
}
