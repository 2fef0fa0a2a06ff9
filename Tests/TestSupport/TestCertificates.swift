import Foundation

/// A throwaway PKI made by tools/make-test-certs.sh, once per test process.
public enum TestCertificates {
    public static let directory: String = {
        // Tests/TestSupport/TestCertificates.swift → the package root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = NSTemporaryDirectory() + "payswitch-certs-\(getpid())"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("tools/make-test-certs.sh").path, directory]
        process.standardOutput = FileHandle.nullDevice
        try! process.run()
        process.waitUntilExit()
        precondition(process.terminationStatus == 0, "tools/make-test-certs.sh failed")
        return directory
    }()

    public static func path(_ name: String) -> String { directory + "/" + name }
}
