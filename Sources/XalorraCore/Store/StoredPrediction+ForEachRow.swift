import XalorraML

extension StoredPrediction {
    /// Calls `body` with each row of the block in `bytes` (cells as doubles, NaN where missing, and the prediction);
    /// the rows visited, or `nil` when `bytes` is not a block this build reads. For drift's read in other stores.
    package static func forEachRow(
        _ bytes: UnsafeRawBufferPointer, _ body: (UnsafeBufferPointer<Double>, Double) -> Void
    ) -> Int? {
        PredictionBlock.forEachRow(bytes, body)
    }
}
