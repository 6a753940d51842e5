import Testing
@testable import XalorraML

/// The shapes the fast TreeSHAP paths take (issue 16's speed work): rows in several blocks with a partial last one,
/// trees deep enough for their tables to be checked against tables by sets, float32 rounding of a block's columns,
/// and the row count choosing between the recursion and the tables. Each equals the recursive algorithm.
@Suite struct TreeSHAPSpeedShapeTests {
    /// `a` and `b` value by value, within `relative` (or an absolute 1e-12 near zero).
    static func expectEqual(_ a: [Double], _ b: [Double], _ label: String, relative: Double = 1e-9) {
        #expect(a.count == b.count, "\(label): \(a.count) vs \(b.count) values")
        for (index, (x, y)) in zip(a, b).enumerated() where !ExplanationTests.close(x, y, relative: relative, absolute: 1e-12) {
            Issue.record("\(label) value \(index): \(x) vs \(y)")
            return
        }
    }

    /// More rows than one block holds, the last block partial: every row equals the recursion's.
    @Test func blocksOfRowsEqualTheRecursion() throws {
        let width = 6
        let data = ExplanationTests.data(rows: 1500, width: width, seed: 31, missing: 0.1)
        let ensemble = try ExplanationTests.trees(data, trees: 20, depth: 6)
        let count = TreeSHAP.blockSize(width: width) * 2 + 37
        let rows = Array(data.values.prefix(count * width))
        ExplanationTests.expectEqualShapes(ensemble, rows, label: "\(count) rows")
    }

    /// Trees of depth 9 (paths past 8 splits: tabled by outcomes only when that costs at most 4x tables by sets) and of
    /// depth 13 (past 12 splits: tables by sets or the recursion), with few features so that paths repeat them.
    @Test(arguments: [(9, 4), (9, 12), (13, 3)])
    func deepTreesEqualTheRecursion(depth: Int, width: Int) throws {
        let data = ExplanationTests.data(rows: 3000, width: width, seed: UInt64(depth * 100 + width), missing: 0.2)
        let ensemble = try ExplanationTests.trees(data, trees: 6, depth: depth)
        ExplanationTests.expectEqualShapes(ensemble, Array(data.values.prefix(70 * width)), label: "depth \(depth)")
    }

    /// A float32 model compares values rounded to `Float`, in the block's columns as in its rows.
    @Test func float32BlocksRoundLikePrediction() throws {
        let width = 5
        let data = ExplanationTests.data(rows: 800, width: width, seed: 8, missing: 0.1)
        let trained = try ExplanationTests.trees(data, trees: 10, depth: 6)
        let ensemble = TreeEnsemble(
            objective: .regression, baseMargin: trained.baseMargin, featureCount: width, float32: true,
            trees: trained.trees)
        // Values a hair off their float32 rounding: the tables' columns must round them as prediction does.
        let rows = data.values.prefix(300 * width).map { $0.isNaN ? $0 : $0 + 1e-12 }
        ExplanationTests.expectEqualShapes(ensemble, rows, label: "float32")
        let values = try ExplanationTests.shap(ensemble, rows, tables: true)
        for row in 0..<20 {
            let margin = ExplanationTests.margin(.trees(ensemble), Array(rows[(row * width)..<((row + 1) * width)]))
            let sum = values[(row * (width + 1))..<((row + 1) * (width + 1))].reduce(0, +)
            #expect(ExplanationTests.close(sum, margin), "row \(row): \(sum) vs margin \(margin)")
        }
    }
}

extension ExplanationTests {
    /// TreeSHAP by tables (forced), by the recursion and by the row count's choice give the same values for `rows`.
    static func expectEqualShapes(_ ensemble: TreeEnsemble, _ rows: [Double], label: String) {
        do {
            let shap = try TreeSHAP(ensemble)
            func explain(tables: Bool?) -> [Double] {
                var output = [Double](repeating: 0, count: rows.count / ensemble.featureCount * (ensemble.featureCount + 1))
                rows.withUnsafeBufferPointer { rows in
                    output.withUnsafeMutableBufferPointer { shap.explain(rows: rows, into: $0, tables: tables) }
                }
                return output
            }
            let recursive = explain(tables: false)
            TreeSHAPSpeedShapeTests.expectEqual(recursive, explain(tables: true), "\(label), tables")
            TreeSHAPSpeedShapeTests.expectEqual(recursive, explain(tables: nil), "\(label), by count")
        } catch {
            Issue.record("\(label): \(error)")
        }
    }
}
