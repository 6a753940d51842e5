import XalorraML

/// The top level of an imported file, read in one pass whichever kind it is: an exported xalorra document
/// (`{"format": "xalorra-model", "kind", "features", "metrics"?, "hyperparameters"?, "model"}`) or an XGBoost JSON
/// model (`{"learner": …}`). The models in it are read as they stream past, within the limits.
struct ModelFileParts {
    var format: JSONValue?
    var kind: JSONValue?
    var features: JSONValue?
    var metrics: JSONValue?
    var hyperparameters: JSONValue?
    var model: TrainedModel?
    var learner: XGBoostModel.Learner?

    /// Reads the document's top-level object (anything else has no parts).
    static func read(_ reader: inout JSONReader, limits: ModelLimits) throws -> ModelFileParts {
        var parts = ModelFileParts()
        guard try reader.peek() == .object else {
            try reader.skip()
            return parts
        }
        try reader.enterObject()
        while let key = try reader.nextKey() {
            switch key {
            case "format": parts.format = try reader.small("format", limit: 1)
            case "kind": parts.kind = try reader.small("kind", limit: 1)
            case "features": parts.features = try reader.small("features", limit: ModelLimits.maxFeatures + 1)
            case "metrics": parts.metrics = try reader.small("metrics")
            case "hyperparameters": parts.hyperparameters = try reader.small("hyperparameters")
            case "model": parts.model = try ModelDocument.read(&reader, limits: limits)
            case "learner": parts.learner = try XGBoostModel.Learner.read(&reader, limits: limits)
            default: try reader.skip()
            }
        }
        return parts
    }

    /// The exported document's model with its names, metrics and settings, checked against each other.
    func exported() throws(ModelFormatError) -> LocalAPI.ImportedModel {
        guard let kind = kind?.stringValue.flatMap(ModelKind.init(rawValue:)) else {
            throw ModelFormatError("the document has no known kind")
        }
        guard case .array(let items)? = features else { throw ModelFormatError("features must be a list of names") }
        var names: [String] = []
        names.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard let name = item.stringValue else { throw ModelFormatError("features must be a list of names") }
            if let problem = NameRule.problem(name) { throw ModelFormatError("features[\(index)] \(problem)") }
            names.append(name)
        }
        guard let model else { throw ModelFormatError("the document has no \"model\"") }
        guard names.count == model.featureCount else {
            throw ModelFormatError("\(names.count) feature names for a model of \(model.featureCount) features")
        }
        var metrics: Metrics?
        if let value = self.metrics, value != .null {
            do { metrics = try Metrics(json: value) } catch { throw ModelFormatError("metrics: \(error.message)") }
        }
        var settings = JSONValue.object([])
        if case .object? = hyperparameters, let hyperparameters { settings = hyperparameters }
        return LocalAPI.ImportedModel(
            kind: kind, model: model, features: names, metrics: metrics, hyperparameters: settings)
    }
}
