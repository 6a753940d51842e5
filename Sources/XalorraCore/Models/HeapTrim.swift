#if canImport(Glibc)
import Glibc
#endif
import XalorraML

/// Gives freed heap memory back to the system after a large model is dropped (deleted, evicted, or parsed and
/// stored). glibc keeps what a process freed in its arenas for reuse, so without this a server that once imported a
/// 50 MB model keeps the gigabyte its parse touched for as long as it runs.
enum HeapTrim {
    /// Models smaller than this (in tree nodes or weights) are not worth a trim.
    static let threshold = 100_000

    /// glibc's `malloc_trim`, which Swift's Glibc module does not import; `nil` on other C libraries.
    private static let trim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()

    /// Returns the free memory of every arena to the system when `size` (nodes or weights just dropped) is large.
    static func release(after size: Int) {
        guard size >= threshold, let trim else { return }
        _ = trim(0)
    }
}

extension TrainedModel {
    /// Tree nodes, all trees together, or weights for a linear model: what a model's memory grows with.
    var size: Int {
        switch self {
        case .linear(let model): model.weights.count
        case .trees(let ensemble): ensemble.trees.reduce(0) { $0 + $1.nodeCount }
        }
    }
}
