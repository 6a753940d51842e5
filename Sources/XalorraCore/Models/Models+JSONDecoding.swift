import XalorraML

/// Reading the registry's and the training jobs' bodies back, so that `RemoteAPI` returns what `LocalAPI` would and
/// the CLI prints the same either way. Each reads exactly what the type's `json` writes.
extension ModelVersion: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        let versionText = try json.text("version")
        guard let version = Int(versionText) else { throw JSONValue.unexpectedResponse("version '\(versionText)'") }
        let features = try json.list("features").map { item throws(XalorraError) in
            guard case .string(let name) = item else { throw JSONValue.unexpectedResponse("'features' holds a non-string") }
            return name
        }
        self.init(
            name: try json.text("name"), tenant: try json.text("tenant"), version: version, kind: try json.modelKind("kind"),
            hyperparameters: try json.member("hyperparameters"), metrics: try json.metrics("metrics"), features: features,
            trees: Int(try json.integer("trees")), size: Int(try json.integer("size_bytes")),
            createdAt: try json.time("created_at"), createdBy: try json.text("created_by"))
        if let importances = json["importances"], importances != .null {
            self.importances = try FeatureImportances(json: importances, features: features)
        }
    }
}

extension ModelDetail: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        self.init(
            name: try json.text("name"), tenant: try json.text("tenant"),
            versions: try json.list("versions").map { item throws(XalorraError) in try ModelVersion(json: item) })
    }
}

extension ModelSummary: JSONDecodable {
    /// A list row carries only what `GET /models` shows of the newest version: its feature names, trees,
    /// settings, size and author are left empty (the names as `feature_count` blanks, so the count survives).
    /// `model(_:)` or `modelVersion(_:)` give the whole version.
    public init(json: JSONValue) throws(XalorraError) {
        let versionText = try json.text("latest_version")
        guard let version = Int(versionText) else {
            throw JSONValue.unexpectedResponse("latest_version '\(versionText)'")
        }
        let featureCount = Int(try json.integer("feature_count"))
        guard (0...ModelLimits.maxFeatures).contains(featureCount) else {
            throw JSONValue.unexpectedResponse("feature_count \(featureCount)")
        }
        let latest = ModelVersion(
            name: try json.text("name"), tenant: try json.text("tenant"), version: version,
            kind: try json.modelKind("kind"), hyperparameters: .object([]), metrics: try json.metrics("metrics"),
            features: Array(repeating: "", count: featureCount), trees: 0, size: 0,
            createdAt: try json.time("updated_at"), createdBy: "")
        self.init(latest: latest, versionCount: Int(try json.integer("versions")))
    }
}

extension TrainingJob: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        let statusName = try json.text("status")
        guard let status = Status(rawValue: statusName) else { throw JSONValue.unexpectedResponse("status '\(statusName)'") }
        let progress = try json.member("progress")
        var validationLoss: Double?
        switch try json.member("validation_loss") {
        case .null: validationLoss = nil
        case .number(let number): validationLoss = number.doubleValue
        default: throw JSONValue.unexpectedResponse("'validation_loss' is not a number")
        }
        var version: Int?
        if case .string(let text) = try json.member("version") {
            guard let number = Int(text) else { throw JSONValue.unexpectedResponse("version '\(text)'") }
            version = number
        }
        self.init(
            id: try json.text("id"), model: try json.text("model"), tenant: try json.text("tenant"),
            kind: try json.modelKind("kind"), target: try json.text("target"), rows: Int(try json.integer("rows")),
            hyperparameters: try json.member("hyperparameters"), status: status,
            progressDone: Int(try progress.integer("done")), progressTotal: Int(try progress.integer("total")),
            validationLoss: validationLoss, error: try json.optionalText("error"), version: version,
            createdBy: try json.text("created_by"), createdAt: try json.time("created_at"),
            startedAt: try json.optionalTime("started_at"), finishedAt: try json.optionalTime("finished_at"))
    }
}

extension JSONValue {
    /// The model kind in `key`.
    fileprivate func modelKind(_ key: String) throws(XalorraError) -> ModelKind {
        let name = try text(key)
        guard let kind = ModelKind(rawValue: name) else { throw JSONValue.unexpectedResponse("\(key) '\(name)'") }
        return kind
    }

    /// The metrics object in `key`, or `nil` for `null`.
    fileprivate func metrics(_ key: String) throws(XalorraError) -> Metrics? {
        let value = try member(key)
        guard value != .null else { return nil }
        do {
            return try Metrics(json: value)
        } catch {
            throw JSONValue.unexpectedResponse("'\(key)': \(error.message)")
        }
    }

    /// The text in `key`, or `nil` for `null`.
    fileprivate func optionalText(_ key: String) throws(XalorraError) -> String? {
        let value = try member(key)
        return value == .null ? nil : try text(key)
    }

    /// The ISO time in `key`, or `nil` for `null`.
    fileprivate func optionalTime(_ key: String) throws(XalorraError) -> Timestamp? {
        let value = try member(key)
        return value == .null ? nil : try time(key)
    }
}
