import XalorraML

extension LocalAPI {
    /// The `format` member that marks an exported xalorra model document.
    static let exportFormat = "xalorra-model"

    func modelStore() throws(XalorraError) -> any ModelRepository { try store().models }

    /// The tenant whose models the caller means: their own, or another one an admin names.
    private func modelTenant(_ requested: String?) throws(XalorraError) -> String {
        try caller.tenantScope(requested: requested) ?? caller.tenant
    }

    /// A model name without a version (`import`, `GET /models/{name}`).
    private static func plainName(_ text: String) throws(XalorraError) -> String {
        let reference = try ModelReference(text)
        guard reference.version == nil else {
            throw XalorraError.invalid("model", "'\(text)' names a version; give the model's name alone")
        }
        return reference.name
    }

    public func models(_ query: ModelQuery) async throws(XalorraError) -> Page<ModelSummary> {
        try XalorraError.check(Paging.problems(limit: query.limit, offset: query.offset, max: ModelQuery.maxLimit))
        return try await modelStore().list(tenant: modelTenant(query.tenant), limit: query.limit, offset: query.offset)
    }

    public func model(_ name: String) async throws(XalorraError) -> ModelDetail {
        let name = try Self.plainName(name)
        var versions = try await modelStore().versions(tenant: caller.tenant, name: name)
        if let newest = versions.first { versions[0] = await withImportances(newest) }
        return ModelDetail(name: name, tenant: caller.tenant, versions: versions)
    }

    public func modelVersion(_ reference: String) async throws(XalorraError) -> ModelVersion {
        let reference = try ModelReference(reference)
        guard let (version, _) = try await modelStore().load(
            tenant: caller.tenant, name: reference.name, version: reference.version)
        else { throw XalorraError.modelNotFound(reference.name, version: reference.version) }
        return await withImportances(version)
    }

    /// `version` with its trees' feature importances, from the decoded model predictions use (``resolveModel(_:)``'s
    /// cache): a tree model shown on its own says which features its splits gained most from.
    private func withImportances(_ version: ModelVersion) async -> ModelVersion {
        guard let reference = try? ModelReference(name: version.name, version: String(version.version)),
            case (_, .trees(let ensemble)?)? = try? await resolveModel(reference)
        else { return version }
        var shown = version
        shown.importances = ensemble.importances
        return shown
    }

    public func exportModel(_ reference: String) async throws(XalorraError) -> [UInt8] {
        let reference = try ModelReference(reference)
        guard let (version, document) = try await modelStore().load(
            tenant: caller.tenant, name: reference.name, version: reference.version)
        else { throw XalorraError.modelNotFound(reference.name, version: reference.version) }
        // The stored document goes out as it is, after a check that it is one JSON value: parsing it into a tree
        // only to write it back would cost many times its size.
        let sound = document.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(buffer)
            return (try? reader.skip()) != nil && (try? reader.finish()) != nil
        }
        guard sound, case .object(var members) = version.json else {
            throw XalorraError(.internal, "the stored model \(version.reference) is damaged")
        }
        members.removeAll { ["tenant", "size_bytes", "feature_count"].contains($0.0) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(document.count + 1024)
        JSONWriter.write(.object([("format", .string(Self.exportFormat)), ("format_version", 1)] + members), into: &bytes)
        bytes.removeLast()
        bytes += #","model":"#.utf8
        bytes += document
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    public func importModel(_ name: String, document: [UInt8]) async throws(XalorraError) -> ModelVersion {
        try await audited("models.import", object: name) { () throws(XalorraError) in
            let name = try Self.plainName(name)
            guard document.count <= settings.maxUpload else {
                throw XalorraError(
                    .payloadTooLarge,
                    "the model file is larger than \(settings.maxUpload) bytes, the most accepted (XALORRA_MAX_UPLOAD)")
            }
            let limits = ModelLimits(settings)
            // A large file is seconds of CPU: parsed on its own thread, so request handling goes on meanwhile.
            let parsed = await BackgroundWorkers.modelParsing.run {
                Result { () throws(XalorraError) in
                    let imported = try Self.readModelFile(document, limits: limits)
                    return (imported, ModelDocument.encode(imported.model))
                }
            }
            let (imported, encoded) = try parsed.get()
            let stored = try await modelStore().add(
                ModelRepository.NewVersion(
                    tenant: caller.tenant, name: name, kind: imported.kind, hyperparameters: imported.hyperparameters,
                    metrics: imported.metrics, features: imported.features, trees: imported.model.treeCount,
                    document: encoded, createdBy: caller.user),
                now: .now())
            modelCache.forget(tenant: caller.tenant, name: name)
            HeapTrim.release(after: imported.model.size)
            return stored
        }
    }

    public func deleteModel(_ reference: String) async throws(XalorraError) {
        try await audited("models.delete", object: reference) { () throws(XalorraError) in
            let reference = try ModelReference(reference)
            try await modelStore().delete(tenant: caller.tenant, name: reference.name, version: reference.version)
            HeapTrim.release(after: modelCache.forget(tenant: caller.tenant, name: reference.name))
            explainers.forget(tenant: caller.tenant, name: reference.name)
        }
    }

    /// What an imported file holds.
    struct ImportedModel {
        var kind: ModelKind
        var model: TrainedModel
        var features: [String]
        var metrics: Metrics?
        var hyperparameters: JSONValue
    }

    /// Reads an XGBoost JSON model, a LightGBM text model or an exported xalorra document, stopping at the first
    /// tree past `limits`; a file that is none of them is a 422 that says so.
    static func readModelFile(_ bytes: [UInt8], limits: ModelLimits = .defaults) throws(XalorraError) -> ImportedModel {
        do throws(ModelFormatError) {
            if LightGBMModel.isTextModel(bytes) {
                let (ensemble, names) = try LightGBMModel.load(bytes, limits: limits)
                return ImportedModel(
                    kind: .lightgbm, model: .trees(ensemble),
                    features: names ?? (0..<ensemble.featureCount).map { "Column_\($0)" }, metrics: nil,
                    hyperparameters: .object([]))
            }
            let parts = try JSONReader.readModel(
                bytes,
                invalidJSON: "not a model file: expected an XGBoost JSON model, a LightGBM text model (its first "
                    + "line \"tree\") or a file from `xalorra models export`; the file is not valid JSON"
            ) { reader in
                try ModelFileParts.read(&reader, limits: limits)
            }
            if parts.format?.stringValue == exportFormat { return try parts.exported() }
            guard let learner = parts.learner else {
                throw ModelFormatError(
                    "not a model file: expected an XGBoost JSON model (save_model(\"m.json\")), a LightGBM text "
                        + "model (save_model(\"m.txt\")) or a file from `xalorra models export`")
            }
            let (ensemble, names) = try XGBoostModel.model(learner)
            let features = names ?? (0..<ensemble.featureCount).map { "f\($0)" }
            return ImportedModel(
                kind: .xgboost, model: .trees(ensemble), features: features, metrics: nil,
                hyperparameters: .object([]))
        } catch {
            throw XalorraError.invalid("file", error.message)
        }
    }

    /// Which version answers `reference` in the caller's tenant: `(nil, nil)` is the baseline (no stored version).
    func resolveModel(_ reference: ModelReference) async throws(XalorraError) -> (ModelVersion?, TrainedModel?) {
        let key = ModelCache.key(tenant: caller.tenant, reference: reference)
        let now = Timestamp.now()
        if let entry = modelCache.fresh(key, now: now) { return try checked(entry, reference) }
        let repository = try modelStore()
        var entry = ModelCache.Entry(version: nil, model: nil, checked: now.microseconds)
        if let found = try await repository.currentVersion(
            tenant: caller.tenant, name: reference.name, version: reference.version)
        {
            if let cached = modelCache.any(key), let version = cached.version, version.version == found {
                entry = ModelCache.Entry(version: version, model: cached.model, checked: now.microseconds)
            } else if let (version, document) = try await repository.load(
                tenant: caller.tenant, name: reference.name, version: found)
            {
                let decode = { @Sendable in Result { () throws(ModelFormatError) in try ModelDocument.decode(document) } }
                let decoded = document.count < Self.inlineDecodeBytes
                    ? decode() : await BackgroundWorkers.modelParsing.run(decode)
                switch decoded {
                case .success(let model): entry = ModelCache.Entry(version: version, model: model, checked: now.microseconds)
                case .failure(let error):
                    throw XalorraError(.internal, "the stored model \(version.reference) is damaged: \(error.message)")
                }
            }
        }
        modelCache.store(key, entry)
        return try checked(entry, reference)
    }

    /// Stored documents up to this size are decoded where the request runs (a few milliseconds); larger ones on the
    /// model-parsing thread.
    static let inlineDecodeBytes = 1 << 20

    /// A cached resolution, with the deployment's rule for names that have no version.
    private func checked(
        _ entry: ModelCache.Entry, _ reference: ModelReference
    ) throws(XalorraError) -> (ModelVersion?, TrainedModel?) {
        if entry.version == nil {
            if let version = reference.version { throw XalorraError.modelNotFound(reference.name, version: version) }
            if settings.unknownModel == .reject {
                throw XalorraError(
                    .notFound, "model '\(reference.name)' not found",
                    hint: "XALORRA_UNKNOWN_MODEL=reject is set; train or import it, or unset it to answer with "
                        + "the baseline model")
            }
        }
        return (entry.version, entry.model)
    }
}

extension TrainedModel {
    /// Trees in the model (0 for linear kinds).
    var treeCount: Int {
        if case .trees(let ensemble) = self { return ensemble.trees.count }
        return 0
    }
}
