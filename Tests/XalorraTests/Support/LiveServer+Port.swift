extension LiveServer {
    /// The loopback port the server listens on (from its `serving http://127.0.0.1:<port>` line).
    var port: Int { Int(url.split(separator: ":").last!)! }
}
