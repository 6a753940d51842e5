import HTTPTypes
import XalorraCore

/// The pipeline's last stage: the route's controller, with the caller's API. A streaming route first takes one of
/// the caller's stream places (429 past ``OpenStreams/limit``), held until its response ends.
struct Dispatch: Sendable {
    let handlers: [Endpoint: RouteHandler]
    let api: LocalAPI
    let streams: OpenStreams
    /// Most rows one HTTP prediction call may carry (`XALORRA_MAX_BATCH_ROWS`).
    let maxBatchRows: Int

    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    static let ifNoneMatch = HTTPField.Name("If-None-Match")!
    static let inferenceHeaderLength = HTTPField.Name("Inference-Header-Content-Length")!

    /// Calls the handler of `exchange`'s route with `body`.
    /// - Parameter lease: set to the stream's place when the route streams (released when the response ends).
    func run(
        _ exchange: Exchange, body: [UInt8], lease: inout OpenStreams.Lease?
    ) async throws(XalorraError) -> HTTPOutput {
        guard let route = exchange.route, let handler = handlers[route.endpoint] else {
            throw XalorraError(.internal, "no handler for \(exchange.routeKey)")
        }
        if route.transport == .eventStream, let caller = exchange.caller {
            guard let place = streams.acquire(OpenStreams.key(caller)) else { throw streams.refusal }
            lease = place
        }
        let input = HTTPInput(
            route: route, parameters: exchange.parameters, query: exchange.query, body: body, caller: exchange.caller,
            local: exchange.api(api), lastEventID: exchange.head.headerFields[Self.lastEventID],
            ifNoneMatch: exchange.head.headerFields[Self.ifNoneMatch],
            inferenceHeaderLength: exchange.head.headerFields[Self.inferenceHeaderLength], maxBatchRows: maxBatchRows)
        do {
            return try await handler(input)
        } catch let error as XalorraError {
            throw error
        } catch {
            throw XalorraError(.internal, "\(route.key): \(error)")
        }
    }
}
