import AsyncHTTPClient
import NIOCore
import XalorraCore

extension RemoteAPI {
    public func chatModels() async throws(XalorraError) -> [ChatModel] {
        let request = makeRequest(.chatModels, query: [], body: nil)
        let (bytes, _) = try await openAIExchange(request, deadline: .now() + timeout)
        let json = try Self.parsed(bytes)
        return try json.list("data").map { item throws(XalorraError) in try ChatModel(json: item) }
    }

    /// Always asks for the streamed answer with its usage, so that the reply's text arrives as the server produces
    /// it; the chunks are put back together into the `chat.completion` the server stored.
    public func chatCompletion(
        _ request: ChatCompletionRequest, onDelta: @escaping @Sendable (ChatCompletionDelta) async -> Void
    ) async throws(XalorraError) -> ChatCompletion {
        let streamed = ChatCompletionRequest(
            model: request.model, messages: request.messages, stream: true, includeUsage: true,
            options: request.options)
        let (_, response) = try await openAIExchange(
            makeRequest(.chatCompletions, query: [], body: streamed.json), deadline: .distantFuture, collect: false)
        guard let response else { throw XalorraError(.internal, "no answer from \(baseURL)") }
        var reader = ServerSentEventReader()
        var first: JSONValue?
        var conversation: Int64?
        var text = ""
        var finishReason = "stop"
        var usage: ChatUsage?
        do {
            for try await buffer in response.body {
                for event in try reader.feed(buffer.readableBytesView) where event.event == "message" {
                    if event.data == "[DONE]" {
                        guard let first, let conversation else {
                            throw JSONValue.unexpectedResponse("no chunk before [DONE]")
                        }
                        return ChatCompletion(
                            id: try first.text("id"), created: try first.integer("created"),
                            model: try first.text("model"), content: text, finishReason: finishReason, usage: usage,
                            conversationID: conversation)
                    }
                    let chunk = try Self.parsed(Array(event.data.utf8))
                    if let error = chunk["error"], error != .null { throw XalorraError(openAI: chunk, status: 0) }
                    if first == nil { first = chunk }
                    if case .string(let id)? = chunk["conversation_id"] {
                        conversation = try ChatID.parseConversation(id)
                    }
                    if let members = chunk["usage"], members != .null { usage = try ChatUsage(json: members) }
                    guard case .array(let choices)? = chunk["choices"], let choice = choices.first else { continue }
                    if case .string(let reason)? = choice["finish_reason"] { finishReason = reason }
                    guard case .string(let piece)? = choice["delta"]?["content"], !piece.isEmpty,
                        let conversation
                    else { continue }
                    text += piece
                    await onDelta(ChatCompletionDelta(
                        id: try chunk.text("id"), created: try chunk.integer("created"), model: try chunk.text("model"),
                        conversationID: conversation, content: piece))
                }
            }
        } catch let error as XalorraError {
            throw error
        } catch {
            throw XalorraError(.internal, "the reply from \(baseURL) broke off: \(error)")
        }
        throw XalorraError(.internal, "the reply from \(baseURL) ended before [DONE]")
    }

    /// Sends a `/v1` request; an answer that is not 200 is read as the OpenAI error object. With `collect`, the
    /// body's bytes; without, the response to read on.
    private func openAIExchange(
        _ request: HTTPClientRequest, deadline: NIODeadline, collect: Bool = true
    ) async throws(XalorraError) -> (bytes: [UInt8], response: HTTPClientResponse?) {
        let response = try await execute(request, deadline: deadline)
        let status = Int(response.status.code)
        guard status == 200 else {
            let bytes = (try? await response.body.collect(upTo: 1 << 20)).map { Array($0.readableBytesView) } ?? []
            throw XalorraError(openAI: (try? JSONParser.parse(bytes)) ?? .null, status: status)
        }
        guard collect else { return ([], response) }
        do {
            return (Array(try await response.body.collect(upTo: 16 << 20).readableBytesView), nil)
        } catch {
            throw XalorraError(.internal, "the response from \(baseURL) broke off: \(error)")
        }
    }

    private static func parsed(_ bytes: [UInt8]) throws(XalorraError) -> JSONValue {
        guard let json = try? JSONParser.parse(bytes) else {
            throw JSONValue.unexpectedResponse("the body is not JSON")
        }
        return json
    }
}
