// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "payswitch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "payswitch", targets: ["payswitch"]),
        .library(name: "ISO8583", targets: ["ISO8583"]),
        .library(name: "Transport", targets: ["Transport"]),
        .library(name: "PaymentModel", targets: ["PaymentModel"]),
        .library(name: "ISO20022", targets: ["ISO20022"]),
        .library(name: "Simulators", targets: ["Simulators"]),
        .library(name: "Routing", targets: ["Routing"]),
        .library(name: "Switch", targets: ["Switch"]),
        .library(name: "CanonicalJSON", targets: ["CanonicalJSON"]),
        .library(name: "SecurityModule", targets: ["SecurityModule"]),
        .library(name: "SQLiteStorage", targets: ["SQLiteStorage"]),
        .library(name: "ClusterStorage", targets: ["ClusterStorage"]),
        .library(name: "Reconciliation", targets: ["Reconciliation"]),
        .library(name: "Conformance", targets: ["Conformance"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
        // Already in the graph through hummingbird; named here because AdminEndpoint imports them itself
        // (NIOCore for the bound channel's address and ByteBuffer, ServiceLifecycle for graceful shutdown).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.21.0"),
    ],
    targets: [
        // Reading human-edited YAML files with file:line:column in every error.
        .target(name: "SpecFiles", dependencies: [.product(name: "Yams", package: "Yams")]),
        // The canonical payment message every codec maps to and from; knows no wire format.
        .target(name: "PaymentModel", dependencies: ["SpecFiles"], resources: [.embedInCode("Codes")]),
        // The ISO 8583 codec: dialects described by YAML spec files (specs/iso8583, embedded at build time).
        .target(
            name: "ISO8583",
            dependencies: ["SpecFiles", "PaymentModel"],
            resources: [.embedInCode("Dialects"), .embedInCode("Mappings")]
        ),
        // System OpenSSL (libssl-dev) and the C functions Swift cannot call directly (accept4, OpenSSL macros).
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // libcrypto alone, for the security module (COpenSSL, with libssl, is Transport's).
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(name: "CShims", dependencies: ["COpenSSL"], cSettings: [.define("_GNU_SOURCE")]),
        // Non-blocking TCP on Dispatch, framing as data, TLS over memory BIOs. Knows nothing of ISO 8583.
        .target(
            name: "Transport",
            dependencies: ["COpenSSL", "CShims", .product(name: "Logging", package: "swift-log")]
        ),
        // System libxml2 (libxml2-dev); only the ISO 20022 codec imports it.
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // The ISO 20022 codec: streaming libxml2 reader (no DTDs, size and depth limits), schema tables
        // generated from the XSDs, mapping tables (specs/iso20022/mappings, embedded at build time).
        .target(name: "ISO20022", dependencies: ["CLibXML2", "PaymentModel", "SpecFiles"],
                resources: [.embedInCode("Schema"), .embedInCode("Mappings")]),
        // Issuer, acquirer and POS simulators: the behaviour behind `payswitch sim`, runnable in-process by tests.
        .target(
            name: "Simulators",
            dependencies: [
                "ISO8583", "ISO20022", "PaymentModel", "SecurityModule", "SpecFiles", "Transport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // Routing rules compiled to a decision index, plus channel health; reads only canonical messages.
        .target(name: "Routing", dependencies: ["PaymentModel", "SpecFiles"]),
        // The canonical message and ISO 8583 messages as JSON: shared by the CLI, the admin endpoint and the journal.
        .target(name: "CanonicalJSON", dependencies: ["ISO8583", "PaymentModel"]),
        // The software security module: the data key that seals stored messages and hashes PANs for
        // lookups (OpenSSL's libcrypto, imported here only for that).
        .target(name: "SecurityModule", dependencies: ["CLibCrypto"]),
        // The switch: listeners, channels to hosts, matching, timeouts, reversals, store-and-forward,
        // the journal (through the SwitchStorage protocol). The only module that holds transaction state.
        .target(
            name: "Switch",
            dependencies: [
                "CanonicalJSON", "ISO8583", "ISO20022", "PaymentModel", "Routing", "SecurityModule", "SpecFiles", "Transport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            resources: [.embedInCode("Defaults")]
        ),
        // The embedded storage of the switch: SQLite in WAL mode through GRDB (Debian libsqlite3-dev).
        .target(
            name: "SQLiteStorage",
            dependencies: ["Switch", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")]
        ),
        // Several switch nodes on one PostgreSQL (postgres-nio): versioned schema, nodes with epochs and
        // fencing, claims that let one node forward a request, STAN blocks that never overlap; and the
        // switch's storage protocol on PostgreSQL (`storage: path: postgres://…`).
        .target(
            name: "ClusterStorage",
            dependencies: [
                "Switch", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // Day end: a host's clearing file (CSV or fixed width, laid out by a YAML mapping) streamed
        // and matched against what the switch journalled; knows neither the journal's storage nor wire formats.
        .target(name: "Reconciliation", dependencies: ["PaymentModel", "SpecFiles"], resources: [.embedInCode("Layouts")]),
        // Conformance captures: the capture format, replay against a host with field-level
        // expectations and JUnit output, and pcap/pcapng import and export with TCP reassembly.
        .target(name: "Conformance", dependencies: ["CanonicalJSON", "ISO8583", "ISO20022", "PaymentModel", "SpecFiles", "Transport"]),
        // The admin HTTP endpoint (hummingbird, off the data path): metrics, health, reload, channels.
        .target(
            name: "AdminEndpoint",
            dependencies: [
                "Switch",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "payswitch",
            dependencies: [
                "AdminEndpoint",
                "CanonicalJSON",
                "Conformance",
                "ClusterStorage",
                "SQLiteStorage",
                "SecurityModule",
                "Switch",
                "ISO8583",
                "ISO20022",
                "PaymentModel",
                "Reconciliation",
                "Simulators",
                "Routing",
                "Transport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // The reference frames of conformance/frames, for the demo and the load generator; the
            // demo-only certificates of tools/make-demo-pki.sh.
            resources: [.embedInCode("Samples"), .embedInCode("DemoPKI")]
        ),
        .testTarget(name: "ISO8583Tests", dependencies: ["ISO8583", "TestSupport"]),
        // What several test targets share: the throwaway PKI of tools/make-test-certs.sh, a seeded generator.
        .target(name: "TestSupport", dependencies: ["Transport"], path: "Tests/TestSupport"),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "PaymentModelTests", dependencies: ["PaymentModel"]),
        .testTarget(name: "ISO20022Tests", dependencies: ["ISO20022", "PaymentModel", "SpecFiles"], resources: [.copy("Samples")]),
        .testTarget(name: "RoutingTests", dependencies: ["Routing", "PaymentModel", "TestSupport"]),
        .testTarget(name: "PayswitchCLITests", dependencies: ["payswitch", "ISO8583", "PaymentModel", "TestSupport"]),
        .testTarget(
            name: "SwitchTests",
            dependencies: [
                "Switch", "SQLiteStorage", "ClusterStorage", "SecurityModule", "Simulators", "Transport", "ISO8583", "ISO20022", "PaymentModel",
                "Routing", "TestSupport",
            ]
        ),
        .testTarget(
            name: "AdminEndpointTests",
            dependencies: [
                "AdminEndpoint", "Switch", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ClusterStorageTests",
            dependencies: ["ClusterStorage", "Switch", "TestSupport", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        .testTarget(name: "ReconciliationTests", dependencies: ["Reconciliation", "PaymentModel", "SpecFiles"]),
        .testTarget(name: "SecurityModuleTests", dependencies: ["SecurityModule", "TestSupport"]),
        .testTarget(name: "SimulatorsTests", dependencies: ["Simulators", "Transport", "ISO8583", "ISO20022", "PaymentModel", "TestSupport"]),
        .testTarget(name: "ConformanceTests", dependencies: ["Conformance", "ISO8583", "ISO20022", "PaymentModel", "Simulators", "SpecFiles", "Transport", "TestSupport"], exclude: ["Captures"]),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where [.executable, .test, .regular].contains(target.type) {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
