/// The most a model may hold (`XALORRA_MAX_MODEL_TREES`, `XALORRA_MAX_MODEL_NODES`). Readers count as they go and stop
/// at the first tree past a limit, so a hostile file costs what the limits allow, not what it claims.
public struct ModelLimits: Sendable, Equatable {
    /// The most trees.
    public var trees: Int
    /// The most tree nodes, all trees together.
    public var nodes: Int

    /// Limits of `trees` and `nodes`.
    public init(trees: Int, nodes: Int) {
        self.trees = trees
        self.nodes = nodes
    }

    /// The deployment's limits.
    public init(_ settings: Settings) {
        self.init(trees: settings.maxModelTrees, nodes: settings.maxModelNodes)
    }

    /// The most features a model may read: an XGBoost `num_feature` or a stored `feature_count` beyond it is refused.
    public static let maxFeatures = 1_000_000

    /// The settings' defaults.
    public static let defaults = ModelLimits(trees: 50_000, nodes: 5_000_000)

    /// No limit: for the store's own documents, which were checked when they were stored.
    static let unlimited = ModelLimits(trees: .max, nodes: .max)

    /// The refusal for a model with more than ``trees`` trees.
    var tooManyTrees: ModelFormatError {
        ModelFormatError("the model has more than \(trees) trees, the most this server accepts (XALORRA_MAX_MODEL_TREES)")
    }

    /// The refusal for a model with more than ``nodes`` nodes.
    var tooManyNodes: ModelFormatError {
        ModelFormatError(
            "the model has more than \(nodes) tree nodes, the most this server accepts (XALORRA_MAX_MODEL_NODES)")
    }
}

/// What a reader has used of its ``ModelLimits`` so far.
struct ModelBudget {
    let limits: ModelLimits
    private(set) var trees = 0
    private(set) var nodes = 0

    init(_ limits: ModelLimits) { self.limits = limits }

    /// How many more nodes one array of a tree may have.
    var nodesLeft: Int { limits.nodes - nodes }

    /// Counts one more tree of `count` nodes, refusing it past either limit.
    mutating func add(treeOf count: Int) throws(ModelFormatError) {
        guard trees < limits.trees else { throw limits.tooManyTrees }
        guard count <= nodesLeft else { throw limits.tooManyNodes }
        trees += 1
        nodes += count
    }

    /// Refuses a declared tree count (`num_trees`) past the limit before any tree is read.
    func check(declaredTrees count: Int) throws(ModelFormatError) {
        guard count <= limits.trees else { throw limits.tooManyTrees }
    }
}
