import Foundation
import LEMCore

/// A model's chat template: a Jinja program run by LEM's own interpreter.
///
/// The template is parsed once; `render` runs it with `messages`, `add_generation_prompt`,
/// `bos_token`, `eos_token` and `tools = none`, as transformers' `apply_chat_template` does.
public struct ChatTemplate: Sendable {
    /// The Jinja source text.
    public let source: String
    /// `bos_token` as the template sees it.
    public let bosToken: String?
    /// `eos_token` as the template sees it.
    public let eosToken: String?
    /// Where the template was read (`<folder>/tokenizer_config.json: chat_template`, a GGUF
    /// key); errors start with it. nil for templates given as text.
    public let origin: String?
    /// The limits rendering runs under (templates come with downloaded files).
    public let limits: JinjaLimits
    private let nodes: [JinjaNode]

    /// Parses a template; syntax errors name the template line (and `origin`, when given).
    public init(
        source: String, bosToken: String? = nil, eosToken: String? = nil, origin: String? = nil,
        limits: JinjaLimits = .standard
    ) throws {
        self.source = source
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.origin = origin
        self.limits = limits
        do {
            nodes = try JinjaParser.parse(source, limits: limits)
        } catch let error as TemplateError {
            throw Self.located(error, origin)
        }
    }

    /// `error` naming `origin`, when there is one.
    private static func located(_ error: TemplateError, _ origin: String?) -> TemplateError {
        guard let origin else { return error }
        if case .missing = error { return error }
        return .inTemplate(source: origin, error.withoutSource)
    }

    /// Renders a conversation into the prompt text.
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String {
        let values = messages.map { m -> JinjaValue in
            var o = JinjaObject()
            o["role"] = .string(m.role.rawValue)
            o["content"] = .string(m.content)
            return .object(o)
        }
        return try render(messageValues: values, addGenerationPrompt: addGenerationPrompt, extra: [:])
    }

    /// Renders with messages and extra variables given as JSON-like values (e.g. `date_string`, `tools`).
    public func render(jsonMessages: [Any], addGenerationPrompt: Bool, extra: [String: Any] = [:]) throws -> String {
        try render(
            messageValues: jsonMessages.map { JinjaValue(json: $0) }, addGenerationPrompt: addGenerationPrompt,
            extra: extra.mapValues { JinjaValue(json: $0) })
    }

    private func render(messageValues: [JinjaValue], addGenerationPrompt: Bool, extra: [String: JinjaValue]) throws
        -> String
    {
        var globals: [String: JinjaValue] = [
            "messages": .array(messageValues),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": bosToken.map { .string($0) } ?? .none,
            "eos_token": eosToken.map { .string($0) } ?? .none,
            "tools": .none,
            "documents": .none
        ]
        for (k, v) in extra { globals[k] = v }
        do {
            return try JinjaInterpreter(globals: globals, limits: limits).render(nodes)
        } catch let error as TemplateError {
            throw Self.located(error, origin)
        }
    }

    /// The markers that end an assistant turn in the chat formats the engine knows (Gemma, ChatML,
    /// Llama 3, Phi, Llama 2/Mistral). A vocabulary's ids for them stop chat generation; the
    /// strings stop it too, should a model spell one out in pieces.
    public static let endOfTurnMarkers = ["<end_of_turn>", "<|im_end|>", "<|eot_id|>", "<|end|>", "<|eom_id|>", "</s>"]

    /// The template shipped with a tokenizer, else a built-in one chosen by the vocabulary's turn markers.
    public init(tokenizer: Tokenizer) throws {
        if let source = tokenizer.chatTemplate {
            try self.init(
                source: source, bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken,
                origin: tokenizer.chatTemplateSource ?? "chat template")
        } else if tokenizer.tokenId("<start_of_turn>") != nil {
            try self.init(
                source: ChatTemplate.gemmaFallback, bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken)
        } else if tokenizer.tokenId("<|im_start|>") != nil {
            try self.init(
                source: ChatTemplate.chatMLFallback, bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken)
        } else if Self.isHarmony(tokenizer) {
            try self.init(
                source: ChatTemplate.harmonyFallback, bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken)
        } else {
            throw TemplateError.missing(path: "tokenizer")
        }
    }

    /// Whether the vocabulary speaks OpenAI's harmony format (GPT-OSS): `<|start|>`, `<|channel|>`,
    /// `<|message|>` and `<|return|>` are tokens.
    public static func isHarmony(_ tokenizer: Tokenizer) -> Bool {
        ["<|start|>", "<|channel|>", "<|message|>", "<|return|>"].allSatisfy { tokenizer.tokenId($0) != nil }
    }

    /// The strings that end a chat reply for `tokenizer`'s format: harmony's `<|return|>`/`<|call|>`
    /// (its `<|end|>` only closes the analysis message before the final one), else `endOfTurnMarkers`.
    public static func stopMarkers(for tokenizer: Tokenizer) -> [String] {
        isHarmony(tokenizer) ? HarmonyReply.stopMarkers : endOfTurnMarkers
    }

    /// Loads the chat template of a model folder, tokenizer folder or GGUF file.
    public static func load(from url: URL) throws -> ChatTemplate {
        try ChatTemplate(tokenizer: try Tokenizer.load(from: url))
    }

    /// Gemma turn markup, for Gemma vocabularies that ship no template (base models); a system
    /// message is folded into the first user turn, as Gemma 3's own template does.
    public static let gemmaFallback = """
        {{ bos_token }}
        {%- if messages and messages[0]['role'] == 'system' -%}
            {%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}
            {%- set loop_messages = messages[1:] -%}
        {%- else -%}
            {%- set first_user_prefix = '' -%}
            {%- set loop_messages = messages -%}
        {%- endif -%}
        {%- for message in loop_messages -%}
            {%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}
            {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else '') }}
            {{- message['content'] | trim }}
            {{- '<end_of_turn>\\n' }}
        {%- endfor -%}
        {%- if add_generation_prompt -%}
            {{ '<start_of_turn>model\\n' }}
        {%- endif -%}
        """

    /// ChatML, for vocabularies with `<|im_start|>` that ship no template.
    public static let chatMLFallback = """
        {%- for message in messages -%}
            {{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}
        {%- endfor -%}
        {%- if add_generation_prompt -%}
            {{ '<|im_start|>assistant\\n' }}
        {%- endif -%}
        """

    /// OpenAI's harmony format for GPT-OSS vocabularies that ship no template: the plain
    /// conversations of gpt-oss's own template (no tools, no builtin tools), rendered the same —
    /// the system header (identity, knowledge cutoff, date, `reasoning_effort` or medium, valid
    /// channels), a first system/developer message as developer `# Instructions`, user turns,
    /// earlier assistant turns as final-channel messages (their reasoning dropped), and a last
    /// assistant turn without a generation prompt with its `thinking` and `<|return|>`.
    public static let harmonyFallback = """
        {{- '<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n' -}}
        {{- 'Knowledge cutoff: 2024-06\nCurrent date: ' + strftime_now('%Y-%m-%d') + '\n\n' -}}
        {{- 'Reasoning: ' + (reasoning_effort if reasoning_effort is defined else 'medium') + '\n\n' -}}
        {{- '# Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>' -}}
        {%- set loop_messages = messages -%}
        {%- if messages and messages[0]['role'] in ['system', 'developer'] -%}
            {%- if messages[0]['content'] -%}
                {{- '<|start|>developer<|message|># Instructions\n\n' + messages[0]['content'] + '\n\n<|end|>' -}}
            {%- endif -%}
            {%- set loop_messages = messages[1:] -%}
        {%- endif -%}
        {%- for message in loop_messages -%}
            {%- if message['role'] == 'assistant' and loop.last and not add_generation_prompt -%}
                {%- if 'thinking' in message -%}
                    {{- '<|start|>assistant<|channel|>analysis<|message|>' + message['thinking'] + '<|end|>' -}}
                {%- endif -%}
                {{- '<|start|>assistant<|channel|>final<|message|>' + message['content'] + '<|return|>' -}}
            {%- elif message['role'] == 'assistant' -%}
                {{- '<|start|>assistant<|channel|>final<|message|>' + message['content'] + '<|end|>' -}}
            {%- elif message['role'] == 'user' -%}
                {{- '<|start|>user<|message|>' + message['content'] + '<|end|>' -}}
            {%- endif -%}
        {%- endfor -%}
        {%- if add_generation_prompt -%}
            {{- '<|start|>assistant' -}}
        {%- endif -%}
        """
}
