/// A GPT-OSS reply in OpenAI's harmony format, split into its channels.
///
/// After the prompt's `<|start|>assistant` the model writes messages such as
/// `<|channel|>analysis<|message|>…<|end|><|start|>assistant<|channel|>final<|message|>…<|return|>`:
/// the analysis channel is its reasoning, the final channel the answer (commentary carries tool
/// calls). Generation ends at `<|return|>` or `<|call|>`, not at `<|end|>`, which only closes one
/// message. `parse` reads the text with special tokens kept; a message still being written (no
/// closing token yet) is returned as it stands, so a stream can be shown as it grows.
public struct HarmonyReply: Sendable, Equatable {
    /// One message of the reply.
    public struct Message: Sendable, Equatable {
        /// `analysis`, `commentary`, `final` (or whatever the model wrote after `<|channel|>`).
        public var channel: String
        /// The header after the channel name, e.g. ` to=functions.get_weather <|constrain|>json`.
        public var header: String
        public var content: String
        /// Whether the message's closing token (`<|end|>`, `<|return|>`, `<|call|>`) was seen.
        public var complete: Bool
    }

    /// The messages in order.
    public var messages: [Message]

    /// The final channel's text (the answer), empty before it starts.
    public var final: String { messages.filter { $0.channel == "final" }.map(\.content).joined() }
    /// The analysis channel's text (the reasoning).
    public var analysis: String { messages.filter { $0.channel == "analysis" }.map(\.content).joined() }

    /// Tokens that end generation in harmony (`<|end|>` does not: the final message follows it).
    public static let stopMarkers = ["<|return|>", "<|call|>"]
    static let closers = ["<|end|>", "<|return|>", "<|call|>"]

    /// Splits `text` (generated after `<|start|>assistant`, special tokens kept) into messages. Text
    /// outside any `<|channel|>…<|message|>` header (a model that skips it) counts as final.
    public static func parse(_ text: String) -> HarmonyReply {
        var messages: [Message] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            // Skip a role header `<|start|>assistant` between messages.
            if rest.hasPrefix("<|start|>") {
                let afterStart = rest.dropFirst("<|start|>".count)
                guard let header = afterStart.range(of: "<|channel|>") ?? afterStart.range(of: "<|message|>") else {
                    break  // a role name still being written
                }
                rest = afterStart[header.lowerBound...]
                continue
            }
            var channel = "final"
            var header = ""
            if rest.hasPrefix("<|channel|>") {
                let afterChannel = rest.dropFirst("<|channel|>".count)
                guard let body = afterChannel.range(of: "<|message|>") else { break }  // header incomplete
                let line = afterChannel[..<body.lowerBound]
                let name = line.prefix { $0 != " " && $0 != "<" }
                channel = String(name)
                header = String(line.dropFirst(name.count))
                rest = afterChannel[body.upperBound...]
            } else if rest.hasPrefix("<|message|>") {
                rest = rest.dropFirst("<|message|>".count)
            }
            let close = closers.compactMap { rest.range(of: $0) }.min { $0.lowerBound < $1.lowerBound }
            let content = close.map { rest[..<$0.lowerBound] } ?? rest
            messages.append(Message(channel: channel, header: header, content: String(content), complete: close != nil))
            guard let close else { break }
            rest = rest[close.upperBound...]
            if closers.dropFirst().contains(String(text[close])) { break }  // <|return|> / <|call|>: done
        }
        return HarmonyReply(messages: messages)
    }
}
