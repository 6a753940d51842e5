#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The HMAC secret: `SECRET_KEY` when set, else `$XALORRA_HOME/secret.key`, generated once (256 random bits, 0600).
public struct SecretKey: Sendable {
    /// Shorter secrets still work but are weak for HMAC (RFC 8725 §3.5).
    public static let recommendedBytes = 32

    /// The key material.
    public let value: String
    /// A warning for stderr when the secret is weak.
    public let warning: String?

    /// Loads or creates the secret for `settings`.
    public static func load(_ settings: Settings) throws(XalorraError) -> SecretKey {
        if let given = settings.secretKey {
            return SecretKey(value: given, warning: weakness(given, source: "SECRET_KEY"))
        }
        let path = settings.secretKeyPath
        if let existing = try readChecked(path) { return existing }
        try FileSystem.makeDirectories(settings.home)
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for _ in 0..<32 {
            let byte = UInt8.random(in: 0...255, using: &generator)
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 15)])
        }
        text.append(0x0A)
        if try FileSystem.createExclusive(path, bytes: text, mode: 0o600) {
            return SecretKey(value: String(decoding: text.dropLast(), as: UTF8.self), warning: nil)
        }
        // Another process created it first; use theirs.
        guard let raced = try readChecked(path) else { throw XalorraError(.internal, "cannot read \(path)") }
        return raced
    }

    private static func readChecked(_ path: String) throws(XalorraError) -> SecretKey? {
        guard let bytes = try FileSystem.readPrivate(path) else { return nil }
        let value = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
        guard !value.isEmpty else { throw XalorraError(.internal, "\(path) is empty; delete it to generate a new key") }
        return SecretKey(value: value, warning: weakness(value, source: path))
    }

    private static func weakness(_ value: String, source: String) -> String? {
        guard value.utf8.count < recommendedBytes else { return nil }
        return "the secret from \(source) is \(value.utf8.count) bytes; use at least \(recommendedBytes) (RFC 8725 §3.5)"
    }
}
