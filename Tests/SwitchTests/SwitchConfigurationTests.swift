import Foundation
import SpecFiles
import PaymentModel
import Switch
import Testing
import TestSupport
import Transport

/// Reading switch configurations: defaults, every error at its file:line:column, TLS files.
@Suite struct SwitchConfigurationTests {
    static let rules = "channels: [issuer]\nrules: []\ndefault: {route: issuer}\n"

    /// The smallest useful configuration; `extra` lines go under the channel.
    static func configuration(listener: String = #"{name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso8583, dialect: iso87binary}"#,
                              channel extra: String = "") -> String {
        """
        rules: rules.yaml
        listeners:
          - \(listener)
        channels:
          - name: issuer
            addresses: ["127.0.0.1:9201"]
            framing: bin2
            protocol: iso8583
            dialect: iso87ascii
        \(extra)
        """
    }

    static func load(_ yaml: String, rules: String = rules, openingTLSFiles: Bool = false) throws(SpecError) -> SwitchConfiguration {
        try SwitchConfiguration.load(yaml: yaml, file: "switch.yaml", readFile: { $0 == "rules.yaml" ? rules : nil },
                                     openingTLSFiles: openingTLSFiles)
    }

    @Test func theEmbeddedDefaultLoads() throws {
        let configuration = try SwitchConfiguration.embeddedDefault()
        #expect(configuration.listeners.map(\.name) == ["pos", "banks"])
        #expect(configuration.channels.map(\.name) == ["issuer-a", "issuer-b", "bank"])
        #expect(configuration.admin?.description == "127.0.0.1:9180")
        #expect(configuration.storage == StorageConfiguration(path: "payswitch-data/switch.sqlite", keyFile: "payswitch-data/data.key"))
    }

    @Test func whatIsNotWrittenTakesTheDocumentedDefaults() throws {
        let configuration = try Self.load(Self.configuration())
        let channel = try #require(configuration.channels.first)
        #expect(channel.requestTimeout == .seconds(10) && channel.maximumInFlight == 1024)
        #expect(channel.signOn && channel.echoInterval == .seconds(30) && channel.maximumMissedEchoes == 3)
        #expect(channel.connectTimeout == .seconds(5) && channel.tls == nil && channel.group == "issuer")
        #expect(configuration.listeners.first?.duplicateKeyFields == [32, 41, 42])
        #expect(configuration.shutdownGrace == .seconds(10) && configuration.admin == nil && configuration.name == "payswitch")
        #expect(channel.reversal == .request && channel.forwardRetry == .seconds(1) && channel.forwardRetryMaximum == .seconds(30))
        #expect(configuration.storage == nil)
    }

    @Test func storageAndReversalSettingsAreRead() throws {
        let yaml = Self.configuration(channel: "    reversal: advice\n    forward-retry: 250ms\n    forward-retry-max: 2m")
            + "\nstorage: {path: data/switch.sqlite, key-file: keys/data.key, journal-capacity: 10, journal-messages: false, synchronous: normal}\n"
        let configuration = try SwitchConfiguration.load(yaml: yaml, file: "/etc/payswitch/switch.yaml", readFile: { _ in Self.rules },
                                                         resolvePath: { SwitchConfiguration.path($0, relativeTo: "/etc/payswitch/switch.yaml") })
        let channel = try #require(configuration.channels.first)
        #expect(channel.reversal == .advice && channel.forwardRetry == .milliseconds(250) && channel.forwardRetryMaximum == .seconds(120))
        #expect(configuration.storage == StorageConfiguration(path: "/etc/payswitch/data/switch.sqlite", keyFile: "/etc/payswitch/keys/data.key",
                                                              journalCapacity: 10, journalMessages: false, synchronous: .normal))
        #expect(try Self.load(Self.configuration() + "\nstorage: off\n").storage == nil)
    }

    /// Each bad file, the line and column its error must name, and words of the message.
    static let badFiles: [(String, Int, Int, String)] = [
        ("colour: red\n" + configuration(), 1, 1, "colour"),
        (configuration(listener: #"{name: pos, address: "127.0.0.1:70000", framing: bin2, protocol: iso8583, dialect: iso87binary}"#),
         3, 26, "host:port"),
        (configuration(listener: #"{name: pos, address: "127.0.0.1:0", framing: bin9, protocol: iso8583, dialect: iso87binary}"#),
         3, 50, "unknown framing 'bin9'"),
        (configuration(listener: #"{name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso8583, dialect: iso99}"#),
         3, 84, "iso99"),
        (configuration(listener: #"{name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso20022, dialect: iso87binary}"#),
         3, 85, "takes no dialect"),
        (configuration(channel: "    request-timeout: 10"), 10, 22, "250ms"),
        (configuration(channel: "    request-timeout: +5s"), 10, 22, "250ms"),
        (configuration(channel: "    max-in-flight: 0"), 10, 20, "positive"),
        (configuration(channel: "    tls: {ca: ca.pem}"), 10, 10, "server-name"),
        (configuration(channel: "    tls: {ca: ca.pem, server-name: h, certificate: c.pem}"), 10, 10, "both 'certificate' and 'key'"),
        (configuration(channel: "    echo-interval: 5s\n    echo-interval: 6s"), 10, 5, "echo-interval"),  // Yams marks the first of the two
        (configuration(channel: "  - {name: issuer, addresses: [\"127.0.0.1:1\"], framing: bin2, protocol: iso20022}"), 10, 5, "declared twice"),
        (configuration(channel: "    reversal: sometimes"), 10, 15, "request, advice, off"),
        (configuration(channel: "    forward-retry: 5s\n    forward-retry-max: 1s"), 11, 24, "shorter than forward-retry"),
        (configuration() + "\nstorage: {path: a.sqlite}", 11, 10, "key-file"),
        (configuration() + "\nstorage: {path: a.sqlite, key-file: k, synchronous: sometimes}", 11, 53, "full, normal"),
        (configuration() + "\nstorage: {path: a.sqlite, key-file: k, journal-capacity: -1}", 11, 58, "positive"),
        (configuration() + "\nbusiness-day: {cutover: \"25:00\"}", 11, 25, "HH:MM"),
        (configuration() + "\nbusiness-day: {cutover: \"21:00\", utc-offset: \"+15:00\"}", 11, 46, "at most 14:00"),
        (configuration() + "\nbusiness-day: {cutoff: \"21:00\"}", 11, 16, "cutoff"),
        (configuration(channel: "    business-day: {reversal-booking: later}"), 10, 38, "original, current"),
        (configuration() + "\ncluster: {node: a}", 11, 10, "database"),
        (configuration() + "\ncluster: {node: a, database: a.sqlite}", 11, 30, "postgres:// URL"),
        (configuration() + "\ncluster: {node: a, database: \"postgres://u@h/d\", lease: 500ms}", 11, 57, "1s or more"),
        (configuration() + "\nstorage: {path: s.sqlite, key-file: k}\ncluster: {node: a, database: \"postgres://u@h/d\"}", 11, 10, "share their"),
        (configuration() + "\nstorage: {path: \"postgres://u@h/s\", key-file: k}\ncluster: {node: a, database: \"postgres://u@h/d\"}", 12, 30, "the storage's"),
    ]

    @Test func aClusterNodeIsReadWithItsDatabaseAndLease() throws {
        let configuration = try Self.load(Self.configuration() + "\ncluster: {node: a, database: \"postgres://u@127.0.0.1:5432/d\", lease: 3s}\n")
        #expect(configuration.cluster == ClusterConfiguration(node: "a", database: "postgres://u@127.0.0.1:5432/d", lease: .seconds(3)))
        #expect(try Self.load(Self.configuration()).cluster == nil)
        // A node's storage on PostgreSQL is the cluster's database, named once.
        let shared = try Self.load(Self.configuration() + "\nstorage: {path: \"postgres://u@h/s\", key-file: k}\ncluster: {node: b}\n")
        #expect(shared.cluster == ClusterConfiguration(node: "b", database: "postgres://u@h/s"))
    }

    @Test func businessDaysAreReadAndAChannelsOwnReplacesTheSwitchs() throws {
        let yaml = Self.configuration(channel: "    business-day: {cutover: \"22:30:15\", reversal-booking: current, send-totals: true}")
            + "\nbusiness-day: {cutover: \"21:00\", utc-offset: \"-05:00\", settlement-date: false, cutover-message: false}\n"
        let configuration = try Self.load(yaml)
        var top = BusinessDayConfiguration(day: BusinessDay(cutover: 21 * 3600, utcOffset: -5 * 3600))
        top.settlementDate = false
        top.cutoverMessage = false
        #expect(configuration.businessDay == top)
        var channel = BusinessDayConfiguration(day: BusinessDay(cutover: 22 * 3600 + 30 * 60 + 15))
        channel.reversalBooking = .current
        channel.sendTotals = true
        #expect(configuration.channels.first?.businessDay == channel)
        #expect(try Self.load(Self.configuration()).businessDay == nil)
    }

    @Test(arguments: badFiles)
    func anErrorNamesItsLineAndColumn(yaml: String, line: Int, column: Int, words: String) {
        do {
            _ = try Self.load(yaml)
            Issue.record("accepted:\n\(yaml)")
        } catch {
            #expect(error.file == "switch.yaml")
            #expect((error.line, error.column) == (line, column), "\(error)")
            #expect(error.message.contains(words), "\(error)")
        }
    }

    @Test func rulesNamingAChannelTheConfigurationLacksAreRefusedAtTheRulesLine() {
        #expect {
            _ = try Self.load(Self.configuration(), rules: "channels: [issuer, elsewhere]\nrules: []\ndefault: {route: elsewhere}\n")
        } throws: { error in
            let error = error as? SpecError
            return error?.line == 1 && error?.message.contains("'elsewhere'") == true
        }
    }

    @Test func aTLSFileThatCannotBeUsedIsAnErrorAtItsEntryWhenFilesAreOpened() throws {
        let tls = "    tls: {ca: /nonexistent/ca.pem, server-name: localhost}"
        #expect(try Self.load(Self.configuration(channel: tls)).channels.first?.tls?.trustedCAFile == "/nonexistent/ca.pem")
        do {
            _ = try Self.load(Self.configuration(channel: tls), openingTLSFiles: true)
            Issue.record("a missing CA file was accepted")
        } catch {
            #expect((error.line, error.column) == (10, 10) && error.message.contains("cannot use these TLS files"), "\(error)")
        }
        // The test PKI's files are usable, for a channel (mutual TLS) and for a listener.
        let mutual = "    tls: {ca: \(TestCertificates.path("ca.pem")), server-name: localhost, "
            + "certificate: \(TestCertificates.path("client.pem")), key: \(TestCertificates.path("client.key"))}"
        let listener = #"{name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso8583, dialect: iso87binary, "#
            + "tls: {certificate: \(TestCertificates.path("server.pem")), key: \(TestCertificates.path("server.key"))}}"
        let configuration = try Self.load(Self.configuration(listener: listener, channel: mutual), openingTLSFiles: true)
        #expect(configuration.listeners.first?.tls != nil && configuration.channels.first?.tls?.privateKeyFile != nil)
        // A key that is not the certificate's is refused at the listener's line.
        let mismatched = #"{name: pos, address: "127.0.0.1:0", framing: bin2, protocol: iso8583, dialect: iso87binary, "#
            + "tls: {certificate: \(TestCertificates.path("server.pem")), key: \(TestCertificates.path("client.key"))}}"
        #expect(throws: SpecError.self) { try Self.load(Self.configuration(listener: mismatched), openingTLSFiles: true) }
    }

    @Test func theDocumentedExampleLoads() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("specs/switch").path
        let file = folder + "/example.yaml"
        let configuration = try SwitchConfiguration.load(
            yaml: try String(contentsOfFile: file, encoding: .utf8), file: file,
            readFile: { try? String(contentsOfFile: SwitchConfiguration.path($0, relativeTo: file), encoding: .utf8) })
        #expect(configuration.listeners.count == 3 && configuration.channels.count == 3)
    }
}
