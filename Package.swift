// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "hsb-suite",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "intake", targets: ["Intake"]),
        .executable(name: "youth-justice", targets: ["YouthJustice"]),
        .executable(name: "camhs", targets: ["CAMHS"]),
        .executable(name: "mappa", targets: ["MAPPA"]),
        .executable(name: "orchestrator", targets: ["Orchestrator"]),
        .executable(name: "hsbctl", targets: ["HSBCtl"]),
        // The practitioners' web workspace: the only product that builds Hummingbird.
        .executable(name: "workspace", targets: ["Workspace"]),
        // Hostile frames against every service kind, in-process over loopback (scripts/fuzz.sh).
        .executable(name: "hsb-fuzz", targets: ["HSBFuzz"]),
        .library(name: "HSBWire", targets: ["HSBWire"]),
        .library(name: "HSBRuntime", targets: ["HSBRuntime"]),
        .library(name: "HSBContract", targets: ["HSBContract"]),
        .library(name: "HSBServiceKit", targets: ["HSBServiceKit"]),
        .library(name: "HSBSafeguarding", targets: ["HSBSafeguarding"]),
        // The store, for the benchmark package's store benchmark (Benchmarks/Sources/StoreBench).
        .library(name: "HSBStorage", targets: ["HSBStorage"]),
        // The generated protobuf-c code, for the benchmark package's bare C codec baseline (Benchmarks/).
        .library(name: "HSBProtoC", targets: ["HSBProtoC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // The workspace only (Services/WorkspaceApp): never in an agency service's build graph.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // The C runtime: libprotobuf-c from the system, and the code protoc-c generates.
        .systemLibrary(
            name: "CProtobufC",
            path: "Shared/CProtobufC",
            pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]
        ),
        .target(
            name: "HSBProtoC",
            dependencies: ["CProtobufC"],
            path: "Shared/HSBProtoC",
            publicHeadersPath: "include",
            cSettings: [.headerSearchPath("include")]
        ),
        // The one Swift wrapper over protobuf-c, and the length-prefixed framing.
        .target(
            name: "HSBWire",
            dependencies: [
                "HSBProtoC",
                "CProtobufC",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Shared/HSBWire",
            swiftSettings: strict
        ),
        // glibc's malloc_trim, for returning a hostile peer's freed buffers to the system.
        .target(
            name: "CHSBMemory",
            path: "Shared/CHSBMemory",
            publicHeadersPath: "include"
        ),
        // TCP server and client, dispatch, deadlines, auth, health, ops HTTP, metrics, logging.
        .target(
            name: "HSBRuntime",
            dependencies: [
                "HSBWire",
                "CHSBMemory",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Shared/HSBRuntime",
            swiftSettings: strict
        ),
        .systemLibrary(
            name: "CPostgres",
            path: "Shared/CPostgres",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The generated typed server protocols and clients of every service in proto/.
        .target(
            name: "HSBContract",
            dependencies: ["HSBRuntime", "HSBWire"],
            path: "Shared/HSBContract",
            swiftSettings: strict
        ),
        // Each service's own records.
        .target(
            name: "HSBStorage",
            dependencies: [
                "CPostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/HSBStorage",
            swiftSettings: strict
        ),
        // The procedures' rules as pure, deterministic Swift: no I/O, no clock of its own.
        .target(name: "HSBSafeguarding", path: "Shared/HSBSafeguarding", swiftSettings: strict),
        // What every executable shares: configuration, the store, the runtime, lifecycle.
        .target(
            name: "HSBServiceKit",
            dependencies: [
                "HSBRuntime",
                "HSBSafeguarding",
                "HSBStorage",
                "HSBWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Shared/HSBServiceKit",
            swiftSettings: strict
        ),
        // Hosts a real service on port 0 for tests, on SQLite or PostgreSQL.
        .target(
            name: "HSBServiceTesting",
            dependencies: [
                "HSBServiceKit", "HSBRuntime", "HSBStorage", "HSBWire",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/HSBServiceTesting",
            swiftSettings: strict
        ),
        // The previous release's contract and a next release's, for the compatibility tests
        // (scripts/generate-fixtures.sh): C with prefixed symbols, and Swift types beside HSBWire's.
        .target(
            name: "HSBPreviousProtoC", dependencies: ["CProtobufC"], path: "Tests/Fixtures/Previous/ProtoC", publicHeadersPath: "include",
            cSettings: [.headerSearchPath("include")]),
        .target(
            name: "HSBPreviousContract", dependencies: ["HSBWire", "HSBPreviousProtoC", "CProtobufC"], path: "Tests/Fixtures/Previous/Contract",
            swiftSettings: strict),
        .target(
            name: "HSBNextProtoC", dependencies: ["CProtobufC"], path: "Tests/Fixtures/Next/ProtoC", publicHeadersPath: "include",
            cSettings: [.headerSearchPath("include")]),
        .target(
            name: "HSBNextContract", dependencies: ["HSBWire", "HSBNextProtoC", "CProtobufC"], path: "Tests/Fixtures/Next/Contract",
            swiftSettings: strict),
        // The contact service and MASH: its methods, in a library so tests can host them.
        .target(
            name: "IntakeService",
            dependencies: ["HSBContract", "HSBServiceKit", "HSBRuntime", "HSBSafeguarding", "HSBStorage", "HSBWire"],
            path: "Services/IntakeService",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "Intake",
            dependencies: [
                "HSBServiceKit", "IntakeService", "HSBSafeguarding",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/Intake",
            swiftSettings: strict
        ),
        .target(
            name: "YouthJusticeService",
            dependencies: ["HSBContract", "HSBServiceKit", "HSBRuntime", "HSBSafeguarding", "HSBStorage", "HSBWire"],
            path: "Services/YouthJusticeService",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "YouthJustice",
            dependencies: [
                "HSBServiceKit", "YouthJusticeService", "HSBSafeguarding",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/YouthJustice",
            swiftSettings: strict
        ),
        .target(
            name: "CamhsService",
            dependencies: ["HSBContract", "HSBServiceKit", "HSBRuntime", "HSBSafeguarding", "HSBStorage", "HSBWire"],
            path: "Services/CamhsService",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "CAMHS",
            dependencies: ["HSBServiceKit", "CamhsService", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Services/CAMHS",
            swiftSettings: strict
        ),
        .target(
            name: "MappaService",
            dependencies: ["HSBContract", "HSBServiceKit", "HSBRuntime", "HSBSafeguarding", "HSBStorage", "HSBWire"],
            path: "Services/MappaService",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "MAPPA",
            dependencies: ["HSBServiceKit", "MappaService", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Services/MAPPA",
            swiftSettings: strict
        ),
        // A case's pathway as a pure function of the case and one event (no NIO, no storage).
        .target(
            name: "HSBPathway",
            dependencies: ["HSBWire", "HSBSafeguarding"],
            path: "Shared/HSBPathway",
            swiftSettings: strict
        ),
        .target(
            name: "OrchestratorService",
            dependencies: [
                "HSBContract",
                "HSBServiceKit", "HSBRuntime", "HSBSafeguarding", "HSBStorage", "HSBWire", "HSBPathway",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/OrchestratorService",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "Orchestrator",
            dependencies: ["HSBServiceKit", "OrchestratorService", "HSBRuntime", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Services/Orchestrator",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "HSBCtl",
            dependencies: [
                "HSBStorage",
                // The orchestrator's tables, for export and audit on its host.
                "OrchestratorService",
                "HSBContract",
                "HSBServiceKit",
                "HSBSafeguarding",
                "HSBRuntime",
                "HSBWire",
                "HSBPractice",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/HSBCtl",
            swiftSettings: strict
        ),
        // What a practitioner's client shows and sends, shared by hsbctl and the workspace: the events
        // a case may record, and a case's steps and reasons in words.
        .target(
            name: "HSBPractice",
            dependencies: ["HSBContract", "HSBRuntime", "HSBWire", "HSBSafeguarding"],
            path: "Shared/HSBPractice",
            swiftSettings: strict
        ),
        // The practitioners' workspace: web pages over the orchestrator's typed client.
        .target(
            name: "WorkspaceApp",
            dependencies: [
                "HSBPractice", "HSBContract", "HSBRuntime", "HSBWire", "HSBSafeguarding", "HSBPathway", "HSBServiceKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/WorkspaceApp",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "Workspace",
            dependencies: [
                "WorkspaceApp", "HSBServiceKit", "HSBRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ],
            path: "Services/Workspace",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "HSBFuzz",
            dependencies: [
                "HSBServiceKit", "HSBRuntime", "HSBStorage", "HSBWire", "HSBSafeguarding", "IntakeService", "YouthJusticeService", "CamhsService",
                "MappaService",
                "OrchestratorService", .product(name: "Logging", package: "swift-log"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Services/HSBFuzz",
            swiftSettings: strict
        ),
        .testTarget(
            name: "HSBWireTests",
            dependencies: [
                "HSBWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "HSBSafeguardingTests", dependencies: ["HSBSafeguarding"], swiftSettings: strict),
        // A client and a server of the previous release, and of a next one, against today's.
        .testTarget(
            name: "CompatibilityTests",
            dependencies: [
                "HSBPreviousContract", "HSBNextContract", "HSBContract", "HSBWire", "HSBRuntime", "HSBServiceKit", "HSBServiceTesting",
                "CamhsService", "MappaService",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "HSBStorageTests", dependencies: ["HSBStorage", "HSBServiceKit", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: strict),
        .testTarget(
            name: "IntakeServiceTests",
            dependencies: [
                "IntakeService", "HSBServiceTesting", "HSBServiceKit", "HSBRuntime", "HSBWire", "HSBStorage", "HSBSafeguarding",
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "OrchestratorTests",
            dependencies: [
                "OrchestratorService", "IntakeService", "YouthJusticeService", "CamhsService", "HSBSafeguarding", "HSBServiceTesting",
                "HSBServiceKit", "HSBRuntime", "HSBPathway",
                "HSBWire",
                "HSBStorage",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HSBPathwayTests",
            dependencies: ["HSBPathway", "HSBWire", "HSBSafeguarding", "IntakeService"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "AgencyServicesTests",
            dependencies: [
                "YouthJusticeService", "MappaService", "CamhsService", "HSBServiceTesting", "HSBServiceKit", "HSBRuntime", "HSBWire", "HSBStorage",
                "HSBSafeguarding", .product(name: "Logging", package: "swift-log"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WorkspaceTests",
            dependencies: [
                "WorkspaceApp", "HSBPractice", "HSBContract", "HSBWire", "HSBRuntime", "HSBSafeguarding", "HSBPathway", "HSBServiceKit",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "HSBRuntimeTests",
            dependencies: [
                "HSBRuntime",
                "HSBServiceTesting",
                "HSBWire",
                "HSBStorage",
                "HSBServiceKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
    ]
)
