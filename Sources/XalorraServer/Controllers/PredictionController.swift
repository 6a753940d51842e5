import HummingbirdWebSocket
import XalorraCore
import XalorraML

/// The Xalorra seed's `/whoami`, `/echo` and `/predict/{model}`, and `GET /logs`.
enum PredictionController {
    static let handlers: [String: RouteHandler] = [
        "GET /whoami": { input in
            let caller = try input.requireCaller()
            return .json(.object([
                ("user_id", .string(caller.user)), ("role", .string(caller.role.rawValue)),
                ("tenant", .string(caller.tenant)),
            ]))
        },
        "POST /echo": { input in
            _ = try input.json()
            return .raw(input.body, contentType: "application/json")
        },
        "POST /predict/{model}": predict,
        "GET /logs": { input in
            let query = try logQuery(input.query)
            return .json(try await input.api.logs(query).json)
        },
        "GET /logs/stream": stream,
        "GET /ws/predictions": { input in
            // Upgrade requests never reach here (see `XalorraResponder.upgrade`); this answers plain GETs.
            _ = try liveQuery(input.query, caller: input.caller)
            throw XalorraError(
                .badRequest, "GET /ws/predictions is a WebSocket: send `Connection: Upgrade` and `Upgrade: websocket`")
        },
    ]

    /// `{"features": [...]}` answers the seed's body; `{"instances": [[...], ...]}` a batch, all logged together.
    static func predict(_ input: HTTPInput) async throws(XalorraError) -> HTTPOutput {
        let model = input.parameter("model")
        switch try PredictRequest(json: try input.json(), maxRows: input.api.settings.maxBatchRows) {
        case .batch(let rows):
            let answer = try await input.api.predictBatch(model: model, rows: rows)
            return .json(.object([
                ("model", .string(answer.model)), ("version", .string(answer.version)),
                ("predictions", .numbers(answer.predictions)),
            ]))
        case .single(let features):
            return .json(try await input.api.predict(model: model, features: features).json)
        }
    }

    /// Server-Sent Events: one `data:` event per prediction as it commits (the JSON of a `GET /logs` item), and a
    /// comment every 15 s so that proxies keep the connection and a gone client is noticed.
    static func stream(_ input: HTTPInput) async throws(XalorraError) -> HTTPOutput {
        let records = input.api.followLogs(try liveQuery(input.query, caller: input.caller), after: nil)
        let (chunks, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingOldest(1024))
        let pump = Task {
            do {
                for try await record in records {
                    var event = Array("data: ".utf8)
                    JSONWriter.write(record.json, into: &event)
                    event += Array("\n\n".utf8)
                    if case .dropped = continuation.yield(event) { break }
                }
            } catch {}
            continuation.finish()
        }
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(15))
                if case .terminated = continuation.yield(Array(": keep-alive\n\n".utf8)) { break }
            }
        }
        continuation.onTermination = { _ in
            pump.cancel()
            heartbeat.cancel()
        }
        return .eventStream(chunks)
    }

    /// The filters of a live feed (`model`, `tenant`), refused before the stream opens when the tenant is not the
    /// caller's: once the stream is open, an error could only end it silently.
    static func liveQuery(_ query: [String: String], caller: Caller?) throws(XalorraError) -> LogQuery {
        let live = try logQuery(query)
        if let caller { _ = try caller.tenantScope(requested: live.tenant) }
        return live
    }

    /// `model`, `since`, `until` (ISO time or `15m`-style ago), `limit`, `offset`, `tenant`.
    static func logQuery(_ query: [String: String]) throws(XalorraError) -> LogQuery {
        func time(_ name: String) throws(XalorraError) -> Timestamp? {
            guard let text = query[name] else { return nil }
            guard let time = Timestamp(isoOrAgo: text) else {
                throw XalorraError.invalid(name, "'\(text)' is not \(Timestamp.isoOrAgoExpectation)")
            }
            return time
        }
        return try LogQuery(
            model: query["model"], since: time("since"), until: time("until"), tenant: query["tenant"],
            limit: query.integer("limit", default: 20), offset: query.integer("offset", default: 0))
    }
}

extension PredictionController {
    /// The data handler of an upgraded `GET /ws/predictions`: one text message per committed prediction (the JSON of
    /// a `GET /logs` item), until the client closes, the subscriber falls behind, or the server shuts down.
    static func socket(
        _ api: LocalAPI, query: LogQuery
    ) -> WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context> {
        { inbound, outbound, _ in
            let records = api.followLogs(query, after: nil)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // The client sends nothing the protocol uses; reading answers its pings and notices its close.
                    for try await _ in inbound {}
                }
                group.addTask {
                    for try await record in records {
                        var bytes: [UInt8] = []
                        JSONWriter.write(record.json, into: &bytes)
                        try await outbound.write(.text(String(decoding: bytes, as: UTF8.self)))
                    }
                    // The feed ends a subscription when the server shuts down or the subscriber fell behind.
                    try await outbound.close(.goingAway, reason: "subscription ended")
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }
}
