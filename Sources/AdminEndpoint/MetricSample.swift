public import Prometheus

/// One sample of the Prometheus text exposition format: a metric name, its labels and its value.
///
/// It reads what `GET /metrics` serves, so a process that runs the switch in-process (the demo, a
/// test) can report the switch's own counters without an HTTP round trip.
public struct MetricSample: Sendable, Hashable {
    public var name: String
    public var labels: [String: String]
    public var value: Double

    /// The value as a whole count (a counter's), or nil when it is not one: fractional, infinite,
    /// not a number or beyond `Int`.
    public var count: Int? { Int(exactly: value) }

    public init(name: String, labels: [String: String] = [:], value: Double) {
        self.name = name
        self.labels = labels
        self.value = value
    }

    /// The samples in `text`, in order, only those named `name` when it is given.
    ///
    /// Comment lines (`# HELP`, `# TYPE`) and lines that do not read as a sample are skipped;
    /// label values are unescaped (`\\`, `\"`, `\n`); a timestamp after the value is ignored.
    public static func parse(_ text: String, named name: String? = nil) -> [MetricSample] {
        var samples: [MetricSample] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let sample = MetricSample(line: Substring(line)), name == nil || sample.name == name else { continue }
            samples.append(sample)
        }
        return samples
    }

    /// One sample line: `name{label="value",…} value [timestamp]`, or nil.
    init?(line: Substring) {
        var rest = line.drop { $0 == " " }
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        name = String(rest[..<nameEnd])
        guard !name.isEmpty else { return nil }
        rest = rest[nameEnd...]
        labels = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while true {
                rest = rest.drop { $0 == " " || $0 == "," }
                if rest.first == "}" {
                    rest = rest.dropFirst()
                    break
                }
                guard let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)...].first == "\"" else { return nil }
                let key = String(rest[..<equals])
                rest = rest[rest.index(equals, offsetBy: 2)...]
                guard let (value, after) = MetricSample.quoted(rest) else { return nil }
                labels[key] = value
                rest = after
            }
        }
        guard let valueText = rest.split(separator: " ").first, let value = Double(valueText) else { return nil }
        self.value = value
    }

    /// A label value up to its closing quote, unescaped, and what follows the quote.
    private static func quoted(_ text: Substring) -> (String, Substring)? {
        var value = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "\"" { return (value, text[text.index(after: index)...]) }
            if character == "\\" {
                index = text.index(after: index)
                guard index < text.endIndex else { return nil }
                value.append(text[index] == "n" ? "\n" : text[index])
            } else {
                value.append(character)
            }
            index = text.index(after: index)
        }
        return nil
    }
}

extension AdminMetrics {
    /// The samples named `name` in `registry` now: what `GET /metrics` would show for it.
    public static func samples(named name: String, in registry: PrometheusCollectorRegistry) -> [MetricSample] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return MetricSample.parse(String(decoding: buffer, as: UTF8.self), named: name)
    }
}
