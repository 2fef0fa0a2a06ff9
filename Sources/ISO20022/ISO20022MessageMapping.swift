public import PaymentModel
public import SpecFiles

/// How one ISO 20022 message maps to the canonical message: a table read from
/// specs/iso20022/mappings/<message>.yaml (embedded at build time), checked against the schema
/// table when read.
///
/// Each field names a canonical value (``TransferField``) and the element paths that carry it,
/// below the message element, most preferred first. Decoding takes the first place the first
/// transaction has (the first occurrence there); encoding writes at the first place whose
/// top-level element the document has, or where the source document had it. Defaults fill
/// required elements the message has no value for. Every element no field names travels in
/// ``PaymentMessage/unmapped`` and is written back at its place.
///
/// A class: the reader, the mapping and the encoder each take the message's mapping per document,
/// and handing a class on costs one reference where the struct cost one per table.
public final class ISO20022MessageMapping: Sendable {
    /// One canonical field and its places.
    struct Entry: Sendable {
        let field: TransferField
        /// Element paths below the message element (below `AppHdr` for the header).
        let places: [String]
        /// Decoding refuses a document without it.
        let requiredToDecode: Bool
        /// Encoding refuses a message without it.
        let requiredToEncode: Bool

        /// A list or the charges: the field takes every occurrence of its place, not the first.
        let takesEveryOccurrence: Bool

        init(field: TransferField, places: [String], requiredToDecode: Bool, requiredToEncode: Bool) {
            self.field = field
            self.places = places
            self.requiredToDecode = requiredToDecode
            self.requiredToEncode = requiredToEncode
            takesEveryOccurrence = field.form == .list || field.form == .charges
        }
    }

    /// A value written where the message carries none, when the element's parent is written.
    struct Default: Sendable {
        let path: String
        /// A fixed value.
        let literal: String?
        /// The value of another canonical field.
        let field: TransferField?
        /// The creation date-time given to the encoder, else now.
        let now: Bool
    }

    /// The message identifier (`pacs.008.001.08`).
    public let message: String
    /// The canonical kind and function decoded messages get (none for the business application header).
    public let kind: PaymentMessage.Kind?
    public let function: PaymentMessage.Function?
    /// The path of the element one transaction is (`CdtTrfTxInf`, `PmtInf/CdtTrfTxInf`).
    public let transaction: String?
    let entries: [Entry]
    let defaults: [Default]
    /// The steps of ``transaction``.
    let transactionSteps: [String]
    /// Each place with its entry and preference (0 for the first place), as the reader walks them.
    let placeTree: PlaceTree

    init(message: String, kind: PaymentMessage.Kind?, function: PaymentMessage.Function?, transaction: String?,
         entries: [Entry], defaults: [Default], transactionSteps: [String], placeTree: PlaceTree) {
        self.message = message
        self.kind = kind
        self.function = function
        self.transaction = transaction
        self.entries = entries
        self.defaults = defaults
        self.transactionSteps = transactionSteps
        self.placeTree = placeTree
    }

    /// Reads a mapping file and checks it against the schema of its message.
    public static func load(yaml: String, file: String) throws(SpecError) -> ISO20022MessageMapping {
        let root = try SpecNode.parse(yaml: yaml, file: file)
            .mapping("the mapping", allowed: ["message", "kind", "function", "transaction", "fields", "defaults"])
        let messageNode = try root.required("message", in: "the mapping")
        let message = try messageNode.string("message")
        let schema = ISO20022Schema.shared
        guard let schemaRoot = schema.roots[message] else {
            throw messageNode.error("no schema for '\(message)' (specs/iso20022 holds the schemas; tools/iso20022/schema_tables.py reads them)")
        }
        func place(_ node: SpecNode) throws(SpecError) -> String {
            let path = try node.string("a place")
            guard !path.contains("["), !path.contains("@"), schema.places(path, from: schemaRoot.type) else {
                throw node.error("'\(path)' is not an element of \(schemaRoot.element) in \(message) (a path of element names below it)")
            }
            return path
        }
        let kind = try root["kind"]?.choice("kind", PaymentMessage.Kind.self)
        let function = try root["function"]?.choice("function", PaymentMessage.Function.self)
        var transaction: String?
        if let node = root["transaction"] {
            transaction = try node.string("transaction")
            guard schema.isRepeatable(transaction![...], from: schemaRoot.type) else {
                throw node.error("'\(transaction!)' is not a repeatable element of \(schemaRoot.element)")
            }
        }
        var entries: [Entry] = []
        var places: [String: (entry: Int, rank: Int)] = [:]
        for item in try root.required("fields", in: "the mapping").sequence("fields") {
            let entry = try item.mapping("a field", allowed: ["to", "at", "required"])
            let nameNode = try entry.required("to", in: "a field")
            let name = try nameNode.string("to")
            guard let field = TransferField.named(name) else {
                throw nameNode.error("'\(name)' is not a canonical field; known: \(TransferField.all.map(\.name).joined(separator: ", "))")
            }
            guard !entries.contains(where: { $0.field.name == name }) else { throw nameNode.error("'\(name)' is mapped twice") }
            let at = try entry.required("at", in: "a field")
            let nodes = at.isScalar ? [at] : try at.sequence("at")
            var paths: [String] = []
            for node in nodes {
                let path = try place(node)
                // A charges field's place is the repeated charges element: its amount and agent BIC are read.
                let leaves = field.form == .charges ? ISO20022MessageMapping.chargeParts.map { path + "/" + $0 } : [path]
                for (part, leaf) in leaves.enumerated() {
                    guard field.form != .charges || schema.places(leaf, from: schemaRoot.type) else {
                        throw node.error("'\(path)' is not a charges element (with \(ISO20022MessageMapping.chargeParts.joined(separator: " and ")))")
                    }
                    guard places[leaf] == nil else { throw node.error("'\(path)' is already the place of another field") }
                    places[leaf] = (entries.count, paths.count + part)
                }
                paths.append(path)
            }
            guard !paths.isEmpty else { throw at.error("a field needs at least one place") }
            if field.form == .list || field.form == .charges, paths.count > 1 { throw at.error("a list field (\(name)) has one place") }
            var required = (decode: false, encode: false)
            if let node = entry["required"] {
                if try node.string("required") == "encode" { required.encode = true } else {
                    let both = try node.boolean("required (true, false or encode)")
                    required = (both, both)
                }
            }
            entries.append(Entry(field: field, places: paths, requiredToDecode: required.decode, requiredToEncode: required.encode))
        }
        var defaults: [Default] = []
        for item in try root["defaults"]?.sequence("defaults") ?? [] {
            let entry = try item.mapping("a default", allowed: ["at", "value", "from"])
            let path = try place(try entry.required("at", in: "a default"))
            if let from = entry["from"] {
                let name = try from.string("from")
                guard let field = TransferField.named(name) else { throw from.error("'\(name)' is not a canonical field") }
                defaults.append(Default(path: path, literal: nil, field: field, now: false))
            } else {
                let value = try entry.required("value", in: "a default").string("value")
                defaults.append(Default(path: path, literal: value == "now" ? nil : value, field: nil, now: value == "now"))
            }
        }
        return ISO20022MessageMapping(message: message, kind: kind, function: function, transaction: transaction,
                                      entries: entries, defaults: defaults,
                                      transactionSteps: transaction.map { $0.split(separator: "/").map(String.init) } ?? [],
                                      placeTree: PlaceTree(places: places, prefix: kind == nil ? "AppHdr/" : "") {
                                          schema.isRepeatable($0[...], from: schemaRoot.type)
                                      })
    }

    /// What a charges field reads of each occurrence of its element: the amount, the agent's BIC.
    static let chargeParts = ["Amt", "Agt/FinInstnId/BICFI"]

    /// The shipped mappings by number (an element read with one names it so), in message order.
    static let shippedByNumber: [ISO20022MessageMapping] = shippedMappings.sorted { $0.key < $1.key }.map(\.value)

    /// The number of the shipped mapping of `message` in ``shippedByNumber``, or nil.
    static func number(of message: String) -> UInt16? {
        shippedByNumber.firstIndex { $0.message == message }.map { UInt16($0) }
    }

    /// The shipped mapping of `message` (`pacs.008.001.08`, `head.001.001.02`).
    static func shipped(_ message: String) -> ISO20022MessageMapping? {
        shippedMappings[message]
    }

    /// The shipped mappings by message; a file that does not load stops the process at first use,
    /// as a corrupt build would (a test loads each one).
    static let shippedMappings: [String: ISO20022MessageMapping] = {
        var mappings: [String: ISO20022MessageMapping] = [:]
        for (file, bytes) in shippedFiles {
            do {
                let mapping = try load(yaml: String(decoding: bytes, as: UTF8.self), file: "specs/iso20022/mappings/" + file)
                mappings[mapping.message] = mapping
            } catch {
                fatalError("\(error)")
            }
        }
        return mappings
    }()
}

extension ISO20022MessageDefinition {
    /// The shipped mapping of this message (a test checks every definition has one).
    var mapping: ISO20022MessageMapping {
        ISO20022MessageMapping.shippedByNumber[Int(mappingNumber)]
    }
}
