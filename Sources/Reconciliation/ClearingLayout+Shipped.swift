public import SpecFiles

extension ClearingLayout {
    /// The layouts shipped in specs/reconcile, embedded in the binary at build time.
    public static let shippedNames = ["sim-issuer", "example-fixed"]

    /// The embedded text of a shipped layout.
    public static func shippedSource(_ name: String) -> (yaml: String, file: String)? {
        let bytes: [UInt8]
        switch name {
        case "sim-issuer": bytes = PackageResources.sim_issuer_yaml
        case "example-fixed": bytes = PackageResources.example_fixed_yaml
        default: return nil
        }
        return (String(decoding: bytes, as: UTF8.self), "specs/reconcile/\(name).yaml")
    }

    /// A shipped layout by name: `sim-issuer` is what `payswitch sim issuer --clearing-file` writes.
    public static func shipped(_ name: String) throws(SpecError) -> ClearingLayout {
        guard let source = shippedSource(name) else {
            throw SpecError(file: name, line: 0, column: 0,
                            message: "no shipped clearing layout named '\(name)'; shipped: \(shippedNames.joined(separator: ", "))")
        }
        return try load(yaml: source.yaml, file: source.file)
    }
}
