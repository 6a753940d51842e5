import HummingbirdWebSocket
import XalorraCore
import XalorraML

/// The Xalorra seed's `/whoami`, `/echo` and `/predict/{model}`, and `GET /logs`.
enum PredictionController {
    /// `GET /whoami`.
    static let whoami: RouteHandler = { input in
        let caller = try input.requireCaller()
        return .json(.object([
            ("user_id", .string(caller.user)), ("role", .string(caller.role.rawValue)),
            ("tenant", .string(caller.tenant)),
        ]))
    }

    /// `POST /echo`.
    static let echo: RouteHandler = { input in
        _ = try input.json()
        return .raw(input.body, contentType: "application/json")
    }

    /// `GET /logs`.
    static let logs: RouteHandler = { input in
        let query = try logQuery(input.query)
        return .json(try await input.api.logs(query).json)
    }

    /// `GET /ws/predictions`.
    static let logSocket: RouteHandler = { input in
        // Upgrade requests never reach here (see `XalorraResponder.upgrade`); this answers plain GETs.
        _ = try liveQuery(input.query, caller: input.caller)
        throw XalorraError(
            .badRequest, "GET /ws/predictions is a WebSocket: send `Connection: Upgrade` and `Upgrade: websocket`")
    }

    /// `POST /predict/{model}`: the body read as a ``PredictRequest``; one row answers the seed's body, a batch (with
    /// its column names, when given) is predicted and logged together. `"explain": true` adds each row's
    /// contributions (``ExplainedPrediction``).
    static func predict(_ input: HTTPInput) async throws(XalorraError) -> HTTPOutput {
        let model = input.parameter("model")
        let (request, explain) = try PredictRequest.decode(body: input.body, maxRows: input.maxBatchRows)
        if explain {
            return .json(try await input.api.predictExplained(model: model, request: request).json)
        }
        switch request {
        case .batch(let rows):
            return .json(try await input.api.predictBatch(model: model, rows: rows).json)
        case .single(let features):
            return .json(try await input.api.predict(model: model, features: features).json)
        }
    }

    /// Server-Sent Events: one event per prediction as it commits, `id:` its log id and `data:` the JSON of a
    /// `GET /logs` item; a client that reconnects with `Last-Event-ID` (or `?after=ID`) first gets what it missed. A
    /// comment every 15 s so that proxies keep the connection and a gone client is noticed. When the subscriber
    /// loses access (see ``liveEvents(_:query:after:caller:route:)``) the last event is `event: error` with the error
    /// envelope as its data, and the response ends.
    static func logStream(_ input: HTTPInput) async throws(XalorraError) -> HTTPOutput {
        let events = liveEvents(
            input.local, query: try liveQuery(input.query, caller: input.caller),
            after: try resumePoint(input.query, lastEventID: input.lastEventID), caller: input.caller,
            route: "/logs/stream")
        let (chunks, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingOldest(1024))
        let pump = Task {
            for await event in events {
                var bytes: [UInt8]
                switch event {
                case .record(let record):
                    bytes = Array("id: \(record.id)\ndata: ".utf8)
                    JSONWriter.write(record.json, into: &bytes)
                case .revoked(let reason):
                    bytes = Array("event: error\ndata: ".utf8)
                    JSONWriter.write(Envelope.failure(reason), into: &bytes)
                }
                bytes += Array("\n\n".utf8)
                if case .dropped = continuation.yield(bytes) { break }
            }
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

    /// What a live feed sends: a committed prediction, or, last, why the subscriber may no longer receive them.
    enum LiveEvent: Sendable {
        case record(PredictionRecord)
        case revoked(XalorraError)
    }

    /// How often a live subscriber's access is checked again (besides exactly at its token's expiry).
    static let accessRecheckInterval = Duration.milliseconds(500)

    /// The committed predictions matching `query` for `api`'s caller, ending when the server shuts down, the
    /// subscriber falls behind, or the subscriber loses access: then the last event is `.revoked` with the reason,
    /// counted and logged by the feed. Access is checked every ``accessRecheckInterval`` with the check every
    /// request gets (account disabled, deleted or replaced, role or tenant changed) and at the token's `exp`
    /// exactly; no prediction is sent once the token has expired.
    static func liveEvents(
        _ api: LocalAPI, query: LogQuery, after: Int64?, caller: Caller?, route: String
    ) -> AsyncStream<LiveEvent> {
        let records = api.followLogs(query, after: after)
        let (events, continuation) = AsyncStream.makeStream(of: LiveEvent.self, bufferingPolicy: .bufferingOldest(1024))
        let expiry = caller?.expires.map { Timestamp(seconds: $0) }
        let pump = Task {
            do {
                for try await record in records {
                    // Between the expiry and the watcher's wake-up nothing more is sent.
                    if let expiry, Timestamp.now() >= expiry { continue }
                    if case .dropped = continuation.yield(.record(record)) { break }
                }
            } catch {}
            continuation.finish()
        }
        let watcher = Task {
            guard let caller, let reason = await revocation(of: caller, api: api, opened: .now()) else { return }
            // Shown as the error envelope: an internal failure of the check says nothing about the store.
            let shown = reason.code == .internal ? XalorraError(.internal, "Internal server error") : reason
            continuation.yield(.revoked(shown))
            continuation.finish()
            api.feed?.recordClosedForAccess(route: route, user: caller.user, reason: reason)
        }
        continuation.onTermination = { _ in
            pump.cancel()
            watcher.cancel()
        }
        return events
    }

    /// Waits until `caller` may no longer receive a live feed and returns why; `nil` once cancelled. Wakes every
    /// ``accessRecheckInterval`` and exactly at the token's expiry.
    /// - Parameter opened: when the feed opened, with the caller's access just checked.
    static func revocation(of caller: Caller, api: LocalAPI, opened: Timestamp) async -> XalorraError? {
        let expiry = caller.expires.map { Timestamp(seconds: $0) }
        while !Task.isCancelled {
            let now = Timestamp.now()
            if let expiry, now >= expiry {
                return XalorraError(.tokenExpired, "token expired at \(expiry.iso8601Seconds); the stream is closed")
            }
            if let refusal = await accessRefusal(of: caller, api: api, opened: opened) { return refusal }
            var wait = accessRecheckInterval
            if let expiry {
                let untilExpiry = Duration.microseconds(expiry.microseconds.subtractingSaturating(now.microseconds))
                wait = min(wait, untilExpiry)
            }
            try? await Task.sleep(for: wait)
        }
        return nil
    }

    /// Why the store no longer accepts `caller`, resolved when its feed `opened`, or `nil` while it does: the same
    /// resolution every request's token gets (``LocalAPI/caller(for:)``), which must still name the same account.
    /// The token itself is not at hand, so its claims are rebuilt from the caller: an account's with a `jti` naming
    /// that account (so a later account of the same name is not it), a bare name's with the latest `iat` a token
    /// accepted at `opened` can have (so an account created for the name since then takes it over).
    static func accessRefusal(of caller: Caller, api: LocalAPI, opened: Timestamp) async -> XalorraError? {
        // A key revoked or expired since the feed opened closes it too.
        if let refusal = await api.keyRefusal(caller) { return refusal }
        var claims = TokenClaims(
            user: caller.user, role: caller.role, tenant: caller.tenant, kind: .access,
            issuedAt: opened.seconds.addingSaturating(TokenService.leewaySeconds), expires: 0, id: "")
        claims.exp = caller.expires
        claims.jti = caller.account.map(User.tokenID(for:))
        do {
            let current = try await api.caller(for: claims)
            guard current.account == caller.account else {
                return XalorraError(.authenticationFailed, "This account was deleted or replaced; the stream is closed")
            }
            return nil
        } catch {
            return error
        }
    }

    /// The filters of a live feed (`model`, `tenant`), refused before the stream opens when the tenant is not the
    /// caller's: once the stream is open, an error could only end it silently.
    static func liveQuery(_ query: [String: String], caller: Caller?) throws(XalorraError) -> LogQuery {
        let live = try logQuery(query)
        if let caller { _ = try caller.tenantScope(requested: live.tenant) }
        return live
    }

    /// Where a live feed resumes: after the log id in `?after=` (a WebSocket's way) or in `Last-Event-ID` (a
    /// reconnecting `EventSource`'s); nil to start with what commits from now on. Anything but a log id is a 422.
    static func resumePoint(_ query: [String: String], lastEventID: String?) throws(XalorraError) -> Int64? {
        let (field, text): (String, String?) =
            query["after"] != nil ? ("after", query["after"]) : ("Last-Event-ID", lastEventID)
        guard let text else { return nil }
        guard let id = Int(text) else {
            throw XalorraError.invalid(field, "'\(text)' is not a prediction log id (a whole number from 0)")
        }
        if let problem = Paging.offset.problem(id) { throw XalorraError.invalid(field, "\(problem), got \(text)") }
        return Int64(id)
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
            limit: query.integer("limit", default: Paging.defaultLimit), offset: query.integer("offset", default: 0))
    }
}

extension PredictionController {
    /// The data handler of an upgraded `GET /ws/predictions`: one text message per committed prediction (the JSON of
    /// a `GET /logs` item), until the client closes, the subscriber falls behind, or the server shuts down (close
    /// 1001), or the subscriber loses access (close 1008, policy violation, with the error code and a short reason).
    static func socket(
        _ api: LocalAPI, query: LogQuery, after: Int64?
    ) -> WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context> {
        { inbound, outbound, _ in
            let events = liveEvents(api, query: query, after: after, caller: api.caller, route: "/ws/predictions")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // The client sends nothing the protocol uses; reading answers its pings and notices its close.
                    for try await _ in inbound {}
                }
                group.addTask {
                    for await event in events {
                        switch event {
                        case .record(let record):
                            var bytes: [UInt8] = []
                            JSONWriter.write(record.json, into: &bytes)
                            try await outbound.write(.text(String(decoding: bytes, as: UTF8.self)))
                        case .revoked(let reason):
                            try await outbound.close(.policyViolation, reason: closeReason(reason))
                            return
                        }
                    }
                    // The feed ends a subscription when the server shuts down or the subscriber fell behind.
                    try await outbound.close(.goingAway, reason: "subscription ended")
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// `TOKEN_EXPIRED: token expired at …`, cut to the 123 bytes a close frame's reason may hold (RFC 6455 §5.5),
    /// on a character boundary.
    static func closeReason(_ error: XalorraError) -> String {
        var reason = "\(error.code.name): \(error.message)"
        while reason.utf8.count > 123 { reason.removeLast() }
        return reason
    }
}
