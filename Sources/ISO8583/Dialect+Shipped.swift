public import SpecFiles

extension Dialect {
    /// The dialects shipped in specs/iso8583, embedded in the binary at build time.
    public static let shippedNames = ["iso87ascii", "iso87binary", "iso87bcd", "iso87ebcdic", "iso93ascii"]

    /// The embedded spec text of a shipped dialect.
    public static func shippedSource(_ name: String) -> (yaml: String, file: String)? {
        let bytes: [UInt8]
        switch name {
        case "iso87ascii": bytes = PackageResources.iso87ascii_yaml
        case "iso87binary": bytes = PackageResources.iso87binary_yaml
        case "iso87bcd": bytes = PackageResources.iso87bcd_yaml
        case "iso87ebcdic": bytes = PackageResources.iso87ebcdic_yaml
        case "iso93ascii": bytes = PackageResources.iso93ascii_yaml
        default: return nil
        }
        return (String(decoding: bytes, as: UTF8.self), "specs/iso8583/\(name).yaml")
    }

    /// A shipped dialect by name, loaded once per process.
    public static func shipped(_ name: String) throws(SpecError) -> Dialect {
        if let dialect = shippedCache[name] { return dialect }
        guard let source = shippedSource(name) else {
            throw SpecError(file: name, line: 0, column: 0,
                            message: "no shipped dialect named '\(name)'; shipped: \(shippedNames.joined(separator: ", "))")
        }
        return try load(yaml: source.yaml, file: source.file)
    }

    /// Shipped dialects are validated by the test suite, so loading them here cannot fail in a release.
    private static let shippedCache: [String: Dialect] = {
        var cache: [String: Dialect] = [:]
        for name in shippedNames {
            if let source = shippedSource(name), let dialect = try? load(yaml: source.yaml, file: source.file) {
                cache[name] = dialect
            }
        }
        return cache
    }()
}
