import CanonicalJSON
import ISO8583

extension Capture {
    /// The capture as YAML in the form ``load(yaml:file:)`` reads: one key per line, values quoted,
    /// so that a diff of two captures shows the fields that changed.
    public func yaml() -> String {
        var out = "# payswitch conformance capture (conformance/README.md)\n"
        out += "capture: \(Self.formatVersion)\n"
        out += "name: \(YAMLText.quoted(name))\n"
        if let description { out += "description: \(YAMLText.quoted(description))\n" }
        out += "sessions:\n"
        for session in sessions { session.write(into: &out) }
        return out
    }
}

extension CaptureSession {
    func write(into out: inout String) {
        out += "  - name: \(YAMLText.quoted(name))\n"
        if let listener { out += "    listener: \(YAMLText.quoted(listener))\n" }
        out += "    framing: \(framingName)\n"
        switch wire {
        case .iso8583(let dialect): out += "    iso8583: \(dialect)\n"
        case .iso20022: out += "    iso20022: true\n"
        }
        out += "    steps:\n"
        for step in steps { step.write(into: &out) }
    }
}

extension CaptureStep {
    func write(into out: inout String) {
        let indent = "          "
        switch action {
        case .send(let content):
            out += "      - send:\n"
            content.write(into: &out, indent: indent)
        case .expect(let expectation):
            out += "      - expect:\n"
            expectation.write(into: &out, indent: indent)
        case .expectClose:
            out += "      - expect-close: true\n"
        case .expectSilence(let quiet):
            out += "      - expect-silence: \(YAMLText.seconds(quiet))\n"
        }
        if let at { out += "        at: \(YAMLText.seconds(at))\n" }
        if let within { out += "        within: \(YAMLText.seconds(within))\n" }
        if !masked.isEmpty { out += "        masked: [\(masked.map(YAMLText.quoted).joined(separator: ", "))]\n" }
    }
}

extension FrameContent {
    func write(into out: inout String, indent: String) {
        switch self {
        case let .iso8583(mti, fields):
            out += "\(indent)mti: \"\(mti)\"\n"
            guard !fields.isEmpty else { return }
            out += "\(indent)fields:\n"
            for field in fields { out += "\(indent)  \(field.number): \(YAMLText.quoted(field.value))\n" }
        case .xml(let text):
            out += "\(indent)xml: " + YAMLText.block(text, indent: indent + "  ") + "\n"
        case .hex(let bytes):
            out += "\(indent)hex: \"\(Hex.encode(bytes))\"\n"
        case .raw(let bytes):
            out += "\(indent)raw: \"\(Hex.encode(bytes))\"\n"
        }
    }
}

extension AnswerExpectation {
    func write(into out: inout String, indent: String) {
        switch form {
        case .bytes(let bytes):
            out += "\(indent)hex: \"\(Hex.encode(bytes))\"\n"
        case let .iso8583(mti, fields, onlyListed):
            if let mti { out += "\(indent)mti: \(mti.yaml)\n" }
            if onlyListed { out += "\(indent)only-listed: true\n" }
            guard !fields.isEmpty else { return }
            out += "\(indent)fields:\n"
            for field in fields { out += "\(indent)  \(YAMLText.key(field.key)): \(field.expectation.yaml)\n" }
        case let .iso20022(message, paths):
            if let message { out += "\(indent)message: \(message)\n" }
            guard !paths.isEmpty else { return }
            out += "\(indent)paths:\n"
            for path in paths { out += "\(indent)  \(YAMLText.key(path.key)): \(path.expectation.yaml)\n" }
        }
    }
}

extension ValueExpectation {
    var yaml: String {
        switch self {
        case .equals(let text): return text == "*" ? "{equals: \"*\"}" : YAMLText.quoted(text)
        case .any: return "\"*\""
        case .absent: return "{absent: true}"
        case .pattern(let pattern): return "{pattern: \(YAMLText.quoted(pattern))}"
        case .echo: return "{echo: true}"
        }
    }
}

/// YAML scalars as captures write them.
enum YAMLText {
    /// A double-quoted scalar: every value reads back as the same text, whatever it holds. YAML's
    /// double-quoted form reads JSON's escapes, so the JSON quoting serves.
    static func quoted(_ text: String) -> String { MessageJSON.quote(text) }

    /// A mapping key: plain when it is a field number or a path, quoted otherwise.
    static func key(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "/.@[]_-".unicodeScalars.contains($0) }
        return plain && !text.isEmpty ? text : quoted(text)
    }

    /// A literal block (`|-`) when the text survives one unchanged, else a quoted scalar.
    static func block(_ text: String, indent: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let survives = !text.isEmpty && !text.hasSuffix("\n") && !text.contains("\r") && !text.contains("\t")
            && lines.allSatisfy { $0.last != " " } && lines.first?.first != " "
            && text.unicodeScalars.allSatisfy { $0.value >= 0x20 || $0 == "\n" }
        guard survives else { return quoted(text) }
        return "|-\n" + lines.map { $0.isEmpty ? "" : indent + $0 }.joined(separator: "\n")
    }

    static func seconds(_ duration: Duration) -> String {
        let microseconds = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        let whole = microseconds / 1_000_000
        let fraction = microseconds % 1_000_000
        guard fraction != 0 else { return String(whole) }
        var digits = String(fraction).leftPadded(to: 6)
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }
}

extension String {
    func leftPadded(to count: Int) -> String {
        self.count >= count ? self : String(repeating: "0", count: count - self.count) + self
    }
}
