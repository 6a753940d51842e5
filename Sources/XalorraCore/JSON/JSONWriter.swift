public import XalorraML

/// Serialises ``JSONValue`` compactly (`{"a":1}`), or with two-space indentation for people.
public enum JSONWriter {
    /// The compact text of `value`.
    public static func compact(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(value, into: &out, indent: nil, depth: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// The indented text of `value`, for terminals.
    public static func pretty(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        write(value, into: &out, indent: 2, depth: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the compact text of `value` to `out`.
    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        write(value, into: &out, indent: nil, depth: 0)
    }

    /// Appends `[1,2,3]` for numbers, the form the API uses for features.
    public static func write(numbers: some Collection<Number>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        var first = true
        for number in numbers {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            write(number: number, into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Appends `[1,null,3]` for a row of cells, `null` where a value is missing: how every JSON form of a logged row
    /// (the store's column, `GET /logs`, exports, streams) keeps a gap in its place.
    public static func write(cells: some Collection<Number?>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        var first = true
        for cell in cells {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            if let cell { write(number: cell, into: &out) } else { out.append(contentsOf: "null".utf8) }
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Appends a number without going through `String`: integers digit by digit, doubles by ``appendDouble(_:into:)``.
    @inlinable
    public static func write(number: Number, into out: inout [UInt8]) {
        switch number {
        case .int(let value): appendInteger(value, into: &out)
        case .double(let value): appendDouble(value, into: &out)
        }
    }

    /// Appends `value` exactly as `Number.format` (`Double.description`, the shortest text that reads back as the same
    /// double) writes it, without making a `String`: the standard library's formatter writes the ASCII text straight
    /// into `out`'s spare capacity. A non-finite value (never in a stored row) still goes through `description`.
    public static func appendDouble(_ value: Double, into out: inout [UInt8]) {
        guard value.isFinite else {
            out.append(contentsOf: Number.format(value).utf8)
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: DoubleText.bufferSize) { buffer in
            let count = DoubleText.write(value, into: buffer.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<count]))
        }
    }

    /// Appends the decimal digits of `value`, built right to left in a stack buffer (no allocation).
    @inlinable
    public static func appendInteger(_ value: Int64, into out: inout [UInt8]) {
        var magnitude = value.magnitude
        if value < 0 { out.append(UInt8(ascii: "-")) }
        if magnitude < 10 {
            out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var index = 20
            repeat {
                index -= 1
                digits[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[index...]))
        }
    }

    /// Appends `text` as a JSON string with the escapes RFC 8259 requires, and `\uXXXX` for the other characters a
    /// terminal obeys rather than shows (DEL, the C1 controls, the bidirectional overrides and isolates) and the line
    /// separators JavaScript does not take in a string (U+2028, U+2029): a body shown by `curl` on a terminal cannot
    /// drive it, and the CLI's `--json` is the body byte for byte.
    public static func write(string text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let utf8 = text.utf8
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20, 0x7F: appendEscape(UInt32(byte), into: &out)
            case 0xC2, 0xE2:
                // U+0080-U+009F are C2 80-C2 9F; U+2028-U+202E and U+2066-U+2069 are E2 80 A8-AE and E2 81 A6-A9.
                let scalar = text.unicodeScalars[index]
                switch scalar.value {
                case 0x80...0x9F, 0x2028...0x202E, 0x2066...0x2069:
                    appendEscape(scalar.value, into: &out)
                    index = utf8.index(index, offsetBy: scalar.utf8.count)
                    continue
                default: out.append(byte)
                }
            default: out.append(byte)
            }
            index = utf8.index(after: index)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `\uXXXX` for a scalar of the Basic Multilingual Plane.
    private static func appendEscape(_ value: UInt32, into out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(contentsOf: [0x5C, UInt8(ascii: "u")])
        for shift in stride(from: 12, through: 0, by: -4) { out.append(hex[Int(value >> UInt32(shift) & 15)]) }
    }

    private static func write(_ value: JSONValue, into out: inout [UInt8], indent: Int?, depth: Int) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): write(number: number, into: &out)
        case .string(let text): write(string: text, into: &out)
        case .array(let items):
            if items.allSatisfy({ if case .number = $0 { true } else { $0 == .null } }) {
                // Feature vectors (a missing value is `null`) stay on one line even when indented.
                out.append(UInt8(ascii: "["))
                for (index, item) in items.enumerated() {
                    if index > 0 { out.append(contentsOf: indent == nil ? [UInt8(ascii: ",")] : Array(", ".utf8)) }
                    write(item, into: &out, indent: indent, depth: depth + 1)
                }
                out.append(UInt8(ascii: "]"))
                return
            }
            container(open: "[", close: "]", count: items.count, into: &out, indent: indent, depth: depth) { index, out in
                write(items[index], into: &out, indent: indent, depth: depth + 1)
            }
        case .object(let members):
            container(open: "{", close: "}", count: members.count, into: &out, indent: indent, depth: depth) { index, out in
                write(string: members[index].0, into: &out)
                out.append(contentsOf: indent == nil ? [UInt8(ascii: ":")] : Array(": ".utf8))
                write(members[index].1, into: &out, indent: indent, depth: depth + 1)
            }
        }
    }

    private static func container(
        open: Unicode.Scalar, close: Unicode.Scalar, count: Int, into out: inout [UInt8], indent: Int?, depth: Int,
        element: (Int, inout [UInt8]) -> Void
    ) {
        out.append(UInt8(ascii: open))
        for index in 0..<count {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            if let indent {
                out.append(0x0A)
                out.append(contentsOf: repeatElement(0x20, count: indent * (depth + 1)))
            }
            element(index, &out)
        }
        if let indent, count > 0 {
            out.append(0x0A)
            out.append(contentsOf: repeatElement(0x20, count: indent * depth))
        }
        out.append(UInt8(ascii: close))
    }
}
