/// The element paths each message's schema lets repeat (maxOccurs above 1), read once from
/// Schema/repeatable-paths.txt, which tools/iso20022/repeatable_paths.py generates from the XSDs.
enum RepeatablePaths {
    struct Table: Sendable {
        var byMessage: [ISO20022MessageDefinition: Set<String>] = [:]
        var header: Set<String> = []
    }

    static let headerDefinition = "head.001.001.02"

    static let table: Table = {
        var table = Table()
        for line in String(decoding: PackageResources.repeatable_paths_txt, as: UTF8.self).split(separator: "\n") {
            guard !line.hasPrefix("#"), let space = line.firstIndex(of: " ") else { continue }
            let message = String(line[..<space]), path = String(line[line.index(after: space)...])
            if message == headerDefinition {
                table.header.insert(path)
            } else if let definition = ISO20022MessageDefinition(rawValue: message) {
                table.byMessage[definition, default: []].insert(path)
            }
        }
        return table
    }()
}

extension ISO20022MessageDefinition {
    /// The element paths (below the message element) whose schema maxOccurs is above 1.
    var repeatablePaths: Set<String> { RepeatablePaths.table.byMessage[self] ?? [] }

    /// The head.001 paths (from `AppHdr`) whose schema maxOccurs is above 1.
    static var repeatableHeaderPaths: Set<String> { RepeatablePaths.table.header }
}
