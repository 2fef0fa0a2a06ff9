extension ISO20022MessageMapping {
    /// The mapping's places as a tree of element names, which the reader walks as elements open: a
    /// leaf at a place is known by a node number (no path built or hashed per leaf), and gets the
    /// place's path as a String made once, when the table was read.
    struct PlaceTree: Sendable {
        /// One element name on the way to a place.
        struct Node: Sendable {
            /// Where the node's children are in ``Storage/edges``.
            var firstChild: Int32
            var childCount: Int32
            /// The mapping entry whose place this is and the place's preference, or -1.
            var entry: Int32
            var rank: Int32
            /// Whether the schema lets the element occur more than once in its parent.
            var repeatable: Bool
        }

        /// A child: its name's bytes in ``Storage/names``, their first eight as one word (a
        /// mismatch is nearly always found there, in one compare), and its node.
        struct Edge: Sendable {
            var prefix: UInt64
            var nameStart: Int32
            var nameCount: Int32
            var node: Int32
        }

        /// The first eight bytes of a name as one word (zeros after a shorter name's end).
        @inline(__always)
        static func prefix(of name: UnsafePointer<UInt8>, count: Int) -> UInt64 {
            var word: UInt64 = 0
            for offset in 0..<min(count, 8) { word |= UInt64(name[offset]) << (8 * UInt64(offset)) }
            return word
        }

        /// The nodes, edges and names in memory of their own, read through pointers: the reader
        /// walks them once per element, with no reference counting on the way. Written once, in
        /// `init`, and only read after: so it may be shared.
        final class Storage: @unchecked Sendable {
            let nodes: UnsafeMutableBufferPointer<Node>
            let edges: UnsafeMutableBufferPointer<Edge>
            let names: UnsafeMutableBufferPointer<UInt8>

            init(nodes: [Node], edges: [Edge], names: [UInt8]) {
                self.nodes = .allocate(capacity: max(nodes.count, 1))
                _ = self.nodes.initialize(from: nodes)
                self.edges = .allocate(capacity: max(edges.count, 1))
                _ = self.edges.initialize(from: edges)
                self.names = .allocate(capacity: max(names.count, 1))
                _ = self.names.initialize(from: names)
            }

            deinit {
                nodes.deallocate()
                edges.deallocate()
                names.deallocate()
            }
        }

        /// Node 0 is the message element (or `AppHdr`); a place is a path of names below it.
        let storage: Storage
        /// Each node's element path from the top-level block (`AppHdr/…` in the header).
        let paths: [String]

        static let root: Int32 = 0
        /// Not on the way to any place: nor are its children.
        static let none: Int32 = -1
        static let empty = PlaceTree(places: [:], prefix: "")

        var view: View { storage.view }

        /// The tree of `places` (place path → entry and preference), node paths prefixed by
        /// `prefix`; `isRepeatable` tells whether the element at a path below the root may repeat.
        init(places: [String: (entry: Int, rank: Int)], prefix: String, isRepeatable: (String) -> Bool = { _ in false }) {
            final class Building {
                var children: [(name: String, node: Building)] = []
                var place: (entry: Int, rank: Int)?
                var path: String
                var repeatable = false
                init(path: String) { self.path = path }
            }
            let top = Building(path: "")
            for (place, value) in places.sorted(by: { $0.key < $1.key }) {
                var node = top
                var relative = ""
                for name in place.split(separator: "/") {
                    relative += relative.isEmpty ? String(name) : "/" + name
                    if let child = node.children.first(where: { $0.name == name })?.node {
                        node = child
                    } else {
                        let child = Building(path: prefix + relative)
                        child.repeatable = isRepeatable(relative)
                        node.children.append((String(name), child))
                        node = child
                    }
                }
                node.place = value
            }
            // Breadth first, so that each node's children are numbered one after another.
            var order = [top]
            var index = 0
            while index < order.count {
                order.append(contentsOf: order[index].children.map(\.node))
                index += 1
            }
            let numbers = Dictionary(uniqueKeysWithValues: order.enumerated().map { (ObjectIdentifier($1), Int32($0)) })
            var nodes: [Node] = []
            var edges: [Edge] = []
            var names: [UInt8] = []
            for node in order {
                nodes.append(Node(firstChild: Int32(edges.count), childCount: Int32(node.children.count),
                                  entry: Int32(node.place?.entry ?? -1), rank: Int32(node.place?.rank ?? 0), repeatable: node.repeatable))
                for (name, child) in node.children {
                    let prefix = Array(name.utf8).withUnsafeBufferPointer { PlaceTree.prefix(of: $0.baseAddress!, count: $0.count) }
                    edges.append(Edge(prefix: prefix, nameStart: Int32(names.count), nameCount: Int32(name.utf8.count),
                                      node: numbers[ObjectIdentifier(child)]!))
                    names.append(contentsOf: name.utf8)
                }
            }
            storage = Storage(nodes: nodes, edges: edges, names: names)
            paths = order.map(\.path)
        }

        /// The mapping entry and preference of the place at `node`; entry -1 when it is no place.
        @inline(__always)
        func place(_ node: Int32) -> (entry: Int, rank: Int) {
            let node = storage.nodes[Int(node)]
            return (Int(node.entry), Int(node.rank))
        }

        /// The node of the place at `path` (element names below the root, no indexes), or ``none``.
        func node(at path: Substring) -> Int32 {
            var node = PlaceTree.root
            _ = ISO20022Path.forEachStep(path) { name, _ in
                var name = name
                node = name.withUTF8 { bytes in bytes.baseAddress.map { child(of: node, named: $0, count: bytes.count) } ?? PlaceTree.none }
                return node >= 0
            }
            return node >= 0 && storage.nodes[Int(node)].entry >= 0 ? node : PlaceTree.none
        }

        /// The child of `node` named by the `count` bytes at `name`, or ``none``.
        @inline(__always)
        func child(of node: Int32, named name: UnsafePointer<UInt8>, count: Int) -> Int32 {
            storage.view.child(of: node, named: name, count: count)
        }

        /// The tree's memory as plain pointers, for the reader, which keeps the tree alive.
        struct View {
            let nodes: UnsafePointer<Node>
            let edges: UnsafePointer<Edge>
            let names: UnsafePointer<UInt8>

            @inline(__always)
            func child(of node: Int32, named name: UnsafePointer<UInt8>, count: Int) -> Int32 {
                guard node >= 0 else { return PlaceTree.none }
                let parent = nodes[Int(node)]
                var index = Int(parent.firstChild)
                let end = index + Int(parent.childCount)
                let prefix = PlaceTree.prefix(of: name, count: count)
                while index < end {
                    let edge = edges[index]
                    if edge.prefix == prefix, Int(edge.nameCount) == count,
                       count <= 8 || memoryEquals(names + Int(edge.nameStart) + 8, name + 8, count - 8) { return edge.node }
                    index += 1
                }
                return PlaceTree.none
            }

            @inline(__always)
            private func memoryEquals(_ left: UnsafePointer<UInt8>, _ right: UnsafePointer<UInt8>, _ count: Int) -> Bool {
                for offset in 0..<count where left[offset] != right[offset] { return false }
                return true
            }

            @inline(__always)
            func entry(_ node: Int32) -> Int32 { nodes[Int(node)].entry }

            @inline(__always)
            func isRepeatable(_ node: Int32) -> Bool { nodes[Int(node)].repeatable }
        }
    }
}

extension ISO20022MessageMapping.PlaceTree.Storage {
    var view: ISO20022MessageMapping.PlaceTree.View {
        .init(nodes: UnsafePointer(nodes.baseAddress!), edges: UnsafePointer(edges.baseAddress!), names: UnsafePointer(names.baseAddress!))
    }
}
