// swift-tools-version:6.2
// The benchmarks: a package of their own, so the anchors they are measured against (grpc-swift-2,
// swift-protobuf, HdrHistogram) never enter the suite's build. Run everything with
// Benchmarks/run.sh, which writes BENCHMARKS.md at the top of the repository.
import PackageDescription

let settings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "hsb-benchmarks",
    dependencies: [
        // The suite itself. The name makes the product references below independent of the
        // folder the repository is cloned into.
        .package(name: "hsb-suite", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", exact: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Load generation, HdrHistogram percentiles, medians and table formatting.
        .target(
            name: "BenchSupport",
            dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift")],
            swiftSettings: settings),
        // swift-protobuf code generated once from the suite's own .proto files (and bench.proto
        // for the gRPC echo) by Benchmarks/generate-swift-protobuf.sh, and committed.
        .target(
            name: "SwiftProtobufMessages",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: settings),
        // protobuf-c's own pack/unpack, called from C with no Swift conversion: the codec's limit.
        .target(name: "CBareCodec", dependencies: [.product(name: "HSBProtoC", package: "hsb-suite")]),
        .executableTarget(
            name: "RPCBench",
            dependencies: [
                "BenchSupport", "SwiftProtobufMessages",
                .product(name: "HSBWire", package: "hsb-suite"),
                .product(name: "HSBRuntime", package: "hsb-suite"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: settings),
        .executableTarget(
            name: "CodecBench",
            dependencies: [
                "BenchSupport", "SwiftProtobufMessages", "CBareCodec",
                .product(name: "HSBWire", package: "hsb-suite"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: settings),
        .executableTarget(
            name: "EndToEnd",
            dependencies: [
                "BenchSupport",
                .product(name: "HSBWire", package: "hsb-suite"),
                .product(name: "HSBRuntime", package: "hsb-suite"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: settings),
        // The SQLite driver: GRDB (the suite's store) against the raw C API it replaced.
        .systemLibrary(name: "CRawSQLite", path: "Sources/CRawSQLite", pkgConfig: "sqlite3"),
        .executableTarget(
            name: "StoreBench",
            dependencies: [
                "BenchSupport", "CRawSQLite", .product(name: "HSBStorage", package: "hsb-suite"), .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: settings),
        // The link to PostgreSQL: libpq (the store's), postgres-nio waited for from a thread, and
        // postgres-nio from code on the connection's event loop (what an asynchronous store would do).
        .executableTarget(
            name: "PGLinkBench",
            dependencies: [
                "BenchSupport", .product(name: "HSBStorage", package: "hsb-suite"), .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings),
        .executableTarget(name: "WireSoak", dependencies: [.product(name: "HSBWire", package: "hsb-suite")], swiftSettings: settings),
    ]
)
