/// Which store a process uses (`XALORRA_DATABASE_URL` / `--database`): the SQLite file in `XALORRA_HOME` (unset),
/// another SQLite file (`sqlite:PATH`), or a PostgreSQL database (`postgres://user:password@host:port/db`).
public enum DatabaseLocation: Sendable, Equatable {
    /// SQLite; `nil`: `$XALORRA_HOME/xalorra.db`.
    case sqlite(path: String?)
    /// A PostgreSQL server.
    case postgres(PostgresLocation)

    /// Parses the setting's text; `nil` text is the default store. Errors never repeat a password.
    public static func parse(_ text: String?) throws(XalorraError) -> DatabaseLocation {
        guard let text, !text.isEmpty else { return .sqlite(path: nil) }
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty, !path.utf8.contains(0) else {
                throw Self.invalid("sqlite: needs a file path (sqlite:/var/lib/xalorra/xalorra.db)")
            }
            return .sqlite(path: path)
        }
        return .postgres(try PostgresLocation(parsing: text))
    }

    /// The setting's refusal, as a usage error naming the setting.
    static func invalid(_ reason: String) -> XalorraError {
        XalorraError(
            .validation, "XALORRA_DATABASE_URL (--database) is not valid: \(reason)",
            hint: "use postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=disable|prefer|require] or sqlite:PATH")
    }

    /// For people: the SQLite path, or the PostgreSQL address without its password.
    public var description: String {
        switch self {
        case .sqlite(let path): path.map { "sqlite:\($0)" } ?? "sqlite (XALORRA_HOME)"
        case .postgres(let location): location.redacted
        }
    }
}

/// A parsed `postgres://` (or `postgresql://`) URL.
public struct PostgresLocation: Sendable, Equatable {
    /// How the connection uses TLS (libpq's `sslmode`, the three values this build supports).
    public enum TLSMode: String, Sendable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, else plain (libpq's default).
        case prefer
        /// TLS or no connection (certificates are not verified, as libpq's `require`).
        case require
    }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode

    /// `postgres://user@host:port/db`: the URL without its password, for messages and `store info`.
    public var redacted: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(Self.escape(user))@\(shownHost):\(port)/\(Self.escape(database))"
    }

    /// Parses a URL of the form `postgres://user[:password]@host[:port][/database][?sslmode=…]`.
    public init(parsing text: String) throws(XalorraError) {
        let lower = text.lowercased()
        let rest: Substring
        if lower.hasPrefix("postgres://") {
            rest = text.dropFirst("postgres://".count)
        } else if lower.hasPrefix("postgresql://") {
            rest = text.dropFirst("postgresql://".count)
        } else {
            // The text itself may be a password someone pasted: name only what was expected.
            throw DatabaseLocation.invalid("it must start with postgres://, postgresql:// or sqlite:")
        }
        guard !rest.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } == true }) else {
            throw DatabaseLocation.invalid("it contains spaces or control characters")
        }
        var main = rest
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            main = rest[..<mark]
            query = rest[rest.index(after: mark)...]
        }
        guard !main.contains("#") else { throw DatabaseLocation.invalid("it contains a fragment (#)") }
        // The user information ends at the last `@` before the path (a password may contain `@` only escaped, but
        // be lenient as libpq is).
        let slash = main.firstIndex(of: "/") ?? main.endIndex
        let authority = main[..<slash]
        let path = slash < main.endIndex ? main[main.index(after: slash)...] : ""
        guard let at = authority.lastIndex(of: "@") else {
            throw DatabaseLocation.invalid("it names no user (postgres://USER:PASSWORD@HOST/DATABASE)")
        }
        let userInfo = authority[..<at]
        let hostPort = authority[authority.index(after: at)...]
        let userPart: Substring
        var passwordPart: Substring?
        if let colon = userInfo.firstIndex(of: ":") {
            userPart = userInfo[..<colon]
            passwordPart = userInfo[userInfo.index(after: colon)...]
        } else {
            userPart = userInfo
        }
        let user = try Self.decode(userPart, what: "the user name")
        guard !user.isEmpty else { throw DatabaseLocation.invalid("it names no user") }
        let password = try passwordPart.map { part throws(XalorraError) in try Self.decode(part, what: "the password") }
        var host: String
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw DatabaseLocation.invalid("the IPv6 host has no closing ]")
            }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw DatabaseLocation.invalid("unexpected text after the host") }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = String(hostPort)
        }
        host = try Self.decode(Substring(host), what: "the host")
        guard !host.isEmpty else { throw DatabaseLocation.invalid("it names no host") }
        guard host.allSatisfy({ $0.isLetter || $0.isNumber || "-._:".contains($0) }), host.utf8.count <= 253 else {
            throw DatabaseLocation.invalid("the host is not a host name or an IP address")
        }
        var port = 5432
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number), portText.allSatisfy(\.isASCII) else {
                throw DatabaseLocation.invalid("the port is not a number from 1 to 65535")
            }
            port = number
        }
        let database = try Self.decode(Substring(path), what: "the database name")
        guard !database.contains("/") else { throw DatabaseLocation.invalid("the database name contains /") }
        var tls = TLSMode.prefer
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(parts[0], what: "a parameter name")
            let value = parts.count > 1 ? try Self.decode(parts[1], what: "a parameter") : ""
            guard name == "sslmode" else {
                throw DatabaseLocation.invalid("unknown parameter '\(Self.shown(name))' (only sslmode is supported)")
            }
            guard let mode = TLSMode(rawValue: value) else {
                throw DatabaseLocation.invalid(
                    "sslmode=\(Self.shown(value)) is not one of disable, prefer, require")
            }
            tls = mode
        }
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database.isEmpty ? user : database
        self.tls = tls
    }

    /// Percent-decodes one component; refuses bad escapes, NUL and text that is not UTF-8.
    private static func decode(_ text: Substring, what: String) throws(XalorraError) -> String {
        guard let bytes = Route.percentDecoded(text) else {
            throw DatabaseLocation.invalid("\(what) has a bad %-escape")
        }
        guard !bytes.contains(0), let decoded = String(validating: bytes, as: UTF8.self) else {
            throw DatabaseLocation.invalid("\(what) is not valid text after %-decoding")
        }
        return decoded
    }

    /// At most 32 characters of a parameter, for an error message.
    private static func shown(_ text: String) -> String { text.count > 32 ? String(text.prefix(32)) + "…" : text }

    /// Percent-escapes what a URL's user or path cannot hold as is.
    private static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80, scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar)) || "-._~".unicodeScalars.contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

extension Settings {
    /// Refuses to open the SQLite store when the settings name a PostgreSQL one: only the CLI and the server, which
    /// link the PostgreSQL module, can open that (``LocalAPI`` is then given the store).
    func requireSQLiteStore() throws(XalorraError) {
        if case .postgres(let location) = database {
            throw XalorraError(.internal, "the PostgreSQL store \(location.redacted) was not opened by this process")
        }
    }
}
