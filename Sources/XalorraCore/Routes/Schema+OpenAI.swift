/// The OpenAI API's bodies, as far as `/v1/*` serves them (the OpenAI API reference's `CreateChatCompletionRequest`,
/// `CreateChatCompletionResponse`, `ListModelsResponse`, `ErrorResponse`).
extension Schema {
    /// A prompt message: one of the supported roles, content as text or text parts.
    static let chatCompletionMessage: JSONValue = object([
        ("role", oneOf(ChatCompletionRequest.Role.allCases)),
        ("content", .object([("oneOf", .array([
            ChatCompletionRequest.contentRule.schema,
            array(object(
                [("type", .object([("enum", .array(["text"]))])), ("text", ChatCompletionRequest.contentRule.schema)],
                required: ["type", "text"])),
        ]))])),
        ("name", string),
    ], required: ["role", "content"])

    /// `POST /v1/chat/completions`'s body; sampling options are passed to an upstream, other members ignored.
    public static let chatCompletionRequest: JSONValue = object([
        ("model", nonEmpty),
        ("messages", .object([
            ("type", "array"), ("items", chatCompletionMessage), ("minItems", 1),
            // At least one user message.
            ("contains", object([("role", .object([("const", "user")]))], required: ["role"])),
        ])),
        ("stream", boolean),
        ("stream_options", object([("include_usage", boolean)], required: [])),
        ("n", .object([("enum", .array([1]))])),
        ("temperature", number), ("top_p", number), ("max_tokens", integer), ("max_completion_tokens", integer),
        ("seed", integer), ("presence_penalty", number), ("frequency_penalty", number),
        ("stop", .object([("oneOf", .array([string, array(string)]))])),
    ], required: ["model", "messages"], examples: [
        #"{"model": "xalorra-builtin", "messages": [{"role": "user", "content": "help"}]}"#,
    ])

    /// Token counts, when the responder has them.
    static let chatUsage: JSONValue = object(
        [("prompt_tokens", integer), ("completion_tokens", integer), ("total_tokens", integer)],
        required: ["prompt_tokens", "completion_tokens", "total_tokens"])

    /// The `chat.completion` object (a streamed answer is `text/event-stream` of `chat.completion.chunk`s, then
    /// `data: [DONE]`).
    public static let chatCompletion: JSONValue = object([
        ("id", string), ("object", .object([("enum", .array(["chat.completion"]))])), ("created", integer),
        ("model", string),
        ("choices", array(object([
            ("index", integer),
            ("message", object([("role", string), ("content", string)], required: ["role", "content"])),
            ("finish_reason", string),
        ], required: ["index", "message", "finish_reason"]))),
        ("usage", chatUsage), ("conversation_id", string),
    ], required: ["id", "object", "created", "model", "choices"])

    /// A streamed answer's event: a `chat.completion.chunk` (the last, on `stream_options.include_usage`, with no
    /// choices and `usage`, null when unknown), or the error object when the answer fails part way; the stream ends
    /// with the literal `data: [DONE]`, which is not JSON.
    public static let chatCompletionEvent: JSONValue = .object([("oneOf", .array([
        object([
            ("id", string), ("object", .object([("enum", .array(["chat.completion.chunk"]))])), ("created", integer),
            ("model", string),
            ("choices", array(object([
                ("index", integer),
                ("delta", object([("role", string), ("content", string)], required: [])),
                ("finish_reason", .object([("type", .array(["string", "null"]))])),
            ], required: ["index", "delta", "finish_reason"]))),
            ("usage", .object([("oneOf", .array([chatUsage, .object([("type", "null")])]))])),
            ("conversation_id", string),
        ], required: ["id", "object", "created", "model", "choices"]),
        openAIError,
    ]))])

    /// A model, as `GET /v1/models` lists it.
    public static let chatModel: JSONValue = object(
        [
            ("id", string), ("object", .object([("enum", .array(["model"]))])), ("created", integer),
            ("owned_by", string),
        ],
        required: ["id", "object", "created", "owned_by"])

    /// `GET /v1/models`'s list.
    public static let chatModels: JSONValue = object(
        [("object", .object([("enum", .array(["list"]))])), ("data", array(chatModel))], required: ["object", "data"])

    /// The OpenAI error object every `/v1` failure is.
    public static let openAIError: JSONValue = object([
        ("error", object([
            ("message", string), ("type", string),
            ("param", .object([("type", .array(["string", "null"]))])),
            ("code", .object([("type", .array(["string", "null"]))])),
        ], required: ["message", "type", "param", "code"])),
    ], required: ["error"])
}
