/// What the codec knows of the ISO 20022 schemas: the generated table Schema/schema-tables.txt
/// (tools/iso20022/schema_tables.py writes it from the official XSDs in specs/iso20022), read once.
///
/// The reader asks it whether an element may repeat; the writer asks it for element order,
/// occurrences, choices and facets, so that it never emits a document the XSD refuses.
struct ISO20022Schema: Sendable {
    /// One element of a sequence or choice.
    struct Particle: Sendable {
        let name: String
        let type: String
        let minOccurs: Int
        /// `Int.max` for unbounded.
        let maxOccurs: Int
    }

    struct Attribute: Sendable {
        let name: String
        let type: String
        let required: Bool
    }

    /// A complex type's content model. A struct, not an enum with payloads: these tables live for
    /// the whole process, and a multi-payload enum keeps its tag in a pointer's spare bits, where
    /// LeakSanitizer no longer sees the pointer (the fuzz targets run under it).
    struct Content: Sendable {
        enum Form: Sendable {
            case sequence, choice
            /// Any element of any namespace (`SplmtryData/Envlp`).
            case any
            /// Text of a simple type (`base`), with attributes (amounts with `Ccy`).
            case simple
        }

        var form: Form
        var particles: [Particle] = []
        var base = ""
        var attributes: [Attribute] = []
    }

    /// The root of one message: the message element (below `Document`) or `AppHdr`.
    struct Root: Sendable {
        let element: String
        let type: String
    }

    /// A type of either kind, for the writer's one lookup per element.
    struct Kind: Sendable {
        var simple: ISO20022SimpleType?
        var complex: Content?
    }

    var roots: [String: Root] = [:]
    var complexTypes: [String: Content] = [:]
    var simpleTypes: [String: ISO20022SimpleType] = [:]
    var kinds: [String: Kind] = [:]

    static let shared = ISO20022Schema(table: String(decoding: PackageResources.schema_tables_txt, as: UTF8.self))

    init(table: String) {
        for line in table.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 2 else { continue }
            let name = fields[1]
            let rest = fields.dropFirst(2)
            switch fields[0] {
            case "message": roots[name] = Root(element: fields[2], type: fields[3])
            case "sequence": complexTypes[name] = Content(form: .sequence, particles: rest.map(ISO20022Schema.particle))
            case "choice": complexTypes[name] = Content(form: .choice, particles: rest.map(ISO20022Schema.particle))
            case "any": complexTypes[name] = Content(form: .any)
            case "content":
                complexTypes[name] = Content(form: .simple, base: fields[2], attributes: fields.dropFirst(3).map { field in
                    let parts = field.split(separator: ":").map(String.init)
                    return Attribute(name: parts[0], type: parts[1], required: parts[2] == "required")
                })
            case "simple": simpleTypes[name] = ISO20022SimpleType(name: name, base: fields[2], facets: Array(fields.dropFirst(3)))
            default: continue
            }
        }
        for (name, simple) in simpleTypes { kinds[name] = Kind(simple: simple) }
        for (name, content) in complexTypes { kinds[name] = Kind(complex: content) }
    }

    private static func particle(_ field: String) -> Particle {
        let parts = field.split(separator: ":").map(String.init)
        return Particle(name: parts[0], type: parts[1], minOccurs: Int(parts[2]) ?? 1,
                        maxOccurs: parts[3] == "n" ? Int.max : Int(parts[3]) ?? 1)
    }

    /// The particles of a sequence or choice type; empty for any other.
    func particles(of type: String) -> [Particle] {
        complexTypes[type]?.particles ?? []
    }

    /// Whether `type` is a group that may be empty: a sequence whose every element is optional, or
    /// a choice with an optional element (pacs.009's `References74Choice`).
    func isOptionalGroup(_ type: String) -> Bool {
        guard let content = complexTypes[type] else { return false }
        switch content.form {
        case .sequence: return content.particles.allSatisfy { $0.minOccurs == 0 }
        case .choice: return content.particles.contains { $0.minOccurs == 0 }
        case .any, .simple: return false
        }
    }

    /// Whether the element at `path` (names below an element of type `root`, no indexes) may occur
    /// more than once: its maxOccurs is above 1. Asked only when an element repeats, so walked then.
    func isRepeatable(_ path: Substring, from root: String) -> Bool {
        var type = root
        var maxOccurs = 1
        let found = ISO20022Path.forEachStep(path) { name, _ in
            guard let particle = particles(of: type).first(where: { $0.name == name }) else { return false }
            (type, maxOccurs) = (particle.type, particle.maxOccurs)
            return true
        }
        return found && maxOccurs > 1
    }
}

extension ISO20022MessageDefinition {
    /// The message element and its type in the schema table.
    var schemaRoot: ISO20022Schema.Root {
        // Every supported definition is in the table (schema_tables.py lists them); a test checks it.
        ISO20022Schema.shared.roots[rawValue] ?? ISO20022Schema.Root(element: rawValue, type: "")
    }

    static let headerDefinition = "head.001.001.02"
}
