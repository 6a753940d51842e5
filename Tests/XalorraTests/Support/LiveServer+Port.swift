extension LiveServer {
    /// The loopback port the server listens on (from its `serving http://127.0.0.1:<port>` line).
    var port: Int { Int(url.split(separator: ":").last!)! }
}

/// The suite `HostileInputTests` was split by feature (`HostileInput*Tests`); `ConnectionGuardTests` still asks it
/// for the port. Remove once it reads `server.port` (see /work/notes/requests-T.md).
enum HostileInputTests {
    static func port(_ server: LiveServer) throws -> Int { server.port }
}
