import JustGateCore
import Logging

/// A swift-log handler that writes one JSON object per line: `time`, `level`, `logger`,
/// `message`, then the metadata. Values that are numbers stay numbers so log tools can sum
/// durations; everything else is a string through `description`, which is how `Secret` stays
/// `<redacted>` even when someone logs one by mistake.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let sink: LogSink

    public init(label: String, level: Logger.Level = .info, sink: LogSink = .standardError) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        write(level: event.level, message: event.message, metadata: event.metadata)
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
                    source: String, file: String, function: String, line: UInt) {
        write(level: level, message: message, metadata: explicit)
    }

    private func write(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?) {
        var out = ""
        // A request line is ~350 bytes; one allocation up front instead of several regrowths.
        out.reserveCapacity(512)
        out += "{\"time\":\"\(LogTimestamp.now())\",\"level\":\"\(level.rawValue)\",\"logger\":"
        JSONWriter.appendQuoted(label, to: &out)
        out += ",\"message\":"
        JSONWriter.appendQuoted(message.description, to: &out)
        var merged = metadata
        if let explicit {
            if merged.isEmpty { merged = explicit } else { merged.merge(explicit) { _, new in new } }
        }
        for key in merged.keys.sorted() {
            guard let value = merged[key] else { continue }
            out += ","
            JSONWriter.appendQuoted(key, to: &out)
            out += ":"
            JSONLogHandler.append(value, to: &out)
        }
        out += "}"
        sink.write(out)
    }

    private static func append(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case .string(let text):
            JSONWriter.appendQuoted(text, to: &out)
        case .stringConvertible(let convertible):
            if convertible is Int || convertible is UInt64 || convertible is Int64 {
                out += convertible.description
            } else if let number = convertible as? Double, number.isFinite {
                out += number.description
            } else if let flag = convertible as? Bool {
                out += flag ? "true" : "false"
            } else {
                JSONWriter.appendQuoted(convertible.description, to: &out)
            }
        case .array(let values):
            out += "["
            for (index, element) in values.enumerated() {
                if index > 0 { out += "," }
                append(element, to: &out)
            }
            out += "]"
        case .dictionary(let dictionary):
            out += "{"
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                JSONWriter.appendQuoted(key, to: &out)
                out += ":"
                if let element = dictionary[key] { append(element, to: &out) }
            }
            out += "}"
        }
    }
}
