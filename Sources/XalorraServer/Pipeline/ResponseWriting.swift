import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

extension HTTPOutput {
    /// The Hummingbird response: `headers` (the pipeline's) with the output's content type and `nosniff`, and its
    /// body, whole or streamed. A stream holds `lease` until it ends, and ends when the connection closes (`closed`).
    /// - Parameter headOnly: the answer to a `HEAD` (never of an event stream, see ``RouteMatching``): the same
    ///   status and fields, a whole body's `Content-Length` too, and no body. A streamed body (an export) is
    ///   cancelled at once, so that whatever produces it stops.
    func response(
        headers: HTTPFields, lease: OpenStreams.Lease?, closed: EventLoopFuture<Void>, headOnly: Bool = false
    ) -> Response {
        var headers = headers
        // Appended, not set: no stage sets either, and setting would search the fields first.
        if !contentType.isEmpty { headers.append(HTTPField(name: .contentType, value: contentType)) }
        headers.append(Self.nosniff)
        for field in fields {
            if let name = HTTPField.Name(field.name) { headers.append(HTTPField(name: name, value: field.value)) }
        }
        let status = HTTPResponse.Status(code: status)
        if headOnly {
            if let stream {
                // Iterating in a cancelled task cancels the stream: its `onTermination` stops the producer.
                Task { for await _ in stream {} }.cancel()
            } else if download == nil {
                // A download reads nothing until pulled: for a HEAD it is never pulled.
                headers.append(HTTPField(name: .contentLength, value: "\(body.count)"))
            }
            return Response(status: status, headers: headers, body: ResponseBody())
        }
        if let download {
            // Pulled as the socket takes it: a slow client slows the producer instead of being cut off (the relay
            // below suits live events, which a client that falls behind may miss; a download may not lose a byte).
            // A closed connection makes the write throw, which ends the stream and its reads.
            return Response(
                status: status, headers: headers,
                body: ResponseBody { writer in
                    defer { lease?.release() }
                    for try await chunk in download { try await writer.write(ByteBuffer(bytes: chunk)) }
                    try await writer.finish(nil)
                })
        }
        guard let stream else {
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        headers[.cacheControl] = "no-store"
        let first = body
        return Response(
            status: status, headers: headers,
            body: ResponseBody { writer in
                defer { lease?.release() }
                try await writer.write(ByteBuffer(bytes: first))
                let relay = Self.relay(stream, until: closed)
                for await chunk in relay.chunks {
                    relay.pending.subtract(chunk.count)
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                try await writer.finish(nil)
            })
    }

    /// Every response has it (see ``RequestHeadTimeout/Tracker``, which adds it to those that do not come from here).
    private static let nosniff = HTTPField(name: .xContentTypeOptions, value: "nosniff")

    /// The most bytes a stream may hold for a client that reads slower than events come; past it the stream ends (a
    /// client that falls this far behind reconnects). Without it, a client that stops reading while a user predicts
    /// large rows would have the server buffer without bound.
    static let maxPendingStreamBytes = 4 << 20

    /// Bytes relayed but not yet taken by the response writer.
    final class PendingBytes: Sendable {
        private let value = Atomic<Int>(0)

        /// Adds `count`; the new total.
        func add(_ count: Int) -> Int { value.wrappingAdd(count, ordering: .relaxed).newValue }

        /// Takes `count` away.
        func subtract(_ count: Int) { value.wrappingSubtract(count, ordering: .relaxed) }
    }

    /// `stream`'s chunks until it ends, the connection closes, or more than ``maxPendingStreamBytes`` wait for the
    /// writer (the reader of `chunks` subtracts each chunk it takes from `pending`). Without the relay, a stream whose
    /// client went away would keep its subscription (and its place, see ``OpenStreams``) until its next write failed.
    static func relay(
        _ stream: AsyncStream<[UInt8]>, until closed: EventLoopFuture<Void>
    ) -> (chunks: AsyncStream<[UInt8]>, pending: PendingBytes) {
        let pending = PendingBytes()
        let (relay, sink) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .unbounded)
        let pump = Task {
            for await chunk in stream {
                guard pending.add(chunk.count) <= maxPendingStreamBytes else { break }
                if case .terminated = sink.yield(chunk) { break }
            }
            sink.finish()
        }
        sink.onTermination = { _ in pump.cancel() }
        closed.whenComplete { _ in sink.finish() }
        return (relay, pending)
    }
}
