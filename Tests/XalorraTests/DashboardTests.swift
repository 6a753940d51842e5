import Foundation
import Testing
import XalorraCore
@testable import XalorraServer

/// The dashboard (issue 17): `/ui` and its files are routes like any other, served from the binary with a strict
/// CSP, ETags and `nosniff`; the generated Swift file matches `ui/`; the page fits its budget and builds no markup from
/// data; and a real headless Chromium drives every page against a live server (`scripts/ui/browser_test.py`).
@Suite(.serialized)
struct DashboardTests {
    /// The repository's `ui/` folder, the dashboard's source.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ui")

    /// The text of `ui/<name>`.
    static func source(_ name: String) throws -> String {
        try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
    }

    /// The files of `ui/`, by name.
    static func sourceNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// `GET /ui` is the page and every `GET /ui/<file>` its file, byte for byte, with its media type, a strong ETag,
    /// `no-cache`, `nosniff` and a CSP that allows no inline script or style and no framing.
    @Test func pageAndFilesCarryTheirHeaders() async throws {
        try await RouterHarness.run { app in
            let page = try await app.request("GET", "/ui")
            #expect(page.status == 200 && page.header("Content-Type") == "text/html; charset=utf-8", "\(page)")
            #expect(page.text.contains(#"<script type="module" src="/ui/app.js">"#))
            for name in DashboardAssets.byName.keys.sorted() {
                let asset = try #require(DashboardAssets.byName[name])
                let answer = try await app.request("GET", "/ui/\(name)")
                #expect(answer.status == 200, "\(name): \(answer)")
                #expect(answer.header("Content-Type") == asset.contentType, "\(name)")
                let whole = Array(answer.text.utf8) == asset.bytes
                #expect(whole, "\(name): not the embedded file")
                #expect(answer.header("ETag") == asset.etag && asset.etag.hasPrefix("\"") && !asset.etag.hasPrefix("W/"))
                #expect(answer.header("Cache-Control") == "no-cache", "\(name)")
                #expect(answer.header("X-Content-Type-Options") == "nosniff", "\(name)")
                let policy = try #require(answer.header("Content-Security-Policy"), "\(name)")
                for directive in [
                    "default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                    "object-src 'none'", "base-uri 'none'",
                ] {
                    #expect(policy.contains(directive), "\(name): \(policy)")
                }
                #expect(!policy.contains("unsafe"), "\(policy)")
                #expect(answer.header("X-Frame-Options") == "DENY")
            }
            // The route table declares every media type the files are served with.
            let route = Endpoint.dashboardAsset.route
            guard case .text(let main, let alternatives) = route.response else { Issue.record("\(route.response)"); return }
            for asset in DashboardAssets.byName.values { #expect(([main] + alternatives).contains(asset.contentType)) }
        }
    }

    /// A name that is no file of the dashboard is a 404 in the error envelope, whatever it tries (a parent
    /// directory, an encoded slash, a source file of the server); other methods are 405.
    @Test func unknownFilesAreNotFound() async throws {
        try await RouterHarness.run { app in
            for path in ["/ui/nope.js", "/ui/..%2FPackage.swift", "/ui/%2E%2E", "/ui/app.js.map", "/ui/DashboardAssets.swift", "/ui/x/app.js"] {
                app.expectFailure(try await app.request("GET", path), format: .envelope, .notFound)
            }
            app.expectFailure(try await app.request("POST", "/ui/app.js", body: "{}"), format: .envelope, .methodNotAllowed)
            app.expectFailure(try await app.request("DELETE", "/ui"), format: .envelope, .methodNotAllowed)
        }
    }

    /// ``DashboardAssets/answer(_:ifNoneMatch:)`` answers 304 with no body when If-None-Match names the file's ETag
    /// (alone, in a list, weak, or `*`), and the whole file otherwise.
    @Test func answerIsNotModifiedForItsETag() throws {
        let asset = try #require(DashboardAssets.byName["app.js"])
        for header in [asset.etag, "W/\(asset.etag)", "\"other\", \(asset.etag)", "*"] {
            let answer = try DashboardAssets.answer("app.js", ifNoneMatch: header)
            #expect(answer.status == 304 && answer.body.isEmpty, "\(header)")
            #expect(answer.fields.contains { $0 == ("ETag", asset.etag) })
        }
        for header in [nil, "\"other\"", "", asset.etag.replacingOccurrences(of: "\"", with: "")] {
            let answer = try DashboardAssets.answer("app.js", ifNoneMatch: header)
            #expect(answer.status == 200 && answer.body == asset.bytes, "\(header ?? "nil")")
        }
    }

    /// Over HTTP, a request whose If-None-Match names the file's ETag (the page's or a file's) is answered 304
    /// without a body, with the same ETag and policy; a stale ETag gets the whole file.
    @Test func filesRevalidateWith304() async throws {
        try await RouterHarness.run { app in
            for path in ["/ui", "/ui/app.js", "/ui/app.css"] {
                let first = try await app.request("GET", path)
                let etag = try #require(first.header("ETag"))
                let again = try await app.request("GET", path, headers: [("If-None-Match", etag)])
                #expect(again.status == 304 && again.text.isEmpty, "\(path): \(again)")
                #expect(again.header("ETag") == etag && again.header("Content-Security-Policy") != nil)
                let stale = try await app.request("GET", path, headers: [("If-None-Match", "\"stale\"")])
                #expect(stale.status == 200 && stale.text == first.text, "\(path)")
            }
        }
    }

    /// What the dashboard reads with a user's token (logs, models, jobs, chats, users, profile) is sent with
    /// `Cache-Control: no-store`, so that no cache or history keeps a person's data; the page itself is `no-cache`.
    @Test func personalAnswersAreNotStored() async throws {
        try await RouterHarness.run { app in
            let admin = try await app.adminToken()
            for path in ["/logs", "/models", "/train/jobs", "/chat/histories", "/admin/users", "/whoami", "/routes"] {
                let answer = try await app.request("GET", path, token: admin)
                #expect(answer.status == 200, "\(path): \(answer)")
                if path == "/routes" { continue }  // public: the same for everyone
                #expect(answer.header("Cache-Control") == "no-store", "\(path)")
            }
            #expect(try await app.request("GET", "/ui").header("Cache-Control") == "no-cache")
        }
    }

    /// All the dashboard's files together stay within the issue's budget: 200 KB uncompressed.
    @Test func filesFitTheBudget() {
        #expect(DashboardAssets.totalBytes <= 200_000, "\(DashboardAssets.totalBytes) bytes")
        #expect(DashboardAssets.byName[DashboardAssets.entry] != nil)
    }

    /// The generated `DashboardAssets+*.swift` hold exactly the files of `ui/`, byte for byte: it fails
    /// when someone changes `ui/` without running `python3 scripts/embed-ui.py`.
    @Test func generatedFilesAreCurrent() throws {
        let names = try Self.sourceNames()
        #expect(names == DashboardAssets.byName.keys.sorted(), "run python3 scripts/embed-ui.py")
        for name in names {
            let current = DashboardAssets.byName[name]?.bytes == Array(try Self.source(name).utf8)
            #expect(current, "\(name) is stale: run python3 scripts/embed-ui.py")
        }
    }

    /// The dashboard builds no markup from text: no innerHTML, outerHTML, insertAdjacentHTML, document.write or
    /// eval anywhere; no inline script, inline style or event attribute in the page (the CSP would block them).
    @Test func noMarkupIsBuiltFromData() throws {
        for name in try Self.sourceNames() {
            let text = try Self.source(name)
            for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
                #expect(!text.contains(sink), "\(name) uses \(sink)")
            }
            guard name.hasSuffix(".html") else { continue }
            #expect(!text.contains(" style="), "\(name) has an inline style")
            #expect(text.range(of: #"<script(?![^>]*\bsrc=)"#, options: .regularExpression) == nil, "\(name): inline script")
            #expect(text.range(of: #"\son[a-z]+="#, options: .regularExpression) == nil, "\(name): an event attribute")
        }
    }

    /// `GET /` keeps the seed's JSON, `/docs` links to the dashboard, and `serve` prints the dashboard's URL.
    @Test func entryPoints() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        #expect(server.log.text.contains("dashboard: \(server.url)/ui"), "\(server.log.text)")
        let root = try await server.request("GET", "/")
        #expect(root.status == 200 && root.body.contains("Xalorra API is running"))
        let docs = try await server.request("GET", "/docs")
        #expect(docs.body.contains(#"href="/ui"#), "\(docs.body)")
        let page = try await server.request("GET", "/ui")
        #expect(page.status == 200 && page.headers["Content-Security-Policy"].first?.contains("default-src 'self'") == true)
    }

    /// A dozen loads of the dashboard from one address (about 150 requests: page and files) stay within their own
    /// budget, and do not spend the API's: the default 100 a minute would have cut the page off at the 9th load.
    @Test func dashboardHasItsOwnRateLimit() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        for _ in 0..<12 {
            for path in ["/ui", "/ui/app.js", "/ui/app.css"] + Array(repeating: "/ui/app.js", count: 9) {
                let answer = try await server.request("GET", path)
                #expect(answer.status == 200 || answer.status == 404, "\(path): \(answer.status)")
                #expect(answer.headers["RateLimit-Policy"].first?.hasPrefix(#""dashboard";q=1200"#) == true)
            }
        }
        let root = try await server.request("GET", "/")
        #expect(root.headers["X-RateLimit-Remaining"].first == "99", "\(root.headers)")
    }

    /// Whether the browser test can run: Chromium's driver and the Python packages, or CI (where their absence fails).
    static let browserReady = PythonClients.isCI
        || (FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
            && PythonClients.has("selenium") && PythonClients.has("axe_selenium_python"))

    /// Headless Chromium on every page against a live server (scripts/ui/browser_test.py): sign in; a prediction
    /// reaches Live within 1 s; a CSV upload trains a model followed to its version under Models; a chat reply
    /// streams in pieces; a conversation is renamed and deleted; markup in names, messages and titles stays text and
    /// never runs; a non-admin sees no Admin; axe finds nothing serious or critical; no CSP violation; no token in a
    /// URL; sign-out revokes the refresh token; /ui loads at most 200 KB of files and is interactive (within 1.5 s here;
    /// the 300 ms budget is measured on an idle machine).
    /// Screenshots go to docs/screenshots/ with XALORRA_UPDATE_SCREENSHOTS=1, else to a temporary folder.
    @Test(.enabled(if: browserReady, "chromium-driver, selenium or axe-selenium-python not installed"))
    func browser() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token(["--user", "root", "--role", "admin"])
        let screenshots = ProcessInfo.processInfo.environment["XALORRA_UPDATE_SCREENSHOTS"] != nil
            ? Self.folder.deletingLastPathComponent().appendingPathComponent("docs/screenshots")
            : server.cli.home.appendingPathComponent("screenshots")
        try FileManager.default.createDirectory(at: screenshots, withIntermediateDirectories: true)
        let script = Self.folder.deletingLastPathComponent().appendingPathComponent("scripts/ui/browser_test.py")
        let (status, output) = try PythonClients.run(
            [
                "python3", script.path, server.url, token, BinaryRunner.binary.path, server.cli.home.path,
                // The 300 ms budget holds on an idle machine (results in bench/RESULTS.md); beside other suites
                // on two cores only a gross regression fails here.
                screenshots.path, "--timing-budget-ms=1500",
            ], timeout: .seconds(400))
        #expect(status == 0 && output.contains("browser_test: ok"), "browser_test.py (exit \(status)):\n\(output)")
        if let metrics = output.split(separator: "\n").first(where: { $0.hasPrefix("metrics: ") }) { print(metrics) }
    }
}
