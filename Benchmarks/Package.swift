// swift-tools-version: 6.1
// Benchmarks for payswitch, kept in their own package so the main package never depends on
// package-benchmark. Run from this folder:
//   swift package --disable-sandbox benchmark --target ISO8583Benchmarks
//   swift package --disable-sandbox benchmark --target ISO20022Benchmarks
//   swift package --disable-sandbox benchmark --target RoutingBenchmarks
//   swift package --disable-sandbox benchmark --target PerMessageBenchmarks
//   swift package --disable-sandbox benchmark --target SecurityBenchmarks
//   swift package --disable-sandbox benchmark --target ReconciliationBenchmarks   (and tools/bench/reconcile.sh, with ReconcileFixture)
//   tools/bench/journal.sh   (JournalWriteBench: the journal in PostgreSQL, blocks against rows and COPY)
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder: the checkout's folder, whatever a clone calls it.
let mainPackage = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../"),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
    ],
    targets: [
        .executableTarget(
            name: "ISO8583Benchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "ISO8583", package: mainPackage),
            ],
            path: "Benchmarks/ISO8583Benchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // System libxml2 for the bare reader baseline. Not named CLibXML2: the main package has that module.
        .systemLibrary(
            name: "CLibXML2Bench",
            path: "Sources/CLibXML2Bench",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // libxml2 alone (a reader pass, a SAX2 parse with empty callbacks): the ISO 20022 floors.
        .target(
            name: "LibXML2Floor",
            dependencies: ["CLibXML2Bench"],
            path: "Sources/LibXML2Floor"
        ),
        .executableTarget(
            name: "ISO20022Benchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "ISO20022", package: mainPackage),
                .product(name: "PaymentModel", package: mainPackage),
                "LibXML2Floor",
            ],
            path: "Benchmarks/ISO20022Benchmarks",
            exclude: ["pacs008_3k.xml"],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "RoutingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "Routing", package: mainPackage),
                .product(name: "PaymentModel", package: mainPackage),
            ],
            path: "Benchmarks/RoutingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // The switch's per-message work on the typical 0200, shared by the benchmark and its loop.
        .target(
            name: "PerMessageFixture",
            dependencies: [
                .product(name: "ISO8583", package: mainPackage),
                .product(name: "PaymentModel", package: mainPackage),
                .product(name: "Routing", package: mainPackage),
            ],
            path: "Sources/PerMessageFixture"
        ),
        .executableTarget(
            name: "PerMessageBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "ISO8583", package: mainPackage),
                "PerMessageFixture",
            ],
            path: "Benchmarks/PerMessageBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "SecurityBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "SecurityModule", package: mainPackage),
            ],
            path: "Benchmarks/SecurityBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "ReconciliationBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "Reconciliation", package: mainPackage),
            ],
            path: "Benchmarks/ReconciliationBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // A day-end fixture (journal and clearing file) for tools/bench/reconcile.sh.
        .executableTarget(
            name: "ReconcileFixture",
            dependencies: [
                .product(name: "Switch", package: mainPackage),
                .product(name: "SQLiteStorage", package: mainPackage),
            ],
            path: "Sources/ReconcileFixture"
        ),
        .executableTarget(
            name: "PerMessageLoop",
            dependencies: ["PerMessageFixture"],
            path: "Sources/PerMessageLoop"
        ),
        // The journal written to PostgreSQL the switch's way and three row-per-record ways (tools/bench/journal.sh).
        .executableTarget(
            name: "JournalWriteBench",
            dependencies: [
                .product(name: "ClusterStorage", package: mainPackage),
                .product(name: "Switch", package: mainPackage),
                .product(name: "SecurityModule", package: mainPackage),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Sources/JournalWriteBench"
        ),
        // The same two operations in a plain loop, for valgrind/perf (see README.md).
        .executableTarget(
            name: "ISO20022DecodeLoop",
            dependencies: [
                .product(name: "ISO20022", package: mainPackage),
                .product(name: "PaymentModel", package: mainPackage),
                "LibXML2Floor",
            ],
            path: "Sources/ISO20022DecodeLoop"
        ),
    ],
    swiftLanguageModes: [.v6]
)
