import XalorraML

/// How the store keeps a batch: its rows' inputs and predictions in one compact binary value, so that a request of
/// 1,000 rows is one store record rather than 1,000 (one B-tree insert instead of a thousand, and no number formatted
/// to be stored). Reading expands a block back into one ``PredictionRecord`` per row, with the ids the rows got.
///
/// Layout (little-endian): a format byte (1), a flags byte, the row count (u32), the width (u32; 0 when rows differ in
/// width, and then each row's width follows as a u32); then every cell as 8 bytes, a `Double`'s bits or an `Int64`;
/// a bitmap over the cells saying which are integers (flag ``Flags/integerCells``) and one saying which are missing
/// (``Flags/missingCells``); then each prediction as 8 bytes and, with ``Flags/integerPredictions``, their integer
/// bitmap. A number keeps whether it was written as an integer, as the rest of the log does (`[1, 2, 3]`, not `1.0`).
struct PredictionBlock {
    /// The format this build writes and reads.
    static let format: UInt8 = 1

    struct Flags: OptionSet {
        let rawValue: UInt8
        static let ragged = Flags(rawValue: 1)
        static let integerCells = Flags(rawValue: 2)
        static let missingCells = Flags(rawValue: 4)
        static let integerPredictions = Flags(rawValue: 8)
    }

    /// The most rows one block holds: a larger batch is stored as several blocks (consecutive ids, one
    /// transaction), so that reading one row never decodes more than this many, and no single value grows with the
    /// batch (an offline file of a million rows is a thousand records, not one of 80 MB).
    static let maxRows = 1_024

    /// The blocks of `inputs` and their `predictions` (one per row), ``maxRows`` rows at most each.
    static func encode(inputs: FeatureMatrix, predictions: [Number]) -> [[UInt8]] {
        stride(from: 0, to: predictions.count, by: maxRows).map { start in
            encode(inputs: inputs, predictions: predictions, rows: start..<min(start + maxRows, predictions.count))
        }
    }

    /// The block of rows `rows` of `inputs` and their `predictions`.
    static func encode(inputs: FeatureMatrix, predictions: [Number], rows range: Range<Int>) -> [UInt8] {
        let rows = range.count
        let cellRange = inputs.offsets[range.lowerBound]..<inputs.offsets[range.upperBound]
        let cells = cellRange.count
        let values = inputs.values[cellRange]
        var flags: Flags = []
        let width = rows == 0 ? 0 : inputs.row(range.lowerBound).count
        for index in range where inputs.row(index).count != width {
            flags.insert(.ragged)
            break
        }
        for cell in values {
            switch cell {
            case .none: flags.insert(.missingCells)
            case .int?: flags.insert(.integerCells)
            case .double?: break
            }
        }
        let outputs = predictions[range]
        if outputs.contains(where: { if case .int = $0 { true } else { false } }) {
            flags.insert(.integerPredictions)
        }
        let bitmap = (cells + 7) / 8
        var size = 10 + 8 * cells + 8 * rows
        if flags.contains(.ragged) { size += 4 * rows }
        if flags.contains(.integerCells) { size += bitmap }
        if flags.contains(.missingCells) { size += bitmap }
        if flags.contains(.integerPredictions) { size += (rows + 7) / 8 }
        // Written straight into memory of the exact size (appending 8 bytes at a time cost more than the block).
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var writer = Writer(base: buffer.baseAddress!)
            writer.byte(format)
            writer.byte(flags.rawValue)
            writer.u32(UInt32(rows))
            writer.u32(flags.contains(.ragged) ? 0 : UInt32(width))
            if flags.contains(.ragged) {
                for index in range { writer.u32(UInt32(inputs.row(index).count)) }
            }
            values.withUnsafeBufferPointer { cells in
                for cell in cells {
                    switch cell {
                    case .none: writer.u64(0)
                    case .int(let value)?: writer.u64(UInt64(bitPattern: value))
                    case .double(let value)?: writer.u64(value.bitPattern)
                    }
                }
                if flags.contains(.integerCells) {
                    writer.bitmap(count: cells.count) { if case .int? = cells[$0] { true } else { false } }
                }
                if flags.contains(.missingCells) { writer.bitmap(count: cells.count) { cells[$0] == nil } }
            }
            for prediction in outputs {
                switch prediction {
                case .int(let value): writer.u64(UInt64(bitPattern: value))
                case .double(let value): writer.u64(value.bitPattern)
                }
            }
            if flags.contains(.integerPredictions) {
                let start = range.lowerBound
                writer.bitmap(count: rows) { if case .int = predictions[start + $0] { true } else { false } }
            }
            count = writer.offset
            precondition(count == size, "a block's size is computed before it is written")
        }
    }

    /// Writes a block front to back into memory of its exact size.
    private struct Writer {
        let base: UnsafeMutablePointer<UInt8>
        var offset = 0

        mutating func byte(_ value: UInt8) {
            base[offset] = value
            offset += 1
        }

        mutating func u32(_ value: UInt32) {
            UnsafeMutableRawPointer(base + offset).storeBytes(of: value.littleEndian, as: UInt32.self)
            offset += 4
        }

        mutating func u64(_ value: UInt64) {
            UnsafeMutableRawPointer(base + offset).storeBytes(of: value.littleEndian, as: UInt64.self)
            offset += 8
        }

        /// One bit per index below `count`, low bit first, in whole bytes.
        mutating func bitmap(count: Int, _ isSet: (Int) -> Bool) {
            var byte: UInt8 = 0
            for index in 0..<count {
                if isSet(index) { byte |= 1 << UInt8(index & 7) }
                if index & 7 == 7 {
                    self.byte(byte)
                    byte = 0
                }
            }
            if count & 7 != 0 { self.byte(byte) }
        }
    }

    /// A block's rows, read back: row `i`'s input and prediction. `nil` when `bytes` is not a block this build reads
    /// (the store reports that as a damaged record).
    static func decode(_ bytes: UnsafeRawBufferPointer) -> [(input: [Number?], prediction: Number)]? {
        var reader = Reader(bytes: bytes)
        guard reader.byte() == format, let raw = reader.byte(), let rows = reader.u32(), let width = reader.u32()
        else { return nil }
        let flags = Flags(rawValue: raw)
        var widths: [Int] = []
        let count = Int(rows)
        // Every row takes at least 8 bytes (its prediction): a count beyond what the bytes hold is damage.
        guard count <= bytes.count / 8 else { return nil }
        if flags.contains(.ragged) {
            widths.reserveCapacity(count)
            for _ in 0..<count {
                guard let value = reader.u32() else { return nil }
                widths.append(Int(value))
            }
        }
        let cells = flags.contains(.ragged) ? widths.reduce(0, +) : count * Int(width)
        guard cells <= bytes.count / 8 else { return nil }
        guard let values = reader.take(8 * cells) else { return nil }
        let bitmapSize = (cells + 7) / 8
        let integers = flags.contains(.integerCells) ? reader.take(bitmapSize) : nil
        let missing = flags.contains(.missingCells) ? reader.take(bitmapSize) : nil
        guard !flags.contains(.integerCells) || integers != nil, !flags.contains(.missingCells) || missing != nil,
            let outputs = reader.take(8 * count)
        else { return nil }
        let integerOutputs = flags.contains(.integerPredictions) ? reader.take((count + 7) / 8) : nil
        guard !flags.contains(.integerPredictions) || integerOutputs != nil, reader.atEnd else { return nil }
        func bit(_ map: UnsafeRawBufferPointer?, _ index: Int) -> Bool {
            guard let map else { return false }
            return map[index >> 3] & (1 << UInt8(index & 7)) != 0
        }
        func number(_ buffer: UnsafeRawBufferPointer, _ index: Int, integer: Bool) -> Number {
            let bits = buffer.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self).littleEndian
            return integer ? .int(Int64(bitPattern: bits)) : .double(Double(bitPattern: bits))
        }
        var result: [(input: [Number?], prediction: Number)] = []
        result.reserveCapacity(count)
        var cell = 0
        for row in 0..<count {
            let rowWidth = flags.contains(.ragged) ? widths[row] : Int(width)
            var input: [Number?] = []
            input.reserveCapacity(rowWidth)
            for _ in 0..<rowWidth {
                input.append(bit(missing, cell) ? nil : number(values, cell, integer: bit(integers, cell)))
                cell += 1
            }
            result.append((input, number(outputs, row, integer: bit(integerOutputs, row))))
        }
        return result
    }

    /// How many rows the block in `bytes` holds, read from its header; `nil` when it is not a block.
    static func rowCount(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var reader = Reader(bytes: bytes)
        guard reader.byte() == format, reader.byte() != nil, let rows = reader.u32() else { return nil }
        return Int(rows)
    }




    /// Reads a block front to back; every read is bounds-checked (a damaged record must not crash a reader).
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func take(_ count: Int) -> UnsafeRawBufferPointer? {
            guard count >= 0, count <= bytes.count - offset else { return nil }
            defer { offset += count }
            return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        }

        mutating func byte() -> UInt8? { take(1).map { $0[0] } }

        mutating func u32() -> UInt32? {
            take(4).map { $0.loadUnaligned(as: UInt32.self).littleEndian }
        }
    }
}
