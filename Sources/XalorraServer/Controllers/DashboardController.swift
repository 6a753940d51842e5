import XalorraCore

/// `GET /ui` and `GET /ui/{asset}`: the dashboard, a client of the public API like any other, served from the
/// binary itself (``DashboardAssets``).
enum DashboardController {
    /// `GET /ui`: the dashboard's page.
    static let page: RouteHandler = { input in
        // requests-U #1: `input.ifNoneMatch` once HTTPInput carries it.
        try DashboardAssets.answer(DashboardAssets.entry, ifNoneMatch: nil)
    }

    /// `GET /ui/{asset}`: one of its scripts or style sheets.
    static let asset: RouteHandler = { input in
        // requests-U #1: `input.ifNoneMatch` once HTTPInput carries it.
        try DashboardAssets.answer(input.parameter("asset"), ifNoneMatch: nil)
    }
}
