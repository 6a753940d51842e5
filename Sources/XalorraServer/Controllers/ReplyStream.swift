import XalorraCore

/// A reply streamed as Server-Sent Events (`POST /chat/message` and `POST /v1/chat/completions` with
/// `"stream": true`): the answer waits for the reply's first event, so that a failure before it (the AI is down,
/// the model unknown) is the route's ordinary error response; a failure after it is one last event of the
/// route's own error form, and the stream ends.
enum ReplyStream {
    /// Runs `produce`, which hands each event to `emit` as it is made; a string event is written as it is (OpenAI's
    /// `[DONE]`), any other as JSON.
    /// - Parameter failureEvent: the event a failure after the first event becomes (an internal error never says
    ///   more than that it happened).
    static func events(
        failureEvent: @escaping @Sendable (XalorraError) -> JSONValue,
        produce: @escaping @Sendable (_ emit: @escaping @Sendable (JSONValue) -> Void) async throws -> Void
    ) async throws(XalorraError) -> HTTPOutput {
        // Events are written to bytes as they are made: a reply of many small pieces waits for the client as a few
        // hundred bytes each, not as JSON trees.
        let (chunks, output) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .unbounded)
        let (outcomes, outcome) = AsyncStream.makeStream(of: XalorraError?.self, bufferingPolicy: .unbounded)
        @Sendable func send(_ event: JSONValue) {
            var bytes = Array("data: ".utf8)
            if case .string(let marker) = event {
                bytes += Array(marker.utf8)
            } else {
                JSONWriter.write(event, into: &bytes)
            }
            bytes += Array("\n\n".utf8)
            output.yield(bytes)
        }
        Task {
            do {
                try await produce { event in
                    // The first event tells the handler to answer 200; later ones find `outcome` finished.
                    outcome.yield(nil)
                    outcome.finish()
                    send(event)
                }
                outcome.yield(nil)
            } catch {
                let failure = error as? XalorraError ?? XalorraError(.internal, "\(error)")
                outcome.yield(failure)
                send(failureEvent(failure.code == .internal ? XalorraError(.internal, "Internal server error") : failure))
            }
            output.finish()
            outcome.finish()
        }
        // Wait for the first sign of life: a failure before any event is an ordinary error response.
        var first: XalorraError??
        for await next in outcomes {
            first = next
            break
        }
        if case .some(.some(let error)) = first { throw error }
        return .eventStream(chunks)
    }
}
