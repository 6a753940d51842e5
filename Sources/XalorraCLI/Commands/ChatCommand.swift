import XalorraCore

/// `xalorra chat …`: one API call per action, offline or remote, printed the same way.
enum ChatCommand {
    /// `chat "message"`, `chat -c ID "message"`, `chat --last "message"`; without a message, an interactive session
    /// on a terminal or one message per line of piped stdin.
    static func send(_ context: CommandContext) async throws -> Int32 {
        let api = try await context.api()
        var conversation = try await startingConversation(context, api: api)
        if let message = context.arguments.argument("message") {
            _ = try await say(message, in: conversation, api: api, context)
            return 0
        }
        if context.terminal.stdinIsTTY { return try await interactive(api: api, conversation: conversation, context) }
        let input = String(decoding: try FileSystem.readAll(fd: 0, name: "standard input"), as: UTF8.self)
        for line in input.split(separator: "\n") where !line.allSatisfy(\.isWhitespace) {
            conversation = try await say(String(line), in: conversation, api: api, context)
        }
        return 0
    }

    static func list(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let query = try ConversationQuery(
            search: arguments.text("--search"),
            sort: arguments.text("--sort").flatMap(ConversationQuery.Sort.init(rawValue:)) ?? .createdAt,
            order: arguments.text("--order").flatMap(ConversationQuery.Order.init(rawValue:)) ?? .desc,
            limit: arguments.integer("--limit") ?? Paging.defaultLimit, offset: arguments.integer("--offset") ?? 0)
        let page = try await context.api().conversations(query)
        if context.json {
            context.printJSON(page.json)
            return 0
        }
        var table = TextTable(["ID", "TITLE", "MESSAGES", "UPDATED", "LAST MESSAGE"])
        for conversation in page.items {
            table.add([
                conversation.publicID, conversation.title, "\(conversation.messageCount)",
                conversation.updatedAt.iso8601Seconds, preview(conversation.lastMessage?.content ?? ""),
            ])
        }
        context.printPage(page, table: table, noun: "conversation")
        return 0
    }

    static func show(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let detail = try await context.api().conversation(
            arguments.argument("id") ?? "", limit: arguments.integer("--limit") ?? 50,
            offset: arguments.integer("--offset") ?? 0)
        if context.json {
            context.printJSON(Envelope.success(detail.json, message: ChatMessageText.retrieved))
            return 0
        }
        context.terminal.print("\(detail.conversation.publicID)  \(detail.conversation.title)")
        for message in detail.messages {
            // A message's line feeds are its content; the title and the prefix are one line each.
            context.terminal.print(
                "[\(message.timestamp.iso8601Seconds)] \(message.sender == .user ? "you" : "ai"): ", terminator: false)
            context.terminal.printText(message.content)
        }
        context.terminal.printError("\(detail.messages.count) of \(detail.conversation.messageCount) messages")
        return 0
    }

    static func rename(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let renamed = try await context.api().renameConversation(
            arguments.argument("id") ?? "", title: arguments.argument("title") ?? "")
        if context.json {
            context.printJSON(Envelope.success(renamed.json, message: ChatMessageText.renamed))
        } else {
            context.terminal.print("\(ChatID.conversation(renamed.id)) is now titled \"\(renamed.title)\"")
        }
        return 0
    }

    static func delete(_ context: CommandContext) async throws -> Int32 {
        let id = context.arguments.argument("id") ?? ""
        try await context.api().deleteConversation(id)
        if !context.json { context.terminal.print("deleted \(id)") }
        return 0
    }

    /// The whole conversation, every page of it.
    static func export(_ context: CommandContext) async throws -> Int32 {
        let api = try await context.api()
        let id = context.arguments.argument("id") ?? ""
        var detail = try await api.conversation(id, limit: ChatRules.maxMessagesPage, offset: 0)
        var messages = detail.messages
        while messages.count < detail.conversation.messageCount {
            detail = try await api.conversation(id, limit: ChatRules.maxMessagesPage, offset: messages.count)
            if detail.messages.isEmpty { break }
            messages += detail.messages
        }
        let whole = ConversationDetail(conversation: detail.conversation, messages: messages)
        if context.arguments.text("--format") == "json" || context.json {
            context.printJSON(whole.json)
            return 0
        }
        let terminal = context.terminal
        terminal.print("# \(whole.conversation.title)")
        terminal.print("")
        terminal.print("\(whole.conversation.publicID), started \(whole.conversation.createdAt.iso8601Seconds)")
        terminal.print("")
        for message in messages {
            let who = message.sender == .user ? "You" : "AI"
            terminal.print("**\(who)** (\(message.timestamp.iso8601Seconds)):")
            terminal.print("")
            terminal.printText(message.content)
            terminal.print("")
        }
        return 0
    }

    // MARK: Sending

    /// The conversation `-c` or `--last` names, or nil for a new one.
    private static func startingConversation(_ context: CommandContext, api: any XalorraAPI) async throws -> String? {
        if let id = context.arguments.text("--conversation") { return id }
        guard context.arguments.has("--last") else { return nil }
        let newest = try await api.conversations(ConversationQuery(sort: .updatedAt, order: .desc, limit: 1))
        guard let last = newest.items.first else {
            throw XalorraError(.notFound, "there is no conversation to continue yet", hint: "start one: xalorra chat \"hello\"")
        }
        return last.publicID
    }

    /// Sends one message, printing the reply as it streams in (or, with --json, the response body); returns the
    /// conversation's id.
    @discardableResult
    private static func say(
        _ message: String, in conversation: String?, api: any XalorraAPI, _ context: CommandContext
    ) async throws(XalorraError) -> String {
        let terminal = context.terminal
        let json = context.json
        let reply = try await api.sendMessage(message, conversation: conversation) { delta in
            guard !json else { return }
            terminal.printText(delta, terminator: false)
            terminal.flush()
        }
        if json {
            context.printJSON(Envelope.success(reply.json, message: ChatMessageText.sent))
        } else {
            terminal.print("")
            terminal.printError("[\(ChatID.conversation(reply.conversationID))]", style: .dim)
        }
        terminal.flush()
        return ChatID.conversation(reply.conversationID)
    }

    /// A session on the terminal: each line is a message; /new, /title TEXT, /exit (or end of input).
    private static func interactive(
        api: any XalorraAPI, conversation start: String?, _ context: CommandContext
    ) async throws -> Int32 {
        let terminal = context.terminal
        var conversation = start
        terminal.printError("xalorra chat: /new starts a conversation, /title TEXT renames it, /exit leaves")
        while true {
            terminal.flush()
            let line: String
            do {
                line = try TerminalInput.ask("you> ", echo: true, style: terminal.colorErrors ? .bold : nil)
            } catch {
                break
            }
            let text = line.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            if text.isEmpty { continue }
            if text == "/exit" || text == "/quit" { break }
            if text == "/new" {
                conversation = nil
                terminal.printError("(a new conversation starts with your next message)")
                continue
            }
            if text.hasPrefix("/title") {
                guard let current = conversation else {
                    terminal.error("no conversation yet: send a message first")
                    continue
                }
                let title = String(text.dropFirst(6))
                if let error = await attempt({ () async throws(XalorraError) in
                    let renamed = try await api.renameConversation(current, title: title)
                    terminal.printError("(titled \"\(renamed.title)\")")
                }) {
                    terminal.error(error.message)
                }
                continue
            }
            terminal.print("ai> ", terminator: false)
            let current = conversation
            var next = current
            let failure = await attempt { () async throws(XalorraError) in
                next = try await say(text, in: current, api: api, context)
            }
            conversation = next
            if let failure {
                terminal.print("")
                terminal.error(failure.message, hint: failure.hint)
            }
        }
        terminal.flush()
        return 0
    }

    /// Runs `work`, returning its failure instead of throwing it (the session goes on).
    private static func attempt(_ work: () async throws(XalorraError) -> Void) async -> XalorraError? {
        do {
            try await work()
            return nil
        } catch {
            return error
        }
    }

    private static func preview(_ text: String) -> String {
        let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return flat.count <= 40 ? flat : String(flat.prefix(39)) + "…"
    }
}
