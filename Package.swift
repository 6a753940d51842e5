// swift-tools-version: 6.2
import PackageDescription

/// Every target builds in Swift 6 language mode (complete strict concurrency checking) with `any` spelled out.
/// (MemberImportVisibility is left off: with `--static-swift-stdlib` it attributes Glibc's `struct stat` to
/// CoreFoundation and refuses the release build.)
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "xalorra",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "xalorra", targets: ["xalorra"]),
        .library(name: "XalorraCore", targets: ["XalorraCore"]),
        .library(name: "XalorraML", targets: ["XalorraML"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", exact: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", exact: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", exact: "1.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
    ],
    targets: [
        .target(name: "XalorraML", swiftSettings: strict),
        .target(
            name: "XalorraCore",
            dependencies: [
                "XalorraML",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "XalorraServer",
            dependencies: [
                "XalorraCore", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "XalorraPostgres",
            dependencies: ["XalorraCore", .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: strict
        ),
        .target(
            name: "XalorraClient",
            dependencies: ["XalorraCore", .product(name: "AsyncHTTPClient", package: "async-http-client")],
            swiftSettings: strict
        ),
        .target(
            name: "XalorraCLI",
            dependencies: [
                "XalorraCore", "XalorraServer", "XalorraClient", "XalorraPostgres",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "xalorra", dependencies: ["XalorraCLI"], swiftSettings: strict),
        .executableTarget(name: "xalorra-mlbench", dependencies: ["XalorraML"], path: "bench/mlbench", swiftSettings: strict),
        .testTarget(
            name: "XalorraTests",
            dependencies: [
                "XalorraCLI", "XalorraCore", "XalorraML", "XalorraServer", "XalorraClient", "XalorraPostgres", "xalorra",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            resources: [.copy("Golden"), .copy("Fixtures")],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
