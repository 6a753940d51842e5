import XalorraML

/// Reading a LightGBM text file: its lines, the header before the first tree, and each `Tree=N` block, kept as the
/// lines of its members until ``LightGBMModel/TreeBlock/tree(featureCount:names:nodesLeft:limits:)`` parses them.
extension LightGBMModel {
    /// The lines of a file, without their `\n` or `\r\n`.
    struct Lines {
        private let bytes: [UInt8]
        private var position = 0
        /// The number of the line `next()` returned last (1-based), for messages.
        private(set) var number = 0

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        }

        /// The next line, or `nil` at the end of the file.
        mutating func next() -> ArraySlice<UInt8>? {
            guard position < bytes.count else { return nil }
            let end = bytes[position...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            var line = bytes[position..<end]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            position = end + 1
            number += 1
            return line
        }

        /// The next line, left to be read again.
        func peek() -> ArraySlice<UInt8>? {
            var copy = self
            return copy.next()
        }
    }

    /// The file's first lines: format version, shape, objective and feature names.
    struct Header {
        var featureCount: Int
        var featureNames: [String]?
        var objective: String
        var averageOutput: Bool
        /// `num_class`: 1, or K of a multi-class model (which has K trees per iteration).
        var classes = 1
        /// How many trees `tree_sizes` lists, when the file has it.
        var declaredTrees: Int?

        /// The members the header is read from; others (`feature_infos`, `monotone_constraints`, …) are skipped.
        static let keys: Set<String> = [
            "version", "num_class", "num_tree_per_iteration", "max_feature_idx", "objective", "feature_names",
            "tree_sizes",
        ]

        /// Reads the header, up to (not including) the first `Tree=` line.
        static func read(_ lines: inout Lines) throws(ModelFormatError) -> Header {
            guard let first = lines.next(), text(first).trimmingSpaces == "tree" else {
                throw ModelFormatError("not a LightGBM model: the first line is not \"tree\"")
            }
            var values: [String: ArraySlice<UInt8>] = [:]
            var averageOutput = false
            while let line = lines.peek(), !line.starts(with: Array("Tree=".utf8)), text(line) != "end of trees" {
                _ = lines.next()
                guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else {
                    if text(line) == "average_output" { averageOutput = true }
                    continue
                }
                let key = text(line[..<equals])
                if keys.contains(key), values[key] == nil { values[key] = line[(equals + 1)...] }
            }
            func value(_ key: String) -> String? { values[key].map(text) }
            guard let version = value("version") else {
                throw ModelFormatError("not a LightGBM model: the header has no \"version\"")
            }
            guard ["v2", "v3", "v4"].contains(version) else {
                throw ModelFormatError("LightGBM model format \(shown(version)) is not supported (v2 to v4 are)")
            }
            let classes = try integer(value("num_class") ?? "1", "num_class")
            let perIteration = try integer(value("num_tree_per_iteration") ?? "\(classes)", "num_tree_per_iteration")
            guard classes >= 1, perIteration >= 1 else {
                throw ModelFormatError("num_class \(classes) is not a number of classes")
            }
            guard classes == perIteration, classes <= TreeEnsemble.maxClasses else {
                throw ModelFormatError(
                    "num_class \(classes) with \(perIteration) trees per iteration is not supported (one output, or a "
                        + "multi-class model of 2 to \(TreeEnsemble.maxClasses) classes with one tree per class)")
            }
            guard let maxIndex = value("max_feature_idx") else {
                throw ModelFormatError("not a LightGBM model: the header has no \"max_feature_idx\"")
            }
            let featureCount = try integer(maxIndex, "max_feature_idx") + 1
            guard (1...ModelLimits.maxFeatures).contains(featureCount) else {
                throw ModelFormatError(
                    "max_feature_idx is \(featureCount - 1); xalorra supports 1 to \(ModelLimits.maxFeatures) features")
            }
            guard let objective = value("objective"), !objective.isEmpty else {
                throw ModelFormatError(
                    "the model has no objective (trained with a custom one?); supported: regression, regression_l1, "
                        + "huber, fair, quantile, mape, binary, cross_entropy")
            }
            var header = Header(
                featureCount: featureCount, featureNames: nil, objective: objective, averageOutput: averageOutput,
                declaredTrees: nil)
            header.classes = classes
            if let names = values["feature_names"] {
                header.featureNames = try Self.names(names, count: featureCount)
            }
            if let sizes = values["tree_sizes"] {
                header.declaredTrees = LightGBMModel.tokenCount(sizes)
            }
            return header
        }

        /// The feature names of `feature_names=`, checked by the ``NameRule``.
        private static func names(_ line: ArraySlice<UInt8>, count: Int) throws(ModelFormatError) -> [String] {
            let total = LightGBMModel.tokenCount(line)
            guard total == count else {
                throw ModelFormatError("feature_names has \(total) names, but the model has \(count) features")
            }
            var names: [String] = []
            names.reserveCapacity(count)
            try LightGBMModel.forEachToken(line) { token throws(ModelFormatError) in
                let name = String(decoding: token, as: UTF8.self)
                if let problem = NameRule.problem(name) {
                    throw ModelFormatError("feature_names[\(names.count)] \(problem)")
                }
                names.append(name)
            }
            return names
        }

        /// How the objective turns the score into the prediction.
        func output() throws(ModelFormatError) -> Output {
            let tokens = objective.split(separator: " ")
            let name = String(tokens.first ?? "")
            var parameters: [Substring: Substring] = [:]
            var flags: Set<Substring> = []
            for token in tokens.dropFirst() {
                if let colon = token.firstIndex(of: ":") {
                    parameters[token[..<colon]] = token[token.index(after: colon)...]
                } else {
                    flags.insert(token)
                }
            }
            if name == "multiclassova" {
                throw ModelFormatError(
                    "objective \"multiclassova\" (one-vs-all) is not supported; multiclass (softmax) models are")
            }
            if name == "multiclass" {
                guard classes >= 2 else {
                    throw ModelFormatError("objective multiclass needs num_class 2 or more, not \(classes)")
                }
                return Output(objective: .softmax, sigmoid: 1)
            }
            guard classes == 1 else {
                throw ModelFormatError("num_class \(classes) needs objective multiclass, not \"\(LightGBMModel.shown(name))\"")
            }
            if LightGBMModel.scoreObjectives.contains(name) {
                guard !flags.contains("sqrt") else {
                    throw ModelFormatError(
                        "objective \"\(name)\" with reg_sqrt is not supported (its predictions are the score squared)")
                }
                return Output(objective: .regression, sigmoid: 1)
            }
            switch name {
            case "binary":
                let text = parameters["sigmoid"] ?? "1"
                guard let sigmoid = Double(text), sigmoid.isFinite, sigmoid > 0 else {
                    throw ModelFormatError(
                        "objective binary: sigmoid \"\(LightGBMModel.shown(String(text)))\" is not a positive number")
                }
                return Output(objective: .logistic, sigmoid: sigmoid)
            case "cross_entropy":
                return Output(objective: .logistic, sigmoid: 1)
            default:
                throw LightGBMModel.unsupported(LightGBMModel.shown(name))
            }
        }
    }

    /// The member lines of one `Tree=N` block.
    struct TreeBlock {
        /// The tree's position in the file.
        var index: Int
        var values: [String: ArraySlice<UInt8>] = [:]

        /// The members a tree is read from; others (`split_gain` aside, statistics) are skipped.
        static let keys: Set<String> = [
            "num_leaves", "num_cat", "split_feature", "split_gain", "threshold", "decision_type", "left_child",
            "right_child", "leaf_value", "leaf_count", "internal_count", "is_linear",
        ]

        /// Reads the block of tree `index`; `nil` at `end of trees` (setting `ended`) or at the end of the file.
        static func read(
            _ lines: inout Lines, index: Int, ended: inout Bool
        ) throws(ModelFormatError) -> TreeBlock? {
            var line = lines.next()
            while let current = line, current.allSatisfy({ $0 == UInt8(ascii: " ") }) { line = lines.next() }
            guard let line else { return nil }
            if text(line) == "end of trees" {
                ended = true
                return nil
            }
            guard text(line) == "Tree=\(index)" else {
                throw ModelFormatError("line \(lines.number): expected \"Tree=\(index)\" (is the file damaged?)")
            }
            var block = TreeBlock(index: index)
            while let next = lines.peek(), !next.isEmpty, next != [UInt8(ascii: "\r")][...] {
                guard !next.starts(with: Array("Tree=".utf8)), text(next) != "end of trees" else { break }
                _ = lines.next()
                guard let equals = next.firstIndex(of: UInt8(ascii: "=")) else { continue }
                let key = text(next[..<equals])
                guard keys.contains(key) else { continue }
                guard block.values[key] == nil else {
                    throw ModelFormatError("tree \(index): \(key) is given twice")
                }
                block.values[key] = next[(equals + 1)...]
            }
            return block
        }
    }
}

extension LightGBMModel {
    /// How many space-separated tokens `line` has, counted without collecting them (a hostile line of millions of
    /// tokens would otherwise cost 32 bytes a token before any count is checked).
    static func tokenCount(_ line: ArraySlice<UInt8>) -> Int {
        var count = 0
        var previous = UInt8(ascii: " ")
        for byte in line {
            if previous == UInt8(ascii: " "), byte != UInt8(ascii: " ") { count += 1 }
            previous = byte
        }
        return count
    }

    /// Calls `body` with each space-separated token of `line`, in order.
    static func forEachToken(
        _ line: ArraySlice<UInt8>, _ body: (ArraySlice<UInt8>) throws(ModelFormatError) -> Void
    ) throws(ModelFormatError) {
        var start = line.startIndex
        while start < line.endIndex {
            guard line[start] != UInt8(ascii: " ") else {
                start += 1
                continue
            }
            var end = start
            while end < line.endIndex, line[end] != UInt8(ascii: " ") { end += 1 }
            try body(line[start..<end])
            start = end
        }
    }

    /// A line (or part of one) as text.
    static func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    /// An integer header value, or an error naming it.
    static func integer(_ text: String, _ name: String) throws(ModelFormatError) -> Int {
        guard let number = Int(text.trimmingSpaces) else {
            throw ModelFormatError("\(name) \"\(shown(text))\" is not an integer")
        }
        return number
    }
}

extension LightGBMModel {
    /// Text from the file as a message may quote it: at most 40 characters, control characters as `?`.
    static func shown(_ text: String) -> String {
        let scalars = text.unicodeScalars.prefix(40).map { NameRule.problem(String($0)) == nil ? $0 : "?" }
        return String(String.UnicodeScalarView(scalars)) + (text.unicodeScalars.count > 40 ? "…" : "")
    }
}

extension String {
    /// The text without spaces at either end.
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
