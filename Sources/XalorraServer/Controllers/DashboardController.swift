import XalorraCore

/// `GET /ui` and `GET /ui/{asset}`: the dashboard, a client of the public API like any other, served from the
/// binary itself (``DashboardAssets``); a request that names the file's ETag in `If-None-Match` gets a 304.
enum DashboardController {
    /// `GET /ui`: the dashboard's page.
    static let page: RouteHandler = { input in
        try DashboardAssets.answer(DashboardAssets.entry, ifNoneMatch: input.ifNoneMatch)
    }

    /// `GET /ui/{asset}`: one of its scripts or style sheets.
    static let asset: RouteHandler = { input in
        try DashboardAssets.answer(input.parameter("asset"), ifNoneMatch: input.ifNoneMatch)
    }
}
