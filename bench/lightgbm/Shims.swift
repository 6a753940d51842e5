// The two things the importer's files need from XalorraCore beyond themselves, for the bench's throwaway package
// only (bench/lightgbm.sh): the deployment settings ModelLimits can be made from, and the feature-name rule (the
// bench's names are plain).

public struct Settings {
    public var maxModelTrees = 50_000
    public var maxModelNodes = 5_000_000
}

enum NameRule {
    static func problem(_ name: String) -> String? { nil }
}
