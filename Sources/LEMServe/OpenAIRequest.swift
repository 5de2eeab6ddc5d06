import Foundation
import LEMCore

/// The fields of a `/v1/chat/completions` or `/v1/completions` body this server reads, checked.
///
/// Fields it does not know are ignored, as OpenAI-compatible servers do; fields it knows but
/// cannot honour (`n` > 1, non-zero presence/frequency penalties, `suffix`) are a 400 naming them
/// rather than silently different answers.
struct OpenAIRequest: Sendable {
    /// What to complete.
    enum Input: Sendable {
        case messages([ChatMessage])
        /// Texts or token-id lists, one choice each.
        case prompts([Prompt])
    }

    /// One completion prompt.
    enum Prompt: Sendable {
        case text(String)
        case ids([Int])
    }

    var model: String?
    var input: Input
    var sampling: SamplingSettings
    var stop: [String]
    var stream: Bool
    var includeUsage: Bool
    var echo: Bool
    /// Alternatives per position (`logprobs: N` of completions); nil: no log-probabilities.
    var logprobs: Int?
    /// Whether the body named `max_tokens`; when not, the reply may run to the context's end.
    var maxTokensGiven: Bool

    /// Parses `body` for `endpoint`; throws `APIError.invalid` naming the field at fault.
    init(body: Data, chat: Bool, limits: ServeConfiguration) throws {
        let object = try Self.object(body)
        let fields = Fields(object: object)
        model = try fields.string("model")
        if chat {
            input = .messages(try Self.messages(object["messages"]))
        } else {
            input = .prompts(try Self.prompts(object["prompt"], limit: limits.maxPrompts))
        }
        stream = try fields.bool("stream") ?? false
        includeUsage = try Fields(object: try fields.object("stream_options") ?? [:]).bool("include_usage") ?? false
        echo = chat ? false : (try fields.bool("echo") ?? false)
        if chat {
            if try fields.bool("logprobs") == true {
                throw APIError.invalid("logprobs are served by /v1/completions only", param: "logprobs")
            }
            logprobs = nil
        } else if let n = try fields.int("logprobs") {
            guard (0...limits.maxLogprobs).contains(n) else {
                throw APIError.invalid("logprobs must be in 0...\(limits.maxLogprobs), got \(n)", param: "logprobs")
            }
            logprobs = n
        } else {
            logprobs = nil
        }
        if let n = try fields.int("n"), n != 1 {
            throw APIError.invalid("only n = 1 is supported, got \(n)", param: "n")
        }
        for name in ["presence_penalty", "frequency_penalty"] {
            if let p = try fields.double(name), p != 0 {
                throw APIError.invalid("\(name) is not supported (use repetition_penalty)", param: name)
            }
        }
        if let suffix = try fields.string("suffix"), !suffix.isEmpty {
            throw APIError.invalid("suffix is not supported", param: "suffix")
        }

        let asked = try fields.int("max_completion_tokens") ?? fields.int("max_tokens")
        maxTokensGiven = asked != nil
        let maxTokens = asked ?? (chat ? limits.maxTokensLimit : 16)
        guard maxTokens >= 0 else {
            throw APIError.invalid("max_tokens must be >= 0, got \(maxTokens)", param: "max_tokens")
        }
        guard maxTokens <= limits.maxTokensLimit else {
            throw APIError.invalid(
                "max_tokens must be at most \(limits.maxTokensLimit), got \(maxTokens)", param: "max_tokens")
        }
        if chat && maxTokens == 0 { throw APIError.invalid("max_tokens must be at least 1", param: "max_tokens") }
        let temperature = try fields.double("temperature") ?? 1
        guard (0...2).contains(temperature) else {
            throw APIError.invalid("temperature must be in [0, 2], got \(temperature)", param: "temperature")
        }
        let seed = try fields.int("seed")
        sampling = SamplingSettings(
            temperature: temperature, topP: try fields.double("top_p") ?? 1, topK: try fields.int("top_k") ?? 0,
            minP: try fields.double("min_p") ?? 0, repetitionPenalty: try fields.double("repetition_penalty") ?? 1,
            maxTokens: maxTokens, seed: seed.map { UInt64(bitPattern: Int64($0)) })
        if let message = sampling.validationError() { throw APIError.invalid(message) }

        switch object["stop"] {
        case nil, .null?: stop = []
        case .string(let s)?: stop = [s]
        case .array(let items)?:
            stop = try items.map { item in
                guard let s = item.string else {
                    throw APIError.invalid("stop must be a string or a list of strings", param: "stop")
                }
                return s
            }
        case let other?:
            throw APIError.invalid("stop must be a string or a list of strings, got \(other.kind)", param: "stop")
        }
        guard stop.count <= 16 else {
            throw APIError.invalid("at most 16 stop strings, got \(stop.count)", param: "stop")
        }
        stop = stop.filter { !$0.isEmpty }
    }

    /// A request body as a JSON object; a 400 saying why when it is not one.
    static func object(_ body: Data) throws -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONValue.parse(body)
        } catch {
            throw APIError.invalid("the body is not valid JSON: \(error)")
        }
        guard let object = value.object else {
            throw APIError.invalid("the body must be a JSON object, got \(value.kind)")
        }
        return object
    }

    private static func messages(_ value: JSONValue?) throws -> [ChatMessage] {
        guard let items = value?.array, !items.isEmpty else {
            throw APIError.invalid("messages must be a non-empty list", param: "messages")
        }
        return try items.enumerated().map { index, item in
            let param = "messages[\(index)]"
            guard let message = item.object else { throw APIError.invalid("\(param) must be an object", param: param) }
            guard let role = message["role"]?.string, !role.isEmpty else {
                throw APIError.invalid("\(param).role must be a string", param: param)
            }
            let content: String
            switch message["content"] {
            case .string(let s)?: content = s
            case nil, .null?: content = ""
            case .array(let parts)?:
                // Text parts joined; other kinds (images, audio) are refused, not dropped.
                content = try parts.map { part -> String in
                    guard part["type"]?.string == "text", let text = part["text"]?.string else {
                        throw APIError.invalid("\(param).content: only text parts are supported", param: param)
                    }
                    return text
                }.joined()
            case let other?:
                throw APIError.invalid(
                    "\(param).content must be a string or a list of parts, got \(other.kind)", param: param)
            }
            return ChatMessage(role: ChatRole(rawValue: role), content: content)
        }
    }

    private static func prompts(_ value: JSONValue?, limit: Int) throws -> [Prompt] {
        func ids(_ items: [JSONValue]) throws -> [Int] {
            try items.map { item in
                guard let id = item.int, id >= 0 else {
                    throw APIError.invalid("prompt token ids must be non-negative integers", param: "prompt")
                }
                return id
            }
        }
        let prompts: [Prompt]
        switch value {
        case .string(let s)?: prompts = [.text(s)]
        case .array(let items)? where items.isEmpty: throw APIError.invalid("prompt must not be empty", param: "prompt")
        case .array(let items)? where items.allSatisfy({ $0.int != nil }): prompts = [.ids(try ids(items))]
        case .array(let items)?:
            prompts = try items.map { item in
                switch item {
                case .string(let s): return .text(s)
                case .array(let inner): return .ids(try ids(inner))
                default: throw APIError.invalid("prompt must be text, token ids, or a list of either", param: "prompt")
                }
            }
        default: throw APIError.invalid("prompt must be text, token ids, or a list of either", param: "prompt")
        }
        guard prompts.count <= limit else {
            throw APIError.invalid("at most \(limit) prompts per request, got \(prompts.count)", param: "prompt")
        }
        return prompts
    }
}

/// Typed reads of optional members, each a 400 naming the member when of the wrong kind.
private struct Fields {
    let object: JSONObject

    func value(_ name: String) -> JSONValue? {
        guard let v = object[name], !v.isNull else { return nil }
        return v
    }

    /// The member `name` read by `read`; nil when absent or null, a 400 saying it must be `kind`
    /// when `read` gives nil.
    func typed<T>(_ name: String, _ kind: String, _ read: (JSONValue) -> T?) throws -> T? {
        guard let v = value(name) else { return nil }
        guard let t = read(v) else { throw APIError.invalid("\(name) must be \(kind), got \(v.kind)", param: name) }
        return t
    }

    func string(_ name: String) throws -> String? { try typed(name, "a string") { $0.string } }

    func bool(_ name: String) throws -> Bool? { try typed(name, "a boolean") { $0.bool } }

    func int(_ name: String) throws -> Int? { try typed(name, "an integer") { $0.int } }

    func double(_ name: String) throws -> Double? {
        try typed(name, "a number") { v in v.double.flatMap { $0.isFinite ? $0 : nil } }
    }

    func object(_ name: String) throws -> JSONObject? { try typed(name, "an object") { $0.object } }
}
