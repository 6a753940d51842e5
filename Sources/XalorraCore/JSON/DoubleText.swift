/// The shortest text that reads back as a double, as `Double.description` writes it (`0.1`, `6.0`, `1e-07`), written
/// into a caller's buffer: the form every number of the log, the text log and the answers takes.
///
/// `description` (and `write(to:)`) go through a `String` or a generic text stream for every number; the seed text log
/// of a 1,000-row request formats 10,000 of them, and that wrapping cost as much as the digits. This calls the
/// standard library's formatter (`swift_float64ToString`, the runtime entry point behind `description`; its
/// `debug` flag only changes NaN) with the caller's memory. `DoubleTextTests` compares it with `description` over
/// every exponent, so a toolchain that changed either would be noticed.
enum DoubleText {
    /// The bytes ``write(_:into:)`` may use: the formatter's own buffer size (the text is at most 24 bytes).
    static let bufferSize = 32

    /// Writes the text of the finite `value` at `buffer` (``bufferSize`` writable bytes) and returns its length.
    @inline(__always)
    static func write(_ value: Double, into buffer: UnsafeMutablePointer<UInt8>) -> Int {
        // The formatter expects its buffer filled with "0" digits (a whole number's trailing `.0` is one of them):
        // the standard library's own callers fill it so, and the runtime entry point may leave that to its caller.
        let raw = UnsafeMutableRawPointer(buffer)
        for offset in stride(from: 0, to: bufferSize, by: 8) {
            raw.storeBytes(of: 0x3030_3030_3030_3030 as UInt64, toByteOffset: offset, as: UInt64.self)
        }
        return Int(truncatingIfNeeded: swiftFloat64ToString(buffer, UInt(bufferSize), value, false))
    }
}

/// The standard library's double formatter (an ABI-stable runtime entry point, exported on every platform).
@_silgen_name("swift_float64ToString")
private func swiftFloat64ToString(
    _ buffer: UnsafeMutablePointer<UInt8>, _ bufferLength: UInt, _ value: Double, _ debug: Bool
) -> UInt64
