import XalorraML

/// The text of a batch's rows, made once when the batch is: each row's input as compact JSON (`[1,null,0.5]`, the
/// store's column) and its prediction as JSON writes it. The store binds these bytes and the text log copies them
/// (`, ` between cells), so no number is formatted twice; formatting was a quarter of a 1,000-row OIP request, each
/// float formatted once for the store and once for the log, each time through a `String`.
struct FormattedRows: Sendable {
    /// Every row's input then prediction, row after row.
    let bytes: [UInt8]
    /// Row `i`'s input is `bytes[bounds[2i]..<bounds[2i+1]]`, its prediction `bytes[bounds[2i+1]..<bounds[2i+2]]`.
    let bounds: [Int]

    /// Formats every row of `inputs` with its prediction; a missing cell is `null`.
    init(inputs: FeatureMatrix, predictions: [Number]) {
        var bytes: [UInt8] = []
        // Room for the first row (a double's text is at most 24 bytes), so that it is not regrown number by number.
        bytes.reserveCapacity(predictions.isEmpty ? 0 : 24 * (inputs.row(0).count + 1) + 2)
        var bounds: [Int] = [0]
        bounds.reserveCapacity(2 * predictions.count + 1)
        for (index, prediction) in predictions.enumerated() {
            JSONWriter.write(cells: inputs.row(index), into: &bytes)
            bounds.append(bytes.count)
            JSONWriter.write(number: prediction, into: &bytes)
            bounds.append(bytes.count)
            // The first row tells how long the others are likely to be.
            if index == 0, predictions.count > 1 { bytes.reserveCapacity(bytes.count * predictions.count + 64) }
        }
        self.bytes = bytes
        self.bounds = bounds
    }

    /// The number of rows.
    var count: Int { bounds.count / 2 }

    /// Where row `index`'s input (compact JSON) and prediction are in ``bytes``.
    func ranges(_ index: Int) -> (input: Range<Int>, prediction: Range<Int>) {
        (bounds[2 * index]..<bounds[2 * index + 1], bounds[2 * index + 1]..<bounds[2 * index + 2])
    }

    /// Appends ` input=[1, null, 3] prediction=6` for row `index`: the text log's fields, written by
    /// `PredictionRecord.appendLogFields` from the formatted row.
    func appendLogFields(_ index: Int, into out: inout [UInt8]) {
        let (input, prediction) = ranges(index)
        // Through a buffer pointer: slices of the array would retain and release its storage for every cell.
        bytes.withUnsafeBufferPointer { text in
            PredictionRecord.appendLogFields(
                input: UnsafeBufferPointer(rebasing: text[input]),
                prediction: UnsafeBufferPointer(rebasing: text[prediction]), into: &out)
        }
    }
}
