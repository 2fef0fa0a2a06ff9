internal import ISO8583
import PaymentModel
import Routing
import SecurityModule
public import SpecFiles
import Transport

extension SwitchConfiguration {
    /// Reads a configuration file, its rule file and dialects; every error names file:line:column.
    ///
    /// - Parameters:
    ///   - yaml: The configuration's text.
    ///   - file: The name errors use.
    ///   - readFile: Returns the text of a file the configuration names (rules, dialect specs, BIN
    ///     tables), as written, or nil when it cannot be read; relative paths are the caller's to resolve.
    ///   - resolvePath: Turns a path as written into one to open later (TLS files); identity by default.
    ///   - openingTLSFiles: Also load every certificate, key and CA, so a bad TLS file is an error at
    ///     its `tls:` entry rather than a failure when the switch starts.
    public static func load(yaml: String, file: String, readFile: (String) -> String?,
                            resolvePath: (String) -> String = { $0 }, openingTLSFiles: Bool = false) throws(SpecError) -> SwitchConfiguration {
        try withoutActuallyEscaping(readFile) { readFile throws(SpecError) in
            try withoutActuallyEscaping(resolvePath) { resolvePath throws(SpecError) in
                var reader = ConfigurationReader(readFile: readFile, resolvePath: resolvePath, opensTLSFiles: openingTLSFiles)
                return try reader.read(yaml: yaml, file: file)
            }
        }
    }
}

extension SwitchConfiguration {
    /// A path written inside the file at `file`: relative to that file's folder, absolute as is.
    public static func path(_ name: String, relativeTo file: String) -> String {
        ConfigurationReader.sibling(name, of: file)
    }
}

/// Reads one configuration file.
struct ConfigurationReader {
    let readFile: (String) -> String?
    let resolvePath: (String) -> String
    let opensTLSFiles: Bool

    /// Loads the files of one `tls:` entry when asked to, so their errors point at it.
    func open(_ tls: TLSConfiguration, isClient: Bool, at node: SpecNode) throws(SpecError) {
        guard opensTLSFiles else { return }
        do {
            _ = try TLSContext(tls, isClient: isClient)
        } catch {
            throw node.error("cannot use these TLS files: \(error)")
        }
    }

    static let topKeys: Set<String> = ["name", "loops", "rules", "listeners", "channels", "admin", "health", "shutdown-grace", "storage", "security", "business-day", "cluster"]
    static let listenerKeys: Set<String> = ["name", "address", "framing", "protocol", "dialect", "tls", "limits", "duplicate-key", "pin"]
    static let channelKeys: Set<String> = [
        "name", "group", "addresses", "framing", "protocol", "dialect", "tls", "request-timeout", "max-in-flight", "sign-on",
        "echo-interval", "missed-echoes", "connect-timeout", "may-drop", "reversal", "forward-retry", "forward-retry-max", "pin", "mac", "key-exchange",
        "business-day",
    ]
    static let healthKeys: Set<String> = ["window", "failure-rate", "minimum-failures", "open-for", "half-open-probes", "order-by-success-rate"]

    mutating func read(yaml: String, file: String) throws(SpecError) -> SwitchConfiguration {
        let root = try SpecNode.parse(yaml: yaml, file: file)
        let top = try root.mapping("a switch configuration", allowed: Self.topKeys)
        let name = try top["name"]?.string("the switch name") ?? "payswitch"
        let loops = try top["loops"].map { node throws(SpecError) in try positive(node, "loops") }
        let rulesNode = try top.required("rules", in: "a switch configuration")
        let rules = try readRules(rulesNode)
        var listeners: [ListenerConfiguration] = []
        var listenerNodes: [(SpecNode, ListenerConfiguration)] = []
        var channelKeyNodes: [SpecNode] = []
        for node in try top.required("listeners", in: "a switch configuration").sequence("listeners") {
            let listener = try readListener(node)
            listenerNodes.append((node, listener))
            if listeners.contains(where: { $0.name == listener.name }) { throw node.error("listener '\(listener.name)' is declared twice") }
            listeners.append(listener)
        }
        if listeners.isEmpty { throw root.error("a switch configuration needs at least one listener") }
        let businessDay = try top["business-day"].map { node throws(SpecError) in try readBusinessDay(node) }
        var channels: [ChannelConfiguration] = []
        for node in try top.required("channels", in: "a switch configuration").sequence("channels") {
            let channel = try readChannel(node)
            if let map = try? node.mapping("a channel", allowed: Self.channelKeys) {
                channelKeyNodes += [map["pin"], map["mac"], map["key-exchange"]].compactMap { $0 }
            }
            if channels.contains(where: { $0.name == channel.name }) { throw node.error("channel '\(channel.name)' is declared twice") }
            channels.append(channel)
        }
        // Every channel a rule may route to must exist: a rule naming an unknown one would decline at run time.
        for ruleChannel in rules.snapshot.ruleSet.channels where !channels.contains(where: { $0.name == ruleChannel }) {
            throw rulesNode.error("the rules declare channel '\(ruleChannel)', which the configuration does not define")
        }
        let admin = try top["admin"].map { node throws(SpecError) -> HostAndPort in try address(node, "the admin address") }
        let health = try top["health"].map { node throws(SpecError) in try readHealth(node) } ?? HealthPolicy()
        let grace = try top["shutdown-grace"].map { node throws(SpecError) in try duration(node, "shutdown-grace") } ?? .seconds(10)
        var configuration = SwitchConfiguration(name: name, loops: loops, rules: rules, listeners: listeners, channels: channels,
                                                admin: admin, health: health, shutdownGrace: grace)
        configuration.businessDay = businessDay
        configuration.storage = try top["storage"].flatMap { node throws(SpecError) in try readStorage(node) }
        configuration.cluster = try top["cluster"].map { node throws(SpecError) in try readCluster(node, storage: configuration.storage, storageNode: top["storage"]) }
        if let node = top["security"] {
            let map = try node.mapping("security", allowed: ["key-store", "master-key-file"])
            configuration.security = SecurityConfiguration(
                keyStore: resolvePath(try map.required("key-store", in: "security").string("a key store file")),
                masterKeyFile: try map["master-key-file"].map { node throws(SpecError) in resolvePath(try node.string("a master key file")) })
        }
        if configuration.security == nil, let (node, listener) = listenerNodes.first(where: { $0.1.pin != nil }) {
            throw node.error("listener '\(listener.name)' names a PIN key, but the configuration has no security: key-store")
        }
        if configuration.security == nil, let keyNode = channelKeyNodes.first {
            throw keyNode.error("a channel names a key (pin or mac), but the configuration has no security: key-store")
        }
        return configuration
    }

    /// `pin: {key: NAME, format: 0|1|3|4, ksn-field: N}` of a listener (`ksn-field` allowed) or a channel.
    func readPIN(_ node: SpecNode, listener: Bool) throws(SpecError) -> PINZoneConfiguration {
        let map = try node.mapping("pin", allowed: listener ? ["key", "format", "ksn-field"] : ["key", "format"])
        let key = try map.required("key", in: "pin").string("a key name")
        var format = PINBlock.Format.iso0
        if let value = map["format"] {
            guard let chosen = PINBlock.Format(rawValue: try value.integer("a PIN block format")) else {
                throw value.error("a PIN block format is 0, 1, 3 or 4 (ISO 9564)")
            }
            format = chosen
        }
        var zone = PINZoneConfiguration(key: key, format: format)
        if let value = map["ksn-field"] {
            let field = try value.integer("a data element number")
            guard (2...192).contains(field), field != 52 else { throw value.error("ksn-field is a data element 2-192 other than 52") }
            zone.ksnField = field
        }
        return zone
    }

    /// `storage: off`, or the database (a file relative to the configuration file, or a
    /// `postgres://` URL) and key file.
    func readStorage(_ node: SpecNode) throws(SpecError) -> StorageConfiguration? {
        if (try? node.string("storage")) == "off" { return nil }
        let map = try node.mapping("storage", allowed: ["path", "key-file", "journal-capacity", "journal-messages", "synchronous", "forward-alarm-after"])
        let path = try map.required("path", in: "storage").string("a database file or postgres:// URL")
        var storage = StorageConfiguration(path: StorageConfiguration.isPostgres(path) ? path : resolvePath(path),
                                           keyFile: resolvePath(try map.required("key-file", in: "storage").string("a key file")))
        if let value = map["journal-capacity"] { storage.journalCapacity = try positive(value, "journal-capacity") }
        if let value = map["journal-messages"] { storage.journalMessages = try value.boolean("journal-messages") }
        if let value = map["synchronous"] { storage.synchronous = try value.choice("synchronous", StorageConfiguration.Synchronous.self) }
        if let value = map["forward-alarm-after"] { storage.forwardAlarmAfter = try duration(value, "forward-alarm-after") }
        return storage
    }

    /// `cluster: {node, database, lease}`: the node's name, the PostgreSQL database the nodes share
    /// (by default the storage's), how long its lease lasts. The nodes' storage, when on, is that
    /// database: the store-and-forward queue and the journal are shared.
    func readCluster(_ node: SpecNode, storage: StorageConfiguration?, storageNode: SpecNode?) throws(SpecError) -> ClusterConfiguration {
        let map = try node.mapping("cluster", allowed: ["node", "database", "lease"])
        let name = try map.required("node", in: "cluster").string("a node name")
        if let storage, !storage.isPostgres, let storageNode {
            throw storageNode.error("a cluster's nodes share their store-and-forward queue and journal: storage: path is the cluster's database (postgres://…), or storage: off")
        }
        let database: String
        if let databaseNode = map["database"] {
            database = try databaseNode.string("a postgres:// URL")
            guard StorageConfiguration.isPostgres(database) else { throw databaseNode.error("the cluster's database is a postgres:// URL") }
            if let storage, storage.isPostgres, storage.path != database {
                throw databaseNode.error("a cluster's nodes share their storage: the cluster's database must be the storage's (storage: path)")
            }
        } else if let storage, storage.isPostgres {
            database = storage.path
        } else {
            throw node.error("the cluster names no database: database: postgres://…, or storage on PostgreSQL")
        }
        var cluster = ClusterConfiguration(node: name, database: database)
        if let value = map["lease"] {
            cluster.lease = try duration(value, "lease")
            guard cluster.lease >= .seconds(1) else { throw value.error("a cluster lease lasts 1s or more") }
        }
        return cluster
    }

    func readRules(_ node: SpecNode) throws(SpecError) -> RulesSource {
        let path = try node.string("the rules file")
        guard let text = readFile(path) else { throw node.error("cannot read the rules file '\(path)'") }
        let (snapshot, check) = RoutingSnapshot.compile(yaml: text, file: path, readFile: { name in readFile(Self.sibling(name, of: path)) })
        guard let snapshot else {
            let first = check.errors.first.map { "\($0)" } ?? "errors"
            throw node.error("the rules file '\(path)' has \(check.errors.count) error(s); first: \(first)")
        }
        return RulesSource(path: path, file: path, snapshot: snapshot)
    }

    /// A path written inside `file`, relative to the folder `file` is in.
    static func sibling(_ name: String, of file: String) -> String {
        guard !name.hasPrefix("/"), let slash = file.lastIndex(of: "/") else { return name }
        return String(file[...slash]) + name
    }

    func readListener(_ node: SpecNode) throws(SpecError) -> ListenerConfiguration {
        let map = try node.mapping("a listener", allowed: Self.listenerKeys)
        let name = try map.required("name", in: "a listener").string("a listener name")
        let where_ = try address(try map.required("address", in: "a listener"), "a listener address")
        let framing = try framing(map, "a listener")
        let wire = try wire(map, "a listener")
        var options = ListenerOptions(host: where_.host, port: where_.port)
        var tls: TLSConfiguration? = nil
        if let tlsNode = map["tls"] {
            let tlsMap = try tlsNode.mapping("listener TLS", allowed: ["certificate", "key", "client-ca"])
            let server = TLSConfiguration.server(
                certificateChainFile: resolvePath(try tlsMap.required("certificate", in: "listener TLS").string("a certificate file")),
                privateKeyFile: resolvePath(try tlsMap.required("key", in: "listener TLS").string("a key file")),
                clientCAFile: try tlsMap["client-ca"].map { node throws(SpecError) in resolvePath(try node.string("a CA file")) })
            try open(server, isClient: false, at: tlsNode)
            tls = server
        }
        if let limitsNode = map["limits"] {
            let limits = try limitsNode.mapping("listener limits", allowed: [
                "max-connections", "max-connections-per-address", "idle-timeout", "handshake-timeout",
            ])
            if let value = limits["max-connections"] { options.maximumConnections = try positive(value, "max-connections") }
            if let value = limits["max-connections-per-address"] { options.maximumConnectionsPerAddress = try positive(value, "max-connections-per-address") }
            if let value = limits["idle-timeout"] { options.connection.idleTimeout = try optionalDuration(value, "idle-timeout") }
            if let value = limits["handshake-timeout"] { options.connection.handshakeTimeout = try optionalDuration(value, "handshake-timeout") }
        }
        var keyFields = [32, 41, 42]
        if let keyNode = map["duplicate-key"] {
            keyFields = []
            for item in try keyNode.sequence("duplicate-key") {
                let field = try item.integer("a data element number")
                guard (2...192).contains(field), field != 11 else { throw item.error("duplicate-key takes data element numbers 2-192 other than 11 (always part of the key)") }
                keyFields.append(field)
            }
        }
        var listener = ListenerConfiguration(name: name, address: where_, framing: framing, wire: wire, tls: tls, options: options,
                                             duplicateKeyFields: keyFields)
        if let value = map["pin"] {
            guard case .iso8583 = wire else { throw value.error("pin applies to ISO 8583 listeners") }
            listener.pin = try readPIN(value, listener: true)
        }
        return listener
    }

    func readChannel(_ node: SpecNode) throws(SpecError) -> ChannelConfiguration {
        let map = try node.mapping("a channel", allowed: Self.channelKeys)
        let name = try map.required("name", in: "a channel").string("a channel name")
        var addresses: [HostAndPort] = []
        for item in try map.required("addresses", in: "a channel").sequence("addresses") {
            let value = try address(item, "a host address")
            if value.port == 0 { throw item.error("a host address needs a port other than 0") }
            addresses.append(value)
        }
        if addresses.isEmpty { throw node.error("channel '\(name)' needs at least one address") }
        var channel = ChannelConfiguration(name: name, group: try map["group"]?.string("a channel group"), addresses: addresses,
                                           framing: try framing(map, "a channel"), wire: try wire(map, "a channel"))
        if let tlsNode = map["tls"] {
            let tlsMap = try tlsNode.mapping("channel TLS", allowed: ["ca", "server-name", "certificate", "key", "any-server-name"])
            var tls = TLSConfiguration(trustedCAFile: resolvePath(try tlsMap.required("ca", in: "channel TLS").string("a CA file")))
            tls.serverName = try tlsMap["server-name"]?.string("a server name")
            tls.allowsAnyServerName = try tlsMap["any-server-name"]?.boolean("any-server-name") ?? false
            if tls.serverName == nil && !tls.allowsAnyServerName {
                throw tlsNode.error("channel TLS needs 'server-name' (the name the host's certificate must carry), or 'any-server-name: true' to skip the check")
            }
            tls.certificateChainFile = try tlsMap["certificate"].map { node throws(SpecError) in resolvePath(try node.string("a certificate file")) }
            tls.privateKeyFile = try tlsMap["key"].map { node throws(SpecError) in resolvePath(try node.string("a key file")) }
            if (tls.certificateChainFile == nil) != (tls.privateKeyFile == nil) {
                throw tlsNode.error("mutual TLS needs both 'certificate' and 'key'")
            }
            try open(tls, isClient: true, at: tlsNode)
            channel.tls = tls
        }
        if let value = map["request-timeout"] { channel.requestTimeout = try duration(value, "request-timeout") }
        if let value = map["max-in-flight"] { channel.maximumInFlight = try positive(value, "max-in-flight") }
        if let value = map["sign-on"] { channel.signOn = try value.boolean("sign-on") }
        if let value = map["echo-interval"] { channel.echoInterval = try optionalDuration(value, "echo-interval") }
        if let value = map["missed-echoes"] { channel.maximumMissedEchoes = try positive(value, "missed-echoes") }
        if let value = map["connect-timeout"] { channel.connectTimeout = try duration(value, "connect-timeout") }
        if let value = map["may-drop"] {
            guard case .iso8583 = channel.wire else { throw value.error("may-drop applies to ISO 8583 channels") }
            for item in try value.sequence("may-drop") { channel.mayDrop.insert(try item.choice("a canonical field", ISO8583Mapping.Target.self)) }
        }
        if let value = map["reversal"] {
            guard case .iso8583 = channel.wire else { throw value.error("reversal applies to ISO 8583 channels") }
            channel.reversal = try value.choice("a reversal policy", ReversalPolicy.self)
        }
        if let value = map["pin"] {
            guard case .iso8583 = channel.wire else { throw value.error("pin applies to ISO 8583 channels") }
            channel.pin = try readPIN(value, listener: false)
        }
        if let value = map["mac"] {
            guard case .iso8583 = channel.wire else { throw value.error("mac applies to ISO 8583 channels") }
            let mac = try value.mapping("mac", allowed: ["key"])
            channel.macKey = try mac.required("key", in: "mac").string("a key name")
        }
        if let value = map["key-exchange"] {
            guard case .iso8583(_, let mapping) = channel.wire, mapping.version == 0 else {
                throw value.error("key-exchange applies to ISO 8583:1987 channels (0800 with DE 70 161/162)")
            }
            let exchange = try value.mapping("key-exchange", allowed: ["zmk", "key", "field", "every", "grace"])
            var configuration = KeyExchangeConfiguration(zoneMasterKey: try exchange.required("zmk", in: "key-exchange").string("a key name"))
            if let key = exchange["key"] { configuration.key = try key.choice("pin or mac", KeyExchangeConfiguration.Key.self) }
            guard configuration.key == .pin ? channel.pin != nil : channel.macKey != nil else {
                throw value.error("key-exchange changes the channel's \(configuration.key) key: the channel needs \(configuration.key)")
            }
            if let grace = exchange["grace"] { configuration.grace = try duration(grace, "grace") }
            if let field = exchange["field"] {
                let number = try field.integer("a data element number")
                guard (2...192).contains(number), ![11, 39, 52, 70].contains(number) else { throw field.error("field is a data element for the key (not 11, 39, 52 or 70)") }
                configuration.field = number
            }
            configuration.every = try exchange["every"].map { node throws(SpecError) in try duration(node, "every") }
            channel.keyExchange = configuration
        }
        if let value = map["business-day"] {
            channel.businessDay = try readBusinessDay(value)
            // 1993 has no DE 70 = 201: asking for the cutover message there is a mistake worth naming.
            if case .iso8583(_, let mapping) = channel.wire, mapping.version != 0,
               let explicit = try value.mapping("business-day")["cutover-message"], try explicit.boolean("cutover-message") {
                throw explicit.error("cutover-message applies to ISO 8583:1987 channels (0800 with DE 70 = 201)")
            }
        }
        if let value = map["forward-retry"] { channel.forwardRetry = try duration(value, "forward-retry") }
        if let value = map["forward-retry-max"] { channel.forwardRetryMaximum = try duration(value, "forward-retry-max") }
        if channel.forwardRetryMaximum < channel.forwardRetry {
            throw (map["forward-retry-max"] ?? node).error("forward-retry-max is shorter than forward-retry")
        }
        if case .iso20022 = channel.wire, channel.signOn {
            // ISO 20022 has no 0800: a bank link is usable once connected.
            channel.signOn = false
            channel.echoInterval = nil
        }
        return channel
    }

    /// `business-day: {cutover: "21:00", utc-offset: "+01:00", settlement-date, cutover-message, reversal-booking}`.
    func readBusinessDay(_ node: SpecNode) throws(SpecError) -> BusinessDayConfiguration {
        let map = try node.mapping("business-day", allowed: ["cutover", "utc-offset", "settlement-date", "cutover-message", "reversal-booking", "send-totals"])
        var day = BusinessDay()
        if let value = map["cutover"] {
            guard let seconds = BusinessDay.timeOfDay(try value.string("a cutover")) else { throw value.error("cutover is a time of day, HH:MM or HH:MM:SS (21:00)") }
            day.cutover = seconds
        }
        if let value = map["utc-offset"] {
            guard let seconds = BusinessDay.utcOffset(try value.string("a UTC offset")) else {
                throw value.error("utc-offset is +HH:MM or -HH:MM (at most 14:00), or Z")
            }
            day.utcOffset = seconds
        }
        var configuration = BusinessDayConfiguration(day: day)
        if let value = map["settlement-date"] { configuration.settlementDate = try value.boolean("settlement-date") }
        if let value = map["cutover-message"] { configuration.cutoverMessage = try value.boolean("cutover-message") }
        if let value = map["send-totals"] { configuration.sendTotals = try value.boolean("send-totals") }
        if let value = map["reversal-booking"] { configuration.reversalBooking = try value.choice("a reversal booking", ReversalBooking.self) }
        return configuration
    }

    func readHealth(_ node: SpecNode) throws(SpecError) -> HealthPolicy {
        let map = try node.mapping("health", allowed: Self.healthKeys)
        var policy = HealthPolicy()
        if let value = map["window"] { policy.window = try duration(value, "window") }
        if let value = map["failure-rate"] {
            guard let rate = Double(try value.string("failure-rate")), (0...1).contains(rate) else { throw value.error("failure-rate is a share from 0 to 1") }
            policy.failureRateThreshold = rate
        }
        if let value = map["minimum-failures"] { policy.minimumFailures = try positive(value, "minimum-failures") }
        if let value = map["open-for"] { policy.openDuration = try duration(value, "open-for") }
        if let value = map["half-open-probes"] { policy.halfOpenProbes = try positive(value, "half-open-probes") }
        if let value = map["order-by-success-rate"] { policy.orderBySuccessRate = try value.boolean("order-by-success-rate") }
        return policy
    }

    // MARK: Values

    func framing(_ map: SpecNode.Mapping, _ what: String) throws(SpecError) -> FrameFormat {
        let node = try map.required("framing", in: what)
        let name = try node.string("a framing")
        guard let format = FrameFormat.preset(named: name) else {
            throw node.error("unknown framing '\(name)'; presets: \(FrameFormat.presets.map(\.0).joined(separator: ", "))")
        }
        return format
    }

    func wire(_ map: SpecNode.Mapping, _ what: String) throws(SpecError) -> WireFormat {
        let protocolNode = try map.required("protocol", in: what)
        switch try protocolNode.string("a protocol") {
        case "iso8583":
            let node = try map.required("dialect", in: "an ISO 8583 \(what.dropFirst(2))")
            let dialect = try dialect(node)
            do {
                return .iso8583(dialect, try ISO8583Mapping.shipped(for: dialect))
            } catch {
                throw node.error("dialect '\(dialect.name)' has no mapping to the canonical message: \(error.message)")
            }
        case "iso20022":
            if let node = map["dialect"] { throw node.error("an ISO 20022 \(what.dropFirst(2)) takes no dialect") }
            return .iso20022
        case let other:
            throw protocolNode.error("unknown protocol '\(other)'; expected iso8583 or iso20022")
        }
    }

    func dialect(_ node: SpecNode) throws(SpecError) -> Dialect {
        let name = try node.string("a dialect")
        if Dialect.shippedNames.contains(name) { return try Dialect.shipped(name) }
        guard let text = readFile(name) else {
            throw node.error("no shipped dialect or spec file named '\(name)'; shipped: \(Dialect.shippedNames.joined(separator: ", "))")
        }
        return try Dialect.load(yaml: text, file: name) { parent in
            if let shipped = Dialect.shippedSource(parent) { return shipped }
            let sibling = Self.sibling(parent.hasSuffix(".yaml") ? parent : parent + ".yaml", of: name)
            return readFile(sibling).map { ($0, sibling) }
        }
    }

    func address(_ node: SpecNode, _ what: String) throws(SpecError) -> HostAndPort {
        let text = try node.string(what)
        guard let value = HostAndPort(text) else { throw node.error("\(what) is host:port, found '\(text)'") }
        return value
    }

    func positive(_ node: SpecNode, _ what: String) throws(SpecError) -> Int {
        let value = try node.integer(what)
        guard value > 0 else { throw node.error("\(what) must be a positive whole number") }
        return value
    }

    /// `250ms`, `10s`, `2m`; a whole number with its unit.
    func duration(_ node: SpecNode, _ what: String) throws(SpecError) -> Duration {
        let text = try node.string(what)
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
        for (suffix, milliseconds) in units where text.hasSuffix(suffix) {
            let digits = text.dropLast(suffix.count)
            // Bounded so that no duration overflows when turned into nanoseconds.
            guard !digits.isEmpty, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }), let value = Int64(digits), value > 0, value <= 1_000_000_000 / milliseconds else {
                continue
            }
            return .milliseconds(value * milliseconds)
        }
        throw node.error("\(what) is a positive duration such as 250ms, 10s or 2m (at most 11 days), found '\(text)'")
    }

    /// A duration, or `off`.
    func optionalDuration(_ node: SpecNode, _ what: String) throws(SpecError) -> Duration? {
        if (try? node.string(what)) == "off" { return nil }
        return try duration(node, what)
    }
}
