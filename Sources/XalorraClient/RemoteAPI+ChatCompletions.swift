import AsyncHTTPClient
import NIOCore
import XalorraCore

extension RemoteAPI {
    public func chatModels() async throws(XalorraError) -> [ChatModel] {
        let json = try Self.parsed(try await exchange(.chatModels, []).bytes)
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
        let response = try await execute(
            makeRequest(.chatCompletions, query: [], body: streamed.json), deadline: .distantFuture)
        guard response.status.code == 200 else {
            throw await Self.failure(response, format: Endpoint.chatCompletions.route.errorFormat)
        }
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

    private static func parsed(_ bytes: [UInt8]) throws(XalorraError) -> JSONValue {
        guard let json = try? JSONParser.parse(bytes) else {
            throw JSONValue.unexpectedResponse("the body is not JSON")
        }
        return json
    }
}
