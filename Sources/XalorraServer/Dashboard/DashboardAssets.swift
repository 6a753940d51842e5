import XalorraCore

/// The dashboard's files (`ui/`, embedded by `scripts/embed-ui.py` into `DashboardAssets+Generated.swift`), each
/// with its bytes and ETag, made once; and the one way they are answered (``answer(_:ifNoneMatch:)``).
enum DashboardAssets {
    /// One file of the dashboard.
    struct Asset: Sendable {
        let name: String
        let contentType: String
        let bytes: [UInt8]
        /// A strong validator: a 64-bit FNV-1a hash of the bytes and their count, quoted.
        let etag: String
    }

    /// The page `/ui` answers; the other files are `/ui/<name>`.
    static let entry = "index.html"

    /// The files by name.
    static let byName: [String: Asset] = Dictionary(uniqueKeysWithValues: files.map { file in
        let bytes = Array(file.text.utf8)
        return (file.name, Asset(name: file.name, contentType: file.contentType, bytes: bytes, etag: etag(bytes)))
    })

    /// Every file's bytes together: the budget is 200 KB for all of a page's assets.
    static var totalBytes: Int { byName.values.reduce(0) { $0 + $1.bytes.count } }

    /// The policy of every dashboard answer: scripts, styles, images and connections only from this server (no
    /// inline script or style attribute runs), never framed, no referrer.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// `name`'s answer: 200 with the file, or 304 without a body when `ifNoneMatch` names its ETag (RFC 9110
    /// §13.1.2: a list of tags, weak or strong, or `*`); 404 for a name that is not a file. The page carries no
    /// personal data (it fetches that from the API with the token it keeps), so each answer may be stored but is
    /// revalidated every time (`no-cache`): a new binary's files are never stale.
    static func answer(_ name: String, ifNoneMatch: String?) throws(XalorraError) -> HTTPOutput {
        guard let asset = byName[name] else { throw XalorraError(.notFound, "No dashboard file '\(name)'") }
        var output: HTTPOutput
        if let ifNoneMatch, matches(ifNoneMatch, asset.etag) {
            output = .raw([], contentType: "", status: 304)
        } else {
            output = .raw(asset.bytes, contentType: asset.contentType)
        }
        output.fields = [
            ("ETag", asset.etag), ("Cache-Control", "no-cache"),
            ("Content-Security-Policy", contentSecurityPolicy), ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"), ("Cross-Origin-Opener-Policy", "same-origin"),
        ]
        return output
    }

    /// Whether an `If-None-Match` value names `etag` (weak comparison, as RFC 9110 §13.1.2 asks for this header).
    static func matches(_ ifNoneMatch: String, _ etag: String) -> Bool {
        ifNoneMatch.split(separator: ",").contains { candidate in
            var tag = candidate.trimmingCharacters(in: " \t")
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == etag
        }
    }

    private static func etag(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return "\"\(String(hash, radix: 16))-\(String(bytes.count, radix: 16))\""
    }
}

extension Substring {
    /// The text without `characters` at either end.
    fileprivate func trimmingCharacters(in characters: String) -> String {
        String(drop { characters.contains($0) }.reversed().drop { characters.contains($0) }.reversed())
    }
}
