import Foundation

import Glibc

/// A bare TCP connection to a loopback server, for what an HTTP client library will not do: send invalid bytes or a
/// malformed request line, dribble a head byte by byte, or open a connection and say nothing. Blocking socket calls
/// run on a global dispatch queue, never on the tests' cooperative threads.
struct RawHTTP: Sendable {
    /// One response as read off the wire.
    struct Response: Sendable, CustomStringConvertible {
        let status: Int
        /// Header fields, names lower-cased.
        let headers: [(name: String, value: String)]
        let body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.name == name.lowercased() }?.value }
        var description: String { "\(status) \(text.prefix(300))" }
    }

    let fd: Int32

    /// Connects to `127.0.0.1:port`; the connect completes once the kernel queued it, accepted or not.
    static func connect(port: Int) async throws -> RawHTTP {
        try await blocking { () throws -> RawHTTP in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw POSIXError(.EMFILE) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard result == 0 else {
                let code = errno
                Glibc.close(fd)
                throw POSIXError(POSIXErrorCode(rawValue: code) ?? .ECONNREFUSED)
            }
            return RawHTTP(fd: fd)
        }
    }

    /// One request on a fresh connection: sends `request`, reads one response, closes. `nil` when the server closed
    /// the connection (or stayed silent for `timeout`) without answering.
    static func exchange(
        port: Int, _ request: [UInt8], timeout: Duration = .seconds(20), headOnly: Bool = false
    ) async throws -> Response? {
        let connection = try await connect(port: port)
        defer { connection.close() }
        _ = await connection.send(request, timeout: timeout)
        return await connection.response(timeout: timeout, headOnly: headOnly)
    }

    /// `METHOD path HTTP/1.1` with `Host`, `Connection: close`, the given headers, and `Content-Length` for `body`.
    static func request(
        _ method: String, _ path: String, token: String? = nil, headers: [(String, String)] = [], body: [UInt8]? = nil
    ) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body, !headers.contains(where: { $0.0.lowercased() == "transfer-encoding" }) {
            head += "Content-Length: \(body.count)\r\n"
        }
        return Array((head + "\r\n").utf8) + (body ?? [])
    }

    /// Writes all of `bytes` unless the server closes or stops reading for `timeout`; whether all were written.
    @discardableResult
    func send(_ bytes: [UInt8], timeout: Duration = .seconds(10)) async -> Bool {
        await Self.blocking { () -> Bool in
            var sent = 0
            let deadline = ContinuousClock.now + timeout
            while sent < bytes.count {
                guard Self.poll(fd, events: Int16(POLLOUT), until: deadline) else { return false }
                let count = bytes.withUnsafeBytes { buffer in
                    Glibc.send(fd, buffer.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                }
                if count < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                guard count > 0 else { return false }
                sent += count
            }
            return true
        }
    }

    /// Reads one response: the head, then a `Content-Length` or chunked body, or everything until the server closes.
    /// `nil` when the connection closed or stayed silent for `timeout` before a complete head.
    /// With `headOnly`, returns at the end of the head (for a stream that does not end).
    func response(timeout: Duration = .seconds(20), headOnly: Bool = false) async -> Response? {
        await Self.blocking { () -> Response? in
            let deadline = ContinuousClock.now + timeout
            var bytes: [UInt8] = []
            var closed = false
            func fill() -> Bool {
                guard !closed, Self.poll(fd, events: Int16(POLLIN), until: deadline) else { return false }
                var chunk = [UInt8](repeating: 0, count: 65_536)
                let count = recv(fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
                if count < 0, errno == EAGAIN || errno == EINTR { return true }
                guard count > 0 else {
                    closed = true
                    return false
                }
                bytes += chunk[0..<count]
                return true
            }
            let separator: [UInt8] = Array("\r\n\r\n".utf8)
            var headEnd: Int?
            while headEnd == nil {
                headEnd = Self.find(separator, in: bytes, from: 0)
                if headEnd == nil, !fill() { return nil }
            }
            guard let headEnd else { return nil }
            let lines = String(decoding: bytes[0..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
            let statusParts = lines[0].split(separator: " ")
            guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
            let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            let bodyStart = headEnd + 4
            if headOnly { return Response(status: status, headers: headers, body: Array(bytes[bodyStart...])) }
            func value(_ name: String) -> String? { headers.first { $0.name == name }?.value }
            if let length = value("content-length").flatMap({ Int($0) }) {
                while bytes.count < bodyStart + length, fill() {}
                return Response(status: status, headers: headers, body: Array(bytes[bodyStart..<min(bytes.count, bodyStart + length)]))
            }
            if value("transfer-encoding")?.lowercased() == "chunked" {
                while Self.find(Array("0\r\n\r\n".utf8), in: bytes, from: bodyStart) == nil, fill() {}
                return Response(status: status, headers: headers, body: Self.dechunk(Array(bytes[bodyStart...])))
            }
            if status == 204 || status == 304 || (100..<200).contains(status) {
                return Response(status: status, headers: headers, body: [])
            }
            while fill() {}
            return Response(status: status, headers: headers, body: Array(bytes[bodyStart...]))
        }
    }

    /// Waits up to `timeout` for the server to close the connection, discarding what it sends; whether it did.
    func closedByServer(within timeout: Duration) async -> Bool {
        await Self.blocking { () -> Bool in
            let deadline = ContinuousClock.now + timeout
            var chunk = [UInt8](repeating: 0, count: 4096)
            while Self.poll(fd, events: Int16(POLLIN), until: deadline) {
                let count = recv(fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
                if count < 0, errno == EAGAIN || errno == EINTR { continue }
                if count <= 0 { return true }
            }
            return false
        }
    }

    /// Whether `needle` arrives within `timeout` (an event, a WebSocket message), discarding what comes before it.
    func receive(containing needle: [UInt8], timeout: Duration) async -> Bool {
        await Self.blocking { () -> Bool in
            let deadline = ContinuousClock.now + timeout
            var seen: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while Self.poll(fd, events: Int16(POLLIN), until: deadline) {
                let count = recv(fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
                if count < 0, errno == EAGAIN || errno == EINTR { continue }
                guard count > 0 else { return false }
                seen += chunk[0..<count]
                if Self.find(needle, in: seen, from: 0) != nil { return true }
                // Keep only what could still start the needle: a long stream must not be scanned again and again.
                if seen.count >= needle.count { seen.removeFirst(seen.count - needle.count + 1) }
            }
            return false
        }
    }

    func close() { Glibc.close(fd) }

    /// Whether `fd` is ready for `events` before `deadline` (a hang-up or an error counts as ready).
    private static func poll(_ fd: Int32, events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            let milliseconds = Int32(min(1000, max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let ready = Glibc.poll(&entry, 1, milliseconds)
            if ready > 0 { return true }
            if ready < 0, errno != EINTR { return false }
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count + start else { return nil }
        for index in start...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if Array(haystack[index..<index + needle.count]) == needle { return index }
        }
        return nil
    }

    private static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        var index = 0
        while let lineEnd = find(Array("\r\n".utf8), in: bytes, from: index),
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first,
            let size = Int(sizeText, radix: 16),
            size > 0, lineEnd + 2 + size <= bytes.count
        {
            body += bytes[(lineEnd + 2)..<(lineEnd + 2 + size)]
            index = lineEnd + 2 + size + 2
        }
        return body
    }

    private static func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    private static func blocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }
}
