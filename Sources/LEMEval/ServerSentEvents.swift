/// The `data` payloads of a server-sent event stream (the WHATWG `text/event-stream` format),
/// fed in pieces of any size as they arrive.
///
/// Lines end in LF, CR LF or a lone CR; the `data` lines of one event are joined with LF; a blank
/// line ends the event; comments (`:`) and the other fields (`event`, `id`, `retry`) are skipped.
/// One line may not pass `maxLine` bytes (a stream that never ends a line is refused, not held).
public struct ServerSentEvents: Sendable {
    /// The most bytes one line may hold.
    public let maxLine: Int
    private var line: [UInt8] = []
    private var data: [String] = []
    private var afterCR = false

    /// A parser with an empty buffer.
    public init(maxLine: Int = 1 << 20) { self.maxLine = maxLine }

    /// A line longer than `maxLine`.
    public struct LineTooLong: Error, CustomStringConvertible, Sendable {
        /// The limit passed.
        public var limit: Int
        public var description: String { "an event-stream line is longer than \(limit) bytes" }
    }

    /// Feeds `bytes`; returns the payloads of the events they complete, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [String] {
        var events: [String] = []
        for b in bytes {
            if afterCR {
                afterCR = false
                if b == 10 { continue }
            }
            if b == 10 || b == 13 {
                afterCR = b == 13
                if let event = endLine() { events.append(event) }
                continue
            }
            guard line.count < maxLine else { throw LineTooLong(limit: maxLine) }
            line.append(b)
        }
        return events
    }

    /// The payload of an event the stream left unterminated (the format drops it; servers that
    /// close right after their last `data` line are read as meant).
    public mutating func finish() -> String? {
        if !line.isEmpty { _ = endLine() }
        return endLine()
    }

    /// Ends the current line; returns an event's payload when the line was blank.
    private mutating func endLine() -> String? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            guard !data.isEmpty else { return nil }
            defer { data.removeAll() }
            return data.joined(separator: "\n")
        }
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix(":") { return nil }
        let field: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            field = text[...]
            value = ""
        }
        if field == "data" { data.append(String(value)) }
        return nil
    }
}
