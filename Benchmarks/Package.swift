// swift-tools-version: 6.1
// Benchmarks for payswitch, kept in their own package so the main package never depends on
// package-benchmark. Run from this folder:
//   swift package --disable-sandbox benchmark --target ISO8583Benchmarks
import PackageDescription

let package = Package(
    name: "benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../"),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ISO8583Benchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "ISO8583", package: "main"),
            ],
            path: "Benchmarks/ISO8583Benchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
