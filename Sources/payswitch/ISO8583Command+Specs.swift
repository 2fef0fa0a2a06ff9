import CanonicalJSON
import ArgumentParser
import ISO8583

extension ISO8583Command {
    /// `payswitch iso8583 specs`: the shipped dialects, or one dialect's resolved field table.
    struct Specs: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the shipped dialects, or describe one (--describe NAME|FILE) with every field resolved.")

        @Option(name: .long, help: "A dialect name or spec file to describe field by field.") var describe: String?
        @Flag(name: .long, help: "With --describe: print JSON.") var json = false

        func run() throws {
            guard let describe else {
                for name in Dialect.shippedNames {
                    let dialect = try Dialect.shipped(name)
                    print("\(MessageDump.pad(name, 12))  \(dialect.summary)")
                }
                return
            }
            var option = DialectOption()
            option.spec = describe
            let dialect = try option.dialect()
            let specs = dialect.fields.compactMap { $0 }
            if json {
                let fields = specs.map { spec -> String in
                    let length: String
                    switch spec.length {
                    case .fixed: length = "\"fixed\""
                    case .variable(let digits): length = MessageJSON.quote(String(repeating: "L", count: digits))
                    }
                    return "{\"number\":\(spec.number),\"name\":\(MessageJSON.quote(spec.name)),\"class\":\"\(spec.fieldClass.rawValue)\",\"length\":\(length),\"max\":\(spec.maxLength),\"prefix\":\"\(spec.prefixEncoding.rawValue)\",\"encoding\":\"\(spec.dataEncoding.rawValue)\",\"counts\":\"\(spec.lengthUnit.rawValue)\",\"pad\":\"\(spec.padding.rawValue)\",\"sensitivity\":\"\(spec.sensitivity.rawValue)\"}"
                }
                print("{\"dialect\":\(MessageJSON.quote(dialect.name)),\"mti\":\"\(dialect.mtiEncoding.rawValue)\",\"bitmap\":\"\(dialect.bitmapEncoding.rawValue)\",\"tertiaryBitmap\":\(dialect.tertiaryBitmap),\"fields\":[\(fields.joined(separator: ","))]}")
                return
            }
            print("\(dialect.name): \(dialect.summary)")
            print("MTI \(dialect.mtiEncoding.rawValue), bitmaps \(dialect.bitmapEncoding.rawValue)\(dialect.tertiaryBitmap ? ", tertiary bitmap in DE 65" : "")")
            for spec in specs {
                let prefix = spec.length == .fixed ? "" : " prefix \(spec.prefixEncoding.rawValue) counting \(spec.lengthUnit.rawValue)"
                let sensitive = spec.sensitivity == .none ? "" : "  [\(spec.sensitivity.rawValue)]"
                print("DE \(MessageDump.pad(String(spec.number), 3, left: true))  \(MessageDump.pad(spec.name, 44))  \(MessageDump.pad(MessageDump.shapeText(spec), 8))  \(spec.dataEncoding.rawValue)\(prefix)\(sensitive)")
            }
        }
    }
}
