extension ISO20022MessageMapping {
    /// The mapping's places as a tree of element names, which the reader walks as elements open: a
    /// leaf at a place is known by a node number (no path built or hashed per leaf), and gets the
    /// place's path as a String made once, when the table was read.
    struct PlaceTree: Sendable {
        /// One element name on the way to a place.
        struct Node: Sendable {
            /// The mapping entry whose place this is and the place's preference, or -1.
            var entry: Int32
            var rank: Int32
            /// Whether the schema lets the element occur more than once in its parent.
            var repeatable: Bool
        }

        /// A child: its parent, its name's bytes in ``Storage/names``, their first eight as one
        /// word (a mismatch is nearly always found there, in one compare), and its node.
        struct Edge: Sendable {
            var prefix: UInt64
            var parent: Int32
            var nameStart: Int32
            var nameCount: Int32
            var node: Int32
        }

        /// The first eight bytes of a name as one word (zeros after a shorter name's end).
        @inline(__always)
        static func prefix(of name: UnsafePointer<UInt8>, count: Int) -> UInt64 {
            if count >= 8 { return UInt64(littleEndian: UnsafeRawPointer(name).loadUnaligned(as: UInt64.self)) }
            var word: UInt64 = 0
            for offset in 0..<count { word |= UInt64(name[offset]) << (8 * UInt64(offset)) }
            return word
        }

        /// Where the search for the child of `parent` with this name starts in ``Storage/slots``
        /// (before the mask): a multiplicative hash of the parent, the name's length and prefix.
        @inline(__always)
        static func hash(parent: Int32, prefix: UInt64, count: Int) -> Int {
            let mixed = (prefix ^ (UInt64(UInt32(bitPattern: parent)) << 40) ^ UInt64(count)) &* 0x9E37_79B9_7F4A_7C15
            return Int(truncatingIfNeeded: mixed >> 32)
        }

        /// The nodes, edges and names in memory of their own, read through pointers: the reader
        /// walks them once per element, with no reference counting on the way. Written once, in
        /// `init`, and only read after: so it may be shared.
        final class Storage: @unchecked Sendable {
            let nodes: UnsafeMutableBufferPointer<Node>
            let edges: UnsafeMutableBufferPointer<Edge>
            let names: UnsafeMutableBufferPointer<UInt8>
            /// The edges by ``hash(parent:prefix:count:)``, open addressing with linear probing, at
            /// most half full; -1 marks an empty slot. A child is found in a probe or two, where a
            /// scan of a transaction's two dozen mapped children took a dozen compares.
            let slots: UnsafeMutableBufferPointer<Int32>

            init(nodes: [Node], edges: [Edge], names: [UInt8]) {
                self.nodes = .allocate(capacity: max(nodes.count, 1))
                _ = self.nodes.initialize(from: nodes)
                self.edges = .allocate(capacity: max(edges.count, 1))
                _ = self.edges.initialize(from: edges)
                self.names = .allocate(capacity: max(names.count, 1))
                _ = self.names.initialize(from: names)
                var capacity = 16
                while capacity < edges.count * 2 { capacity *= 2 }
                slots = .allocate(capacity: capacity)
                slots.initialize(repeating: -1)
                for (index, edge) in edges.enumerated() {
                    var slot = PlaceTree.hash(parent: edge.parent, prefix: edge.prefix, count: Int(edge.nameCount)) & (capacity - 1)
                    while slots[slot] >= 0 { slot = (slot + 1) & (capacity - 1) }
                    slots[slot] = Int32(index)
                }
            }

            deinit {
                nodes.deallocate()
                edges.deallocate()
                names.deallocate()
                slots.deallocate()
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
            // Numbered breadth first, the root 0.
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
                nodes.append(Node(entry: Int32(node.place?.entry ?? -1), rank: Int32(node.place?.rank ?? 0), repeatable: node.repeatable))
                for (name, child) in node.children {
                    let prefix = Array(name.utf8).withUnsafeBufferPointer { PlaceTree.prefix(of: $0.baseAddress!, count: $0.count) }
                    edges.append(Edge(prefix: prefix, parent: Int32(nodes.count - 1), nameStart: Int32(names.count),
                                      nameCount: Int32(name.utf8.count), node: numbers[ObjectIdentifier(child)]!))
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
            let slots: UnsafePointer<Int32>
            let slotMask: Int

            @inline(__always)
            func child(of node: Int32, named name: UnsafePointer<UInt8>, count: Int) -> Int32 {
                guard node >= 0 else { return PlaceTree.none }
                let prefix = PlaceTree.prefix(of: name, count: count)
                var slot = PlaceTree.hash(parent: node, prefix: prefix, count: count) & slotMask
                while true {
                    let index = slots[slot]
                    guard index >= 0 else { return PlaceTree.none }
                    let edge = edges[Int(index)]
                    if edge.prefix == prefix, edge.parent == node, Int(edge.nameCount) == count,
                       count <= 8 || memoryEquals(names + Int(edge.nameStart) + 8, name + 8, count - 8) { return edge.node }
                    slot = (slot + 1) & slotMask
                }
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
        .init(nodes: UnsafePointer(nodes.baseAddress!), edges: UnsafePointer(edges.baseAddress!), names: UnsafePointer(names.baseAddress!),
              slots: UnsafePointer(slots.baseAddress!), slotMask: slots.count - 1)
    }
}
