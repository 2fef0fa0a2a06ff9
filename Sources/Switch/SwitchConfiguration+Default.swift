extension SwitchConfiguration {
    /// The embedded default configuration's text (`Sources/Switch/Defaults/switch.yaml`).
    public static var embeddedDefaultText: String { String(decoding: PackageResources.switch_yaml, as: UTF8.self) }

    /// The files embedded beside it, by the name the configuration uses.
    public static func embeddedFile(_ name: String) -> String? {
        switch name {
        case "switch.yaml": embeddedDefaultText
        case "rules.yaml": String(decoding: PackageResources.rules_yaml, as: UTF8.self)
        default: nil
        }
    }

    /// The embedded default configuration: listeners and channels on loopback (see `switch.yaml`).
    public static func embeddedDefault() throws(SpecError) -> SwitchConfiguration {
        try load(yaml: embeddedDefaultText, file: "embedded:switch.yaml", readFile: embeddedFile)
    }
}

public import SpecFiles
