import HTTPTypes
import NIOCore
import NIOHTTP1
import XalorraCore

/// A whole HTTP/1.1 response as bytes, for answers written straight onto a connection, below the HTTP codec: a
/// malformed head, a body that stopped arriving (``RequestHeadTimeout``), a refused WebSocket upgrade. It carries
/// the fields every response carries (`nosniff`, the rate limits given in `headers`) and closes the connection.
struct RawResponse: Sendable {
    let status: Int
    let headers: HTTPFields
    let output: HTTPOutput

    /// The error envelope (or the inference protocol's form) of `error`, with `headers`.
    /// - Parameter status: the status, when not the error's own (408 for a body that stopped arriving).
    init(_ error: XalorraError, status: Int? = nil, format: Route.ErrorFormat = .envelope, headers: HTTPFields) {
        output = .failure(error, format: format)
        self.status = status ?? output.status
        self.headers = headers
    }

    /// The response's bytes.
    func bytes(allocator: ByteBufferAllocator) -> ByteBuffer {
        let reason = HTTPResponseStatus(statusCode: status).reasonPhrase
        var head = "HTTP/1.1 \(status) \(reason)\r\n"
        for field in headers where !Self.written.contains(field.name) {
            head += "\(field.name.rawName): \(field.value)\r\n"
        }
        head += "Content-Type: \(output.contentType)\r\nContent-Length: \(output.body.count)\r\n"
        head += "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n"
        var buffer = allocator.buffer(capacity: head.utf8.count + output.body.count)
        buffer.writeString(head)
        buffer.writeBytes(output.body)
        return buffer
    }

    /// Fields the response sets itself.
    private static let written: Set<HTTPField.Name> = [
        .contentType, .contentLength, .xContentTypeOptions, .connection, .transferEncoding,
    ]
}
