public import SpecFiles

extension Dialect {
    /// Reads a dialect spec (YAML) and validates it; every error names file:line:column.
    ///
    /// - Parameters:
    ///   - yaml: The spec text.
    ///   - file: The name used in errors.
    ///   - resolve: Returns the spec text and file name of a dialect named by `extends`.
    public static func load(
        yaml: String, file: String, resolve: (String) -> (yaml: String, file: String)? = Dialect.shippedSource
    ) throws(SpecError) -> Dialect {
        var seen: [String] = []
        let draft = try DialectDraft.read(yaml: yaml, file: file, resolve: resolve, seen: &seen)
        return try draft.freeze()
    }
}

/// A dialect as written, before class defaults are applied: what `extends` merges over.
struct DialectDraft {
    var name: String
    /// The dialects this one extends, nearest first.
    var lineage: [String] = []
    var summary = ""
    var mti: (MTIEncoding, SpecNode)?
    var bitmap: (BitmapEncoding, SpecNode)?
    var tertiaryBitmap: Bool?
    var prefix: (PrefixEncoding, SpecNode)?
    var classEncodings: [FieldClass: (DataEncoding, SpecNode)] = [:]
    /// Field entries by number; a child's entry is merged key by key over its parent's.
    var fields: [Int: FieldDraft] = [:]
    let node: SpecNode

    static let topKeys: Set<String> = [
        "dialect", "description", "extends", "mti", "bitmap", "tertiary-bitmap", "prefix", "encoding", "fields",
    ]

    static func read(
        yaml: String, file: String, resolve: (String) -> (yaml: String, file: String)?, seen: inout [String]
    ) throws(SpecError) -> DialectDraft {
        let root = try SpecNode.parse(yaml: yaml, file: file)
        let top = try root.mapping("a dialect spec", allowed: topKeys)
        let name = try top.required("dialect", in: "a dialect spec").string("dialect")
        var draft: DialectDraft
        if let base = top["extends"] {
            let baseName = try base.string("extends")
            guard !seen.contains(baseName), baseName != name else {
                throw base.error("dialect '\(name)' extends '\(baseName)', which extends it back")
            }
            guard let source = resolve(baseName) else { throw base.error("no dialect named '\(baseName)' to extend") }
            seen.append(name)
            draft = try read(yaml: source.yaml, file: source.file, resolve: resolve, seen: &seen)
            draft.lineage.insert(draft.name, at: 0)
            draft.name = name
        } else {
            draft = DialectDraft(name: name, node: root)
        }
        if let value = top["description"] { draft.summary = try value.string("description") }
        if let value = top["mti"] { draft.mti = (try value.choice("mti", MTIEncoding.self), value) }
        if let value = top["bitmap"] { draft.bitmap = (try value.choice("bitmap", BitmapEncoding.self), value) }
        if let value = top["tertiary-bitmap"] { draft.tertiaryBitmap = try value.boolean("tertiary-bitmap") }
        if let value = top["prefix"] { draft.prefix = (try value.choice("prefix", PrefixEncoding.self), value) }
        if let value = top["encoding"] {
            let classes = Set(FieldClass.allCases.map(\.rawValue))
            let map = try value.mapping("encoding (per class)", allowed: classes)
            for key in map.keys {
                let node = map[key]!
                draft.classEncodings[FieldClass(rawValue: key)!] = (try node.choice("encoding", DataEncoding.self), node)
            }
        }
        var mine: Set<Int> = []
        for entry in try top["fields"]?.sequence("fields") ?? [] {
            for field in try FieldDraft.read(entry) {
                guard mine.insert(field.number).inserted else {
                    throw entry.error("field \(field.number) is defined twice in this file")
                }
                if let inherited = draft.fields[field.number] {
                    draft.fields[field.number] = inherited.merged(with: field)
                } else {
                    draft.fields[field.number] = field
                }
            }
        }
        return draft
    }

    func freeze() throws(SpecError) -> Dialect {
        let tertiary = tertiaryBitmap ?? false
        var specs: [FieldSpec] = []
        for number in fields.keys.sorted() {
            let draft = fields[number]!
            guard number >= 2 && number <= Dialect.fieldLimit else {
                throw draft.node.error("field \(number): data elements are numbered 2-\(Dialect.fieldLimit)")
            }
            if number == 65 && tertiary {
                throw draft.node.error("field 65 carries the tertiary bitmap in this dialect (tertiary-bitmap: true); remove its definition")
            }
            if number > 128 && !tertiary {
                throw draft.node.error("field \(number) needs a tertiary bitmap; set tertiary-bitmap: true")
            }
            specs.append(try draft.resolve(defaults: self, context: .message))
        }
        return Dialect(
            name: name, summary: summary, mtiEncoding: mti?.0 ?? .ascii, bitmapEncoding: bitmap?.0 ?? .binary,
            tertiaryBitmap: tertiary, fields: specs, lineage: lineage)
    }
}

/// Where a field definition sits, which decides the encodings it may use.
enum FieldContext {
    /// A data element of a message.
    case message
    /// A subfield inside a text composite: laid out over the parent's characters.
    case textComposite
    /// A subfield inside a binary composite: laid out over the parent's bytes.
    case binaryComposite
}

/// One field entry as written; every property optional so a child dialect can override a few.
struct FieldDraft {
    var number: Int
    var node: SpecNode
    var properties: [String: SpecNode] = [:]

    static let keys: Set<String> = [
        "field", "fields", "name", "class", "length", "max", "prefix", "encoding", "counts", "pad", "pad-char",
        "sensitivity", "subfields",
    ]

    /// Reads one entry; `fields: 129-192` yields one draft per number in the range.
    static func read(_ entry: SpecNode) throws(SpecError) -> [FieldDraft] {
        let map = try entry.mapping("a field definition", allowed: keys)
        var properties: [String: SpecNode] = [:]
        for key in map.keys where key != "field" && key != "fields" { properties[key] = map[key]! }
        if let single = map["field"] {
            guard map["fields"] == nil else { throw entry.error("use either 'field' or 'fields', not both") }
            return [FieldDraft(number: try single.integer("field"), node: entry, properties: properties)]
        }
        guard let range = map["fields"] else { throw entry.error("a field definition needs 'field' (a number) or 'fields' (a range such as 129-192)") }
        let text = try range.string("fields")
        let bounds = text.split(separator: "-").compactMap { Int($0.filter { $0 != " " }) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else { throw range.error("'fields' must be a range such as 129-192, not '\(text)'") }
        return (bounds[0]...bounds[1]).map { FieldDraft(number: $0, node: entry, properties: properties) }
    }

    func merged(with override: FieldDraft) -> FieldDraft {
        var result = self
        result.node = override.node
        result.properties.merge(override.properties) { _, new in new }
        return result
    }

    /// Applies defaults and checks every rule; the result is a complete field spec.
    func resolve(defaults: DialectDraft?, context: FieldContext) throws(SpecError) -> FieldSpec {
        let what = "field \(number)"
        func required(_ key: String) throws(SpecError) -> SpecNode {
            guard let value = properties[key] else { throw node.error("\(what) needs '\(key)'") }
            return value
        }
        let name = try required("name").string("name")
        let classNode = try required("class")
        let fieldClass = try classNode.choice("class", FieldClass.self)

        let lengthNode = try required("length")
        let lengthText = try lengthNode.string("length")
        let length: LengthType
        let maxLength: Int
        if let fixed = Int(lengthText) {
            guard fixed > 0 else { throw lengthNode.error("\(what): a fixed length must be positive") }
            if let max = properties["max"] { throw max.error("\(what): 'max' is only for variable fields (LL, LLL, LLLL)") }
            length = .fixed
            maxLength = fixed
        } else {
            let prefixes = ["LL": 2, "LLL": 3, "LLLL": 4]
            guard let digits = prefixes[lengthText] else {
                throw lengthNode.error("\(what): length must be a number (fixed) or LL, LLL or LLLL (variable), not '\(lengthText)'")
            }
            length = .variable(digits: digits)
            maxLength = try required("max").integer("max")
            guard maxLength > 0 else { throw properties["max"]!.error("\(what): 'max' must be positive") }
        }

        // Encoding: explicit, else the dialect's default for the class, else what the context implies.
        var encodingNode = properties["encoding"]
        var encoding: DataEncoding
        switch context {
        case .message:
            if let explicit = encodingNode {
                encoding = try explicit.choice("encoding", DataEncoding.self)
            } else if let byClass = defaults?.classEncodings[fieldClass] {
                encoding = byClass.0
                encodingNode = byClass.1
            } else {
                encoding = fieldClass == .binary ? .binary : .ascii
            }
        case .textComposite:
            if let explicit = encodingNode { throw explicit.error("\(what): subfields of a text field take the parent's encoding; remove 'encoding'") }
            encoding = fieldClass == .binary ? .hex : .ascii
        case .binaryComposite:
            if let explicit = encodingNode { throw explicit.error("\(what): subfields of a binary field take the parent's encoding; remove 'encoding'") }
            encoding = fieldClass == .binary ? .binary : .ascii
        }
        let encodingAllowed: Bool
        switch fieldClass {
        case .binary: encodingAllowed = encoding == .binary || encoding == .hex
        case .numeric, .track: encodingAllowed = encoding != .binary && encoding != .hex
        // The sign as a character, the digits packed (jPOS IFB_AMOUNT), in fixed message fields.
        case .signedAmount: encodingAllowed = encoding.isCharacterEncoding || (encoding == .bcd && context == .message && length == .fixed)
        default: encodingAllowed = encoding.isCharacterEncoding
        }
        guard encodingAllowed else {
            throw (encodingNode ?? classNode).error("\(what): class \(fieldClass.rawValue) cannot be written as \(encoding.rawValue)")
        }

        var prefix: PrefixEncoding = context == .binaryComposite ? .binary : .ascii
        if let explicit = properties["prefix"] {
            guard context == .message else { throw explicit.error("\(what): subfield length prefixes take the parent's form; remove 'prefix'") }
            prefix = try explicit.choice("prefix", PrefixEncoding.self)
        } else if context == .message, let byDialect = defaults?.prefix {
            prefix = byDialect.0
        }

        var unit = encoding.defaultLengthUnit
        if let explicit = properties["counts"] {
            unit = try explicit.choice("counts", LengthUnit.self)
            let valid: Bool
            switch encoding {
            case .ascii, .ebcdic037, .ebcdic1047: valid = unit == .characters || unit == .bytes
            case .bcd: valid = unit == .digits || unit == .nibbles || unit == .bytes
            case .binary: valid = unit == .bytes || unit == .nibbles
            case .hex: valid = unit != .digits
            }
            guard valid else { throw explicit.error("\(what): a \(encoding.rawValue) value cannot be counted in \(unit.rawValue)") }
        }

        var padding: Padding? = nil
        if let explicit = properties["pad"] { padding = try explicit.choice("pad", Padding.self) }
        var padCharacter: UInt8? = nil
        if let explicit = properties["pad-char"] {
            let text = try explicit.string("pad-char")
            guard text.utf8.count == 1, let byte = text.utf8.first, (0x20...0x7E).contains(byte) else {
                throw explicit.error("\(what): pad-char must be one printable character")
            }
            if encoding == .bcd && byte != UInt8(ascii: "0") && byte != UInt8(ascii: "F") {
                throw explicit.error("\(what): a BCD pad nibble is \"0\" or \"F\"")
            }
            padCharacter = byte
        }
        let sensitivity = try properties["sensitivity"]?.choice("sensitivity", Sensitivity.self) ?? .none

        var subfields: Subfields? = nil
        if let layout = properties["subfields"] {
            subfields = try FieldDraft.readSubfields(layout, parentClass: fieldClass, parent: what)
        }

        let spec = FieldSpec(
            number: number, name: name, fieldClass: fieldClass, length: length, maxLength: maxLength,
            prefixEncoding: prefix, dataEncoding: encoding, lengthUnit: unit, padding: padding,
            padCharacter: padCharacter, sensitivity: sensitivity, subfields: subfields)

        // The largest value must be expressible in its prefix.
        if case .variable = length {
            let codec = FieldCodec(spec)
            let largest = codec.prefixValue(units: maxLength)
            let limit = codec.largestPrefixValue
            if largest > limit {
                throw (properties["max"] ?? lengthNode).error(
                    "\(what): max \(maxLength) needs a prefix value of \(largest), over the \(limit) a \(lengthText) \(prefix.rawValue) prefix holds")
            }
        }
        return spec
    }

    static let subfieldKeys: Set<String> = ["format", "fields", "tag-length", "length-digits", "tags", "bitmap"]

    static func readSubfields(_ node: SpecNode, parentClass: FieldClass, parent: String) throws(SpecError) -> Subfields {
        let map = try node.mapping("subfields", allowed: subfieldKeys)
        let formatNode = try map.required("format", in: "subfields")
        let format = try formatNode.string("format")
        let context: FieldContext = parentClass == .binary ? .binaryComposite : .textComposite
        func children() throws(SpecError) -> [FieldSpec] {
            var specs: [FieldSpec] = []
            for entry in try map.required("fields", in: "\(format) subfields").sequence("fields") {
                for draft in try FieldDraft.read(entry) {
                    guard !specs.contains(where: { $0.number == draft.number }) else {
                        throw entry.error("subfield \(draft.number) is defined twice")
                    }
                    guard (1...64).contains(draft.number) else { throw entry.error("subfields are numbered 1-64") }
                    specs.append(try draft.resolve(defaults: nil, context: context))
                }
            }
            return specs.sorted { $0.number < $1.number }
        }
        switch format {
        case "ber-tlv":
            guard parentClass == .binary else { throw formatNode.error("\(parent): BER-TLV subfields need a binary (b) field") }
            return .berTLV
        case "positional":
            let specs = try children()
            for (index, spec) in specs.enumerated() where spec.number != index + 1 {
                throw node.error("\(parent): positional subfields must be numbered 1, 2, 3 … without gaps; \(spec.number) is out of order")
            }
            return .positional(specs)
        case "tlv":
            guard parentClass != .binary else { throw formatNode.error("\(parent): tag-length-value subfields are text; use ber-tlv for binary data") }
            let tagNode = try map.required("tag-length", in: "tlv subfields")
            let tagLength = try tagNode.integer("tag-length")
            guard tagLength == 2 || tagLength == 3 else { throw tagNode.error("tag-length must be 2 or 3") }
            let lengthDigits = try map["length-digits"]?.integer("length-digits") ?? 3
            guard (1...4).contains(lengthDigits) else { throw map["length-digits"]!.error("length-digits must be 1-4") }
            var tags: [TagSpec] = []
            for entry in try map["tags"]?.sequence("tags") ?? [] {
                let tag = try entry.mapping("a tag", allowed: ["tag", "name", "sensitivity"])
                let tagText = try tag.required("tag", in: "a tag").string("tag")
                guard tagText.utf8.count == tagLength else { throw entry.error("tag '\(tagText)' must be \(tagLength) characters") }
                tags.append(TagSpec(
                    tag: tagText, name: try tag["name"]?.string("name") ?? "",
                    sensitivity: try tag["sensitivity"]?.choice("sensitivity", Sensitivity.self) ?? .none))
            }
            return .tagLengthValue(tagLength: tagLength, lengthDigits: lengthDigits, tags: tags)
        case "bitmapped":
            let encoding = try map["bitmap"]?.choice("bitmap", BitmapEncoding.self) ?? (parentClass == .binary ? .binary : .hex)
            return .bitmapped(bitmap: encoding, fields: try children())
        default:
            throw formatNode.error("subfields format '\(format)' is not one of: positional, ber-tlv, tlv, bitmapped")
        }
    }
}
