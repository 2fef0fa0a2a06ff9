// swift-tools-version: 6.1
// libFuzzer targets for payswitch, in their own package so that the main package never builds
// with the sanitizers. Build and run them with tools/fuzz.sh (see README.md here); the build is
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder: the checkout's folder, whatever a clone calls it.
let mainPackage = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

/// Each fuzz target: one file defining LLVMFuzzerTestOneInput, and the main package's products it uses.
let fuzzTargets: [(name: String, products: [String])] = [
    ("iso8583", ["ISO8583"]),
    ("iso8583map", ["ISO8583", "PaymentModel"]),
    ("framing", ["Transport"]),
    ("iso20022", ["ISO20022", "PaymentModel"]),
    ("rules", ["Routing", "PaymentModel"]),
    ("dialect", ["ISO8583", "PaymentModel"]),
    ("behaviour", ["Simulators", "PaymentModel"]),
]

let package = Package(
    name: "fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "../")],
    targets: [
        // libFuzzer's main for SwiftPM executables (see Sources/FuzzMain/FuzzMain.c).
        .target(name: "FuzzMain"),
    ] + fuzzTargets.map { target in
        .executableTarget(
            name: target.name,
            dependencies: ["FuzzMain"] + target.products.map { .product(name: $0, package: mainPackage) }
        )
    },
    swiftLanguageModes: [.v6]
)
