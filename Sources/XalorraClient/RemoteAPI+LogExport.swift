import AsyncHTTPClient
import NIOCore
import XalorraCore

extension RemoteAPI {
    /// `GET /logs/export`: the server's bytes as they arrive, pulled by the consumer (the HTTP client stops reading
    /// the socket while the consumer is busy, so a slow pipe never makes the download pile up in memory). A refusal
    /// is thrown before the first byte, as its error envelope; a transfer cut short ends the stream with an error,
    /// never as a clean end.
    public func exportLogs(
        _ request: LogExportRequest
    ) async throws(XalorraError) -> AsyncThrowingStream<[UInt8], any Error> {
        var http = makeRequest(.logExport, query: request.parameters, body: nil)
        http.headers.replaceOrAdd(name: "Accept", value: "\(request.format.contentType), application/json")
        // No deadline for the whole transfer: a large log takes as long as it takes; the client's read timeout
        // still ends a server that stops sending.
        let response = try await execute(http, deadline: .distantFuture)
        guard response.status.code == 200 else {
            throw await Self.failure(response, format: Endpoint.logExport.route.errorFormat)
        }
        let body = ExportBody(response.body, from: baseURL)
        return AsyncThrowingStream { () async throws(XalorraError) -> [UInt8]? in try await body.next() }
    }
}

/// The body of an export response, read one buffer per call: the iterator stays inside this actor, as an
/// `AsyncThrowingStream`'s producer cannot hold it directly (it is not `Sendable`).
private actor ExportBody {
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private let baseURL: String

    init(_ body: HTTPClientResponse.Body, from baseURL: String) {
        self.iterator = body.makeAsyncIterator()
        self.baseURL = baseURL
    }

    /// The next buffer's bytes, or `nil` at the end of the body.
    func next() async throws(XalorraError) -> [UInt8]? {
        do {
            // An actor's stored iterator cannot be advanced in place across an await: take it out and put it back.
            var current = iterator
            defer { iterator = current }
            guard let buffer = try await current.next(isolation: self) else { return nil }
            return Array(buffer.readableBytesView)
        } catch {
            throw XalorraError(.internal, "the export from \(baseURL) broke off: \(error)")
        }
    }
}
