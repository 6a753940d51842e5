public import XalorraML

/// Arrays of numbers read straight into cells while a body is parsed, instead of one ``JSONValue`` per number: the
/// rows of a batch request (`{"instances": …}`, an OIP tensor's `data`) are most of its bytes, and a tree of them cost
/// as much as reading the numbers (and several times the body's size in memory).
///
/// Only the common, valid shapes are read this way; anything else (a string among the numbers, an empty row,
/// deeper nesting, bad JSON) is left to the ordinary parser, so every refusal keeps its words and byte offset.
public struct NumberArray: Sendable {
    /// The cells, in document order; `nil` is a JSON `null`.
    public var cells: [Number?] = []
    /// Where each inner array ends in `cells` (``JSONParser/readRows(into:)``); empty for a flat read.
    public var rowEnds: [Int] = []
}

extension JSONParser {
    /// Parses `buffer` as ``parse(_:)-(UnsafeBufferPointer<UInt8>)`` does, except that `reader` reads the root
    /// object's members first (see ``MemberRead``). Whatever `reader` or this fast path does not take (a body that is
    /// no object, bad JSON) is parsed again by the ordinary parser, whose result or error is then the answer.
    /// - Returns: the tree, and whether `reader` read it (otherwise, ignore whatever it took: the ordinary parser made
    ///   the tree).
    static func parse(
        _ buffer: UnsafeBufferPointer<UInt8>, reading reader: MemberReader
    ) throws(JSONParseError) -> (value: JSONValue, read: Bool) {
        var parser = JSONParser(bytes: buffer)
        parser.skipSpace()
        if parser.position < buffer.count, buffer[parser.position] == UInt8(ascii: "{") {
            do {
                let value = try parser.object(reading: reader)
                parser.skipSpace()
                if parser.position == buffer.count { return (value, true) }
            } catch {}
        }
        return (try parse(buffer), false)
    }

    /// Reads the array at the parser's position when it is an array of numbers and of arrays of numbers (nested once,
    /// as an OIP tensor's `data` may be), appending the numbers flat to `array.cells`. `false`, with the parser and
    /// `array` as they were, for anything else.
    mutating func readNumbers(into array: inout NumberArray) -> Bool {
        let start = position
        let count = array.cells.count
        guard readList(into: &array, rows: false, depth: 0) else {
            position = start
            array.cells.removeSubrange(count...)
            return false
        }
        return true
    }

    /// Reads the array at the parser's position when it is an array of non-empty arrays of numbers and `null`s (the
    /// rows of `instances`), appending the cells to `array.cells` and each row's end to `array.rowEnds`. `false`,
    /// with the parser and `array` as they were, for anything else.
    mutating func readRows(into array: inout NumberArray) -> Bool {
        let start = position
        let (count, ends) = (array.cells.count, array.rowEnds.count)
        guard readList(into: &array, rows: true, depth: 0) else {
            position = start
            array.cells.removeSubrange(count...)
            array.rowEnds.removeSubrange(ends...)
            return false
        }
        return true
    }

    /// One array: at depth 0 its items are numbers or (nested) arrays (`rows`: only arrays); at depth 1 numbers, or
    /// also `null` in rows.
    private mutating func readList(into array: inout NumberArray, rows: Bool, depth: Int) -> Bool {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "[") else { return false }
        position += 1
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            // An empty row is refused by the ordinary path's rules; an empty list of rows or values is read.
            guard depth == 0 else { return false }
            position += 1
            return true
        }
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "[") {
                guard depth == 0, readList(into: &array, rows: rows, depth: 1) else { return false }
                if rows { array.rowEnds.append(array.cells.count) }
            } else if rows && depth == 0 {
                return false
            } else if byte == UInt8(ascii: "-") || byte &- 48 < 10 {
                guard let number = try? number() else { return false }
                array.cells.append(number)
            } else if rows, byte == UInt8(ascii: "n"), (try? literal("null")) != nil {
                array.cells.append(nil)
            } else {
                return false
            }
            skipSpace()
            guard position < bytes.count else { return false }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                skipSpace()
                continue
            }
            guard bytes[position] == UInt8(ascii: "]") else { return false }
            position += 1
            return true
        }
        return false
    }
}
