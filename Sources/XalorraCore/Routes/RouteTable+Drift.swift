import XalorraML

extension Endpoint {
    /// The drift route (issue 16), kept beside ``RouteTable`` as the key routes are.
    var driftDefinition: Route {
        typealias S = Schema
        let nullableNumber: JSONValue = .object([("type", .array(["number", "null"]))])
        let verdict = S.oneOf(DriftReport.Verdict.allCases)
        let column = S.object(
            [
                ("name", S.string), ("psi", nullableNumber), ("missing_share", nullableNumber),
                ("training_missing_share", S.number), ("verdict", verdict),
            ],
            required: ["name", "psi", "missing_share", "training_missing_share", "verdict"])
        let report = S.object(
            [
                ("model", S.string), ("version", S.string), ("since", S.string), ("until", S.string),
                ("rows", S.integer), ("training_rows", S.integer), ("verdict", verdict), ("drifted", S.array(S.string)),
                ("thresholds", S.object([("moderate", S.number), ("drifted", S.number)], required: ["moderate", "drifted"])),
                ("features", S.array(column)), ("prediction", column),
            ],
            required: [
                "model", "version", "since", "until", "rows", "training_rows", "verdict", "drifted", "thresholds",
                "features", "prediction",
            ])
        return Route(
            self, "GET", "/models/{name}/drift", .user, scope: .modelsRead,
            "Drift: each feature's and the predictions' PSI against the training data, over the rows logged since "
                + "`since` (default 24h ago; version: default the newest); PSI >= 0.2 is flagged, >= 0.1 moderate",
            query: [
                .init("since", S.isoOrAgo),
                .init("version", ModelReference.versionSchema),
            ],
            response: .json(S.envelope(report)))
    }
}
