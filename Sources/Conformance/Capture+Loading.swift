public import SpecFiles
import ISO8583
import Transport

extension Capture {
    /// Reads a capture file; every error names file:line:column.
    public static func load(yaml: String, file: String) throws(SpecError) -> Capture {
        let root = try SpecNode.parse(yaml: yaml, file: file).mapping("a capture", allowed: ["capture", "name", "description", "sessions"])
        let version = try root.required("capture", in: "a capture")
        guard try version.integer("capture") == formatVersion else {
            throw version.error("capture format \(try version.string("capture")) is not supported; this payswitch reads format \(formatVersion)")
        }
        let name = try root.required("name", in: "a capture").string("name")
        let description = try root["description"]?.string("description")
        let sessionsNode = try root.required("sessions", in: "a capture")
        var sessions: [CaptureSession] = []
        for node in try sessionsNode.sequence("sessions") {
            sessions.append(try CaptureSession.read(node))
        }
        guard !sessions.isEmpty else { throw sessionsNode.error("a capture needs at least one session") }
        return Capture(name: name, description: description, sessions: sessions)
    }
}

extension CaptureSession {
    static let keys: Set<String> = ["name", "listener", "framing", "iso8583", "iso20022", "steps"]

    static func read(_ node: SpecNode) throws(SpecError) -> CaptureSession {
        let map = try node.mapping("a session", allowed: keys)
        let name = try map.required("name", in: "a session").string("name")
        let framingNode = try map.required("framing", in: "a session")
        let framingName = try framingNode.string("framing")
        guard let framing = FrameFormat.preset(named: framingName) else {
            let known = FrameFormat.presets.map(\.0).joined(separator: ", ")
            throw framingNode.error("framing '\(framingName)' is not a preset; presets: \(known)")
        }
        let wire: CaptureWire
        switch (map["iso8583"], map["iso20022"]) {
        case let (dialect?, nil):
            let dialectName = try dialect.string("iso8583")
            guard Dialect.shippedNames.contains(dialectName) else {
                throw dialect.error("iso8583 '\(dialectName)' is not a shipped dialect; shipped: \(Dialect.shippedNames.joined(separator: ", "))")
            }
            wire = .iso8583(dialect: dialectName)
        case let (nil, flag?):
            guard try flag.boolean("iso20022") else { throw flag.error("iso20022 must be true (or name the dialect with iso8583)") }
            wire = .iso20022
        default:
            throw map.node.error("a session needs exactly one of 'iso8583: DIALECT' and 'iso20022: true'")
        }
        let stepNodes = try map.required("steps", in: "a session").sequence("steps")
        guard !stepNodes.isEmpty else { throw map.node.error("session '\(name)' has no steps") }
        var steps: [CaptureStep] = []
        var lastAt: Duration = .zero
        for stepNode in stepNodes {
            let step = try CaptureStep.read(stepNode, wire: wire)
            if let at = step.at {
                guard at >= lastAt else { throw stepNode.error("'at' goes back in time: steps are in the order they happen") }
                lastAt = at
            }
            steps.append(step)
        }
        return CaptureSession(name: name, listener: try map["listener"]?.string("listener"), framing: framing, framingName: framingName,
                              wire: wire, steps: steps)
    }
}

extension CaptureStep {
    static let keys: Set<String> = ["send", "expect", "expect-close", "expect-silence", "at", "within", "masked"]

    static func read(_ node: SpecNode, wire: CaptureWire) throws(SpecError) -> CaptureStep {
        let map = try node.mapping("a step", allowed: keys)
        let actions = ["send", "expect", "expect-close", "expect-silence"].filter { map[$0] != nil }
        guard actions.count == 1, let actionKey = actions.first, let actionNode = map[actionKey] else {
            throw node.error("a step needs exactly one of send, expect, expect-close, expect-silence")
        }
        let action: Action
        switch actionKey {
        case "send": action = .send(try FrameContent.read(actionNode, wire: wire))
        case "expect": action = .expect(try AnswerExpectation.read(actionNode, wire: wire))
        case "expect-close":
            guard try actionNode.boolean("expect-close") else { throw actionNode.error("expect-close must be true") }
            action = .expectClose
        default: action = .expectSilence(try seconds(actionNode, "expect-silence"))
        }
        var masked: [String] = []
        if let list = map["masked"] {
            for item in try list.sequence("masked") { masked.append(try item.string("masked")) }
        }
        return CaptureStep(action: action, at: try map["at"].map { node throws(SpecError) in try seconds(node, "at") },
                           within: try map["within"].map { node throws(SpecError) in try seconds(node, "within") },
                           masked: masked, location: "\(node.file):\(node.line):\(node.column)")
    }

    /// Seconds as written (`0.25`), from 0 to one hour, kept to the microsecond.
    static func seconds(_ node: SpecNode, _ what: String) throws(SpecError) -> Duration {
        let text = try node.string(what)
        guard let value = Double(text), value.isFinite, value >= 0, value <= 3600 else {
            throw node.error("\(what) must be seconds from 0 to 3600, such as 0.25, not '\(text)'")
        }
        return .microseconds(Int64((value * 1_000_000).rounded()))
    }
}

extension FrameContent {
    static func read(_ node: SpecNode, wire: CaptureWire) throws(SpecError) -> FrameContent {
        let map = try node.mapping("a frame", allowed: ["mti", "fields", "xml", "hex", "raw"])
        if let hex = map["hex"] { return .hex(try bytes(hex, "hex")) }
        if let raw = map["raw"] { return .raw(try bytes(raw, "raw")) }
        if let xml = map["xml"] {
            guard wire == .iso20022 else { throw xml.error("an xml frame belongs in an iso20022 session") }
            return .xml(try xml.string("xml"))
        }
        guard case .iso8583 = wire else { throw node.error("a frame of an iso20022 session is xml, hex or raw") }
        let mtiNode = try map.required("mti", in: "an ISO 8583 frame")
        let mti = try mtiNode.string("mti")
        guard MTI(mti) != nil else { throw mtiNode.error("mti must be four digits, such as \"0200\", not '\(mti)'") }
        var fields: [(number: Int, value: String)] = []
        if let fieldsNode = map["fields"] {
            let fieldMap = try fieldsNode.mapping("fields")
            for key in fieldMap.keys {
                guard let number = Int(key), (2...Dialect.fieldLimit).contains(number), let value = fieldMap[key] else {
                    throw fieldMap.node.error("fields key '\(key)' is not a data element number 2-\(Dialect.fieldLimit)")
                }
                fields.append((number, try value.string("field \(number)")))
            }
        }
        return .iso8583(mti: mti, fields: fields)
    }

    static func bytes(_ node: SpecNode, _ what: String) throws(SpecError) -> [UInt8] {
        guard let bytes = Hex.decode(try node.string(what)) else { throw node.error("\(what) must be an even number of hexadecimal digits") }
        return bytes
    }
}

extension AnswerExpectation {
    static func read(_ node: SpecNode, wire: CaptureWire) throws(SpecError) -> AnswerExpectation {
        let map = try node.mapping("an expectation", allowed: ["hex", "mti", "fields", "only-listed", "message", "paths"])
        if let hex = map["hex"] {
            guard map.keys.count == 1 else { throw node.error("an expectation of exact bytes (hex) takes no other key") }
            return AnswerExpectation(form: .bytes(try FrameContent.bytes(hex, "hex")))
        }
        switch wire {
        case .iso8583:
            if let stray = map["message"] ?? map["paths"] { throw stray.error("message and paths are for ISO 20022 sessions") }
            let mti = try map["mti"].map { node throws(SpecError) in try ValueExpectation.read(node, "mti") }
            var fields: [(key: String, expectation: ValueExpectation)] = []
            if let fieldsNode = map["fields"] {
                let fieldMap = try fieldsNode.mapping("fields")
                for key in fieldMap.keys {
                    guard FieldKey(key) != nil, let value = fieldMap[key] else {
                        throw fieldMap.node.error("fields key '\(key)' is not a field (39), subfield (48.1) or EMV tag (55.9F26)")
                    }
                    fields.append((key, try ValueExpectation.read(value, "field \(key)")))
                }
            }
            return AnswerExpectation(form: .iso8583(mti: mti, fields: fields, onlyListed: try map["only-listed"]?.boolean("only-listed") ?? false))
        case .iso20022:
            if let stray = map["mti"] ?? map["fields"] ?? map["only-listed"] { throw stray.error("mti and fields are for ISO 8583 sessions") }
            var paths: [(key: String, expectation: ValueExpectation)] = []
            if let pathsNode = map["paths"] {
                let pathMap = try pathsNode.mapping("paths")
                for key in pathMap.keys {
                    guard let value = pathMap[key] else { continue }
                    paths.append((key, try ValueExpectation.read(value, "path \(key)")))
                }
            }
            return AnswerExpectation(form: .iso20022(message: try map["message"]?.string("message"), paths: paths))
        }
    }
}

extension ValueExpectation {
    static func read(_ node: SpecNode, _ what: String) throws(SpecError) -> ValueExpectation {
        guard node.isMapping else {
            let text = try node.string(what)
            return text == "*" ? .any : .equals(text)
        }
        let map = try node.mapping(what, allowed: ["equals", "pattern", "absent", "echo"])
        guard map.keys.count == 1, let key = map.keys.first, let value = map[key] else {
            throw node.error("\(what) takes one of equals, pattern, absent: true, echo: true")
        }
        switch key {
        case "equals": return .equals(try value.string(what))
        case "pattern":
            let pattern = try value.string(what)
            do {
                _ = try Regex(pattern)
            } catch {
                throw value.error("\(what): '\(pattern)' is not a regular expression: \(error)")
            }
            return .pattern(pattern)
        case "absent":
            guard try value.boolean("absent") else { throw value.error("absent must be true (leave the key out otherwise)") }
            return .absent
        default:
            guard try value.boolean("echo") else { throw value.error("echo must be true (leave the key out otherwise)") }
            return .echo
        }
    }
}

/// An ISO 8583 expectation key: a field, a subfield of a composite field, or a tag of field 55.
struct FieldKey: Hashable {
    var field: Int
    var part: String?

    init?(_ text: String) {
        let pieces = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let number = Int(pieces[0]), (2...Dialect.fieldLimit).contains(number) else { return nil }
        field = number
        if pieces.count == 2 {
            guard !pieces[1].isEmpty else { return nil }
            part = String(pieces[1])
        }
    }
}
