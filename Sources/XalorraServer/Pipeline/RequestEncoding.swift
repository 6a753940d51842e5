import CompressNIO
import HTTPTypes
import NIOCore
import XalorraCore

/// A request body's `Content-Encoding`: none, `gzip` (or `x-gzip`) or `deflate` (the zlib format, as RFC 9110 says
/// and Python's `zlib.compress` writes; a raw deflate stream, which some clients send under that name, is taken
/// too). Anything else, or encodings stacked on each other, is a 400 that says what is accepted. Decoding stops with
/// a 413 as soon as the output would pass the body limit, so a small compressed body cannot make the server allocate
/// more than the limit (a decompression bomb).
enum RequestEncoding: Sendable, Equatable {
    case identity, gzip, deflate

    /// The output of one inflate call: large enough that the calls cost little, small enough to be a bounded copy.
    static let window = 64 << 10

    /// The encoding `fields` name.
    init(_ fields: HTTPFields) throws(XalorraError) {
        // Most requests name none: no lists made for them.
        guard fields[.contentEncoding] != nil else {
            self = .identity
            return
        }
        let codings = fields[values: .contentEncoding].flatMap { $0.split(separator: ",") }
            .map { String($0.filter { $0 != " " && $0 != "\t" }).lowercased() }
            .filter { !$0.isEmpty && $0 != "identity" }
        guard let coding = codings.first else {
            self = .identity
            return
        }
        guard codings.count == 1 else {
            throw XalorraError(
                .badRequest,
                "Content-Encoding '\(codings.joined(separator: ", ").prefix(100))' stacks encodings; send one of gzip "
                    + "or deflate")
        }
        switch coding {
        case "gzip", "x-gzip": self = .gzip
        case "deflate": self = .deflate
        default:
            throw XalorraError(
                .badRequest, "Content-Encoding '\(coding.prefix(40))' is not supported; send gzip, deflate or identity")
        }
    }

    /// `body` decoded, at most `limit` bytes of it (a 413 past that); a corrupt or truncated stream, or bytes after
    /// its end, are a 400.
    func decode(_ body: ByteBuffer, limit: Int) throws(XalorraError) -> [UInt8] {
        guard self != .identity, body.readableBytes > 0 else { return Array(body.readableBytesView) }
        let name = self == .gzip ? "gzip" : "deflate"
        let broken = { (why: String) in XalorraError(.badRequest, "The request body is not valid \(name) data: \(why)") }
        var input = body
        let decompressor: ZlibDecompressor
        do {
            decompressor = try ZlibDecompressor(algorithm: algorithm(body))
        } catch {
            throw XalorraError(.internal, "zlib: \(error)")
        }
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, body.readableBytes * 4))
        var window = ByteBuffer()
        window.reserveCapacity(Self.window)
        while true {
            window.clear()
            let before = input.readableBytes
            var full = false
            do {
                try decompressor.inflate(from: &input, to: &window)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                full = true
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                throw broken("the stream ends early")
            } catch let error as CompressNIOError where error == .corruptData {
                throw broken("the stream is corrupt")
            } catch {
                throw broken("\(error)")
            }
            let count = window.readableBytes
            guard output.count + count <= limit else {
                throw XalorraError(
                    .payloadTooLarge, "The request body decodes (Content-Encoding: \(name)) to more than \(limit) bytes")
            }
            if output.capacity < output.count + count {
                output.reserveCapacity(min(limit, max(output.capacity * 2, output.count + count)))
            }
            output.append(contentsOf: window.readableBytesView)
            guard !full else { continue }
            // No error and room left: either the stream ended, or all input was taken and more was expected. Bytes
            // left over mean the former, after which nothing may follow; a call that yields nothing and no error
            // means the stream had ended (zlib answers "end" again; an unfinished one answers "no progress", above).
            guard input.readableBytes == 0 else { throw broken("\(input.readableBytes) bytes follow the end of the stream") }
            if count == 0 && before == 0 { return output }
        }
    }

    /// The zlib format for `gzip`; for `deflate` the zlib format when the body starts with its header, raw deflate
    /// otherwise.
    private func algorithm(_ body: ByteBuffer) -> ZlibAlgorithm {
        guard self == .deflate else { return .gzip }
        guard let first = body.getInteger(at: body.readerIndex, as: UInt8.self),
            let second = body.getInteger(at: body.readerIndex + 1, as: UInt8.self)
        else { return .deflate }
        let zlibHeader = first & 0x0F == 8 && (UInt16(first) << 8 | UInt16(second)) % 31 == 0
        return zlibHeader ? .zlib : .deflate
    }
}
