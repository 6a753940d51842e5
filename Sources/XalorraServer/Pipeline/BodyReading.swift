import Hummingbird
import NIOCore
import XalorraCore

/// The pipeline's seventh stage: reads the whole body, up to `XALORRA_MAX_BODY` (`XALORRA_MAX_UPLOAD` on the upload
/// routes), refusing more with 413: by `Content-Length` before reading, when given. It comes after every check, so
/// a refused request's body is never read (its connection closes instead, see ``RequestHeadTimeout/Tracker``).
///
/// A body sent with `Content-Encoding: gzip` or `deflate` is decoded here, for every route, and the limit applies
/// to the decoded body too (``RequestEncoding``): the sent bytes and what they decode to both stay within it.
struct BodyReading: Sendable {
    let maxBody: Int
    let maxUpload: Int

    /// The body of `request`, for a route that takes bodies up to `bodyLimit`.
    func read(_ request: Request, limit bodyLimit: Route.BodyLimit) async throws(XalorraError) -> [UInt8] {
        let limit = bodyLimit == .upload ? maxUpload : maxBody
        let tooLarge = XalorraError(.payloadTooLarge, "The request body is larger than \(limit) bytes")
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit { throw tooLarge }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw tooLarge
        } catch {
            throw XalorraError(.badRequest, "The request body could not be read")
        }
        // No body, nothing to decode: a GET that names an encoding it does not use is not refused for it.
        guard buffer.readableBytes > 0 else { return [] }
        return try RequestEncoding(request.headers).decode(buffer, limit: limit)
    }
}
