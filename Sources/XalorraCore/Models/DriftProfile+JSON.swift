import XalorraML

/// A ``FeatureProfile`` as the store keeps it (`model_profiles.profile`):
/// `{"rows": n, "features": [{"name", "cuts", "shares", "missing_share"}, …], "prediction": {"cuts", …}}`.
extension FeatureProfile {
    /// The stored JSON form.
    var json: JSONValue {
        .object([
            ("rows", .int(rows)),
            ("features", .array(zip(features, columns).map { name, column in
                .object([("name", .string(name))] + column.jsonMembers)
            })),
            ("prediction", .object(prediction.jsonMembers)),
        ])
    }

    /// Reads the stored JSON form back; `nil` when it is not one.
    init?(json: JSONValue) {
        guard case .number(.int(let rows))? = json["rows"],
            case .array(let items)? = json["features"], let predictionJSON = json["prediction"],
            let prediction = BinnedDistribution(json: predictionJSON)
        else { return nil }
        var names: [String] = []
        var columns: [BinnedDistribution] = []
        for item in items {
            guard let name = item["name"]?.stringValue, let column = BinnedDistribution(json: item) else { return nil }
            names.append(name)
            columns.append(column)
        }
        self.init(features: names, columns: columns, prediction: prediction, rows: Int(rows))
    }
}

extension BinnedDistribution {
    /// `cuts`, `shares` and `missing_share`.
    var jsonMembers: [(String, JSONValue)] {
        [
            ("cuts", .array(cuts.map { .number(.double($0)) })),
            ("shares", .array(shares.map { .number(.double($0)) })),
            ("missing_share", .number(.double(missingShare))),
        ]
    }

    /// Reads ``jsonMembers`` back; `nil` when they do not make a distribution.
    init?(json: JSONValue) {
        func doubles(_ key: String) -> [Double]? {
            guard case .array(let items)? = json[key] else { return nil }
            var out: [Double] = []
            for item in items {
                guard case .number(let number) = item else { return nil }
                out.append(number.doubleValue)
            }
            return out
        }
        guard let cuts = doubles("cuts"), let shares = doubles("shares"), shares.count == cuts.count + 1,
            case .number(let missing)? = json["missing_share"]
        else { return nil }
        self.init(cuts: cuts, shares: shares, missingShare: missing.doubleValue)
    }
}
