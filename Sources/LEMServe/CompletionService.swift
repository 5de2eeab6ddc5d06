import Foundation
import LEMCore
import LEMEngine

/// The OpenAI endpoints apart from HTTP: a body in, a JSON reply or a sequence of server-sent
/// event payloads out. `OpenAIServer` wires it to Hummingbird.
public final class CompletionService: Sendable {
    public let models: ServedModels
    public let scheduler: EngineScheduler
    public let configuration: ServeConfiguration

    /// A service answering for `models` under `configuration`, its requests decoded in `lane`
    /// behind a queue of `configuration.maxQueue` waiting jobs.
    public init(models: ServedModels, configuration: ServeConfiguration, lane: any DecodeLane = SequentialLane()) {
        self.models = models
        self.configuration = configuration
        scheduler = EngineScheduler(capacity: configuration.maxQueue, lane: lane)
    }

    /// A checked request: the model, one engine request per choice, and the reply's identity.
    struct Prepared: Sendable {
        var body: OpenAIRequest
        var chat: Bool
        var modelName: String
        var model: LoadedModel
        var requests: [GenerationRequest]
        /// The text each prompt was given as (token-id prompts: decoded), for `echo`.
        var promptTexts: [String]
        var id: String
        var created: Int
    }

    /// `GET /v1/models`.
    public func modelList() -> JSONValue {
        let created = Int(Date().timeIntervalSince1970)
        return .object(
            JSONObject(members: [
                ("object", .string("list")),
                (
                    "data",
                    .array(
                        models.entries.map { entry in
                            .object(
                                JSONObject(members: [
                                    ("id", .string(entry.name)), ("object", .string("model")),
                                    ("created", .int(created)),
                                    ("owned_by", .string("lem")),
                                    ("context_length", .int(entry.model.config.maxPositionEmbeddings))
                                ]))
                        })
                )
            ]))
    }

    /// Parses and checks a body: model known, prompt tokenized and within the context.
    func prepare(body data: Data, chat: Bool) throws -> Prepared {
        let body = try OpenAIRequest(body: data, chat: chat, limits: configuration)
        guard let model = models.model(named: body.model) else {
            throw APIError.modelNotFound(body.model ?? "", served: models.names)
        }
        let name = body.model.flatMap { $0.isEmpty ? nil : $0 } ?? models.names[0]
        if body.stream && body.logprobs != nil {
            throw APIError.invalid("logprobs are not streamed; send stream: false", param: "logprobs")
        }
        var requests: [GenerationRequest] = []
        var promptTexts: [String] = []
        do {
            switch body.input {
            case .messages(let messages):
                guard model.template != nil else {
                    throw APIError.invalid("the model `\(name)` has no chat template; use /v1/completions")
                }
                var request = try model.chatRequest(messages: messages, sampling: body.sampling)
                request.stopStrings += body.stop
                requests.append(request)
            case .prompts(let prompts):
                for prompt in prompts {
                    let ids: [Int]
                    switch prompt {
                    case .text(let text):
                        ids = try model.encode(text, addSpecialTokens: true)
                        promptTexts.append(text)
                    case .ids(let given):
                        if let bad = given.first(where: { $0 >= model.config.vocabSize }) {
                            throw APIError.invalid(
                                "token id \(bad) is outside the vocabulary (\(model.config.vocabSize) ids)",
                                param: "prompt")
                        }
                        ids = given
                        promptTexts.append(model.tokenizer?.decode(given, skipSpecialTokens: false) ?? "")
                    }
                    var request = model.textRequest(promptIds: ids, sampling: body.sampling)
                    request.stopStrings = body.stop
                    requests.append(request)
                }
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.invalid("\(error)")
        }
        let context = model.config.maxPositionEmbeddings
        for i in requests.indices {
            let count = requests[i].promptIds.count
            guard count > 0 else { throw APIError.invalid("the prompt has no tokens", param: "prompt") }
            if !body.maxTokensGiven { requests[i].maxTokens = max(0, min(requests[i].maxTokens, context - count)) }
            guard count + requests[i].maxTokens <= context else {
                throw APIError(
                    status: 400,
                    message: "this model's context is \(context) tokens; the prompt has \(count) and max_tokens is "
                        + "\(requests[i].maxTokens)", type: "invalid_request_error", param: "max_tokens",
                    code: "context_length_exceeded")
            }
            if chat && requests[i].maxTokens == 0 {
                throw APIError(
                    status: 400, message: "the prompt fills the model's context (\(context) tokens)",
                    type: "invalid_request_error", param: "messages", code: "context_length_exceeded")
            }
        }
        let prefix = chat ? "chatcmpl-" : "cmpl-"
        return Prepared(
            body: body, chat: chat, modelName: name, model: model, requests: requests, promptTexts: promptTexts,
            id: prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24),
            created: Int(Date().timeIntervalSince1970))
    }

    /// One choice's outcome.
    struct Outcome: Sendable {
        var text = ""
        var ids: [Int] = []
        var logprobs: [SequenceScorer.Position]?
        var stats: GenerationStats?
    }

    /// Runs a job through the scheduler; its events arrive in order. Ending the iteration early
    /// (client gone) cancels the job, and so does the request timeout.
    func events(_ request: GenerationRequest, model: LoadedModel, logprobsTop: Int?) throws
        -> AsyncStream<JobEvent>
    {
        let (stream, continuation) = AsyncStream.makeStream(of: JobEvent.self)
        let job = EngineJob(model: model, request: request, logprobsTop: logprobsTop) { event in
            continuation.yield(event)
            switch event {
            case .finished, .failed: continuation.finish()
            default: break
            }
        }
        do {
            try scheduler.submit(job)
        } catch {
            throw APIError.busy(queue: scheduler.capacity)
        }
        let scheduler = scheduler
        continuation.onTermination = { reason in
            if case .cancelled = reason { scheduler.cancel(job) }
        }
        Self.deadlines.asyncAfter(deadline: .now() + configuration.requestTimeout) { scheduler.cancel(job) }
        return stream
    }

    /// Request deadlines fire here (a queue of its own, so they fire while the engine is busy).
    private static let deadlines = DispatchQueue(label: "lem.serve.deadlines")

    /// Runs one choice to its end; throws when the engine fails or the job was cancelled.
    func run(_ request: GenerationRequest, model: LoadedModel, logprobsTop: Int?) async throws -> Outcome {
        var outcome = Outcome()
        for await event in try events(request, model: model, logprobsTop: logprobsTop) {
            switch event {
            case .token(let id, let text):
                outcome.ids.append(id)
                outcome.text += text
            case .logprobs(let positions): outcome.logprobs = positions
            case .finished(let stats): outcome.stats = stats
            case .failed(let message): throw APIError(status: 500, message: "engine: \(message)", type: "server_error")
            }
        }
        try Task.checkCancellation()
        guard let stats = outcome.stats, stats.stopReason != .cancelled else { throw Self.timedOut(configuration) }
        return outcome
    }

    static func timedOut(_ configuration: ServeConfiguration) -> APIError {
        APIError(
            status: 504, message: "the request was cancelled after \(Int(configuration.requestTimeout)) s",
            type: "server_error", code: "timeout")
    }

    /// The whole reply of a non-streaming request.
    func complete(_ p: Prepared) async throws -> JSONValue {
        var choices: [JSONValue] = []
        var promptTokens = 0
        var completionTokens = 0
        for (index, request) in p.requests.enumerated() {
            let outcome = try await run(request, model: p.model, logprobsTop: p.body.logprobs)
            promptTokens += request.promptIds.count
            completionTokens += outcome.stats?.generatedTokens ?? 0
            let finish = JSONValue.string(Self.finishReason(outcome.stats?.stopReason))
            if p.chat {
                choices.append(
                    .object(
                        JSONObject(members: [
                            ("index", .int(index)),
                            (
                                "message",
                                .object(
                                    JSONObject(members: [
                                        ("role", .string("assistant")), ("content", .string(outcome.text))
                                    ]))
                            ),
                            ("logprobs", .null), ("finish_reason", finish)
                        ])))
            } else {
                let promptText = p.body.echo ? p.promptTexts[index] : ""
                let logprobs = outcome.logprobs.map {
                    Self.logprobsJSON(
                        $0, prompt: request.promptIds, generated: outcome.ids, echo: p.body.echo,
                        tokenizer: p.model.tokenizer, textOffset: p.body.echo ? 0 : p.promptTexts[index].count)
                }
                choices.append(
                    .object(
                        JSONObject(members: [
                            ("index", .int(index)), ("text", .string(promptText + outcome.text)),
                            ("logprobs", logprobs ?? .null), ("finish_reason", finish)
                        ])))
            }
        }
        return .object(
            JSONObject(members: [
                ("id", .string(p.id)), ("object", .string(p.chat ? "chat.completion" : "text_completion")),
                ("created", .int(p.created)), ("model", .string(p.modelName)), ("choices", .array(choices)),
                ("usage", Self.usage(prompt: promptTokens, completion: completionTokens))
            ]))
    }

    /// The payloads of a streaming reply (each one `data:` line), ending with `[DONE]`. Ending
    /// the iteration early cancels the generation.
    func stream(_ p: Prepared) -> AsyncStream<String> {
        AsyncStream { continuation in
            let task = Task {
                await self.produce(p) { continuation.yield($0) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func produce(_ p: Prepared, send: (String) -> Void) async {
        var promptTokens = 0
        var completionTokens = 0
        func chunk(_ index: Int, _ content: [(String, JSONValue)], finish: String?) -> String {
            let choice: JSONValue
            if p.chat {
                choice = .object(
                    JSONObject(members: [
                        ("index", .int(index)), ("delta", .object(JSONObject(members: content))),
                        ("logprobs", .null), ("finish_reason", finish.map(JSONValue.string) ?? .null)
                    ]))
            } else {
                choice = .object(
                    JSONObject(members: [
                        ("index", .int(index)), ("text", content.first?.1 ?? .string("")), ("logprobs", .null),
                        ("finish_reason", finish.map(JSONValue.string) ?? .null)
                    ]))
            }
            return envelope(p, choices: [choice]).jsonText(sortedKeys: false)
        }
        for (index, request) in p.requests.enumerated() {
            if p.chat {
                send(chunk(index, [("role", .string("assistant")), ("content", .string(""))], finish: nil))
            } else if p.body.echo {
                send(chunk(index, [("text", .string(p.promptTexts[index]))], finish: nil))
            }
            let events: AsyncStream<JobEvent>
            do {
                events = try self.events(request, model: p.model, logprobsTop: nil)
            } catch {
                send(
                    (error as? APIError ?? APIError(status: 500, message: "\(error)", type: "server_error")).json
                        .jsonText())
                break
            }
            var stats: GenerationStats?
            for await event in events {
                switch event {
                case .token(_, let text) where !text.isEmpty:
                    send(chunk(index, [(p.chat ? "content" : "text", .string(text))], finish: nil))
                case .finished(let s): stats = s
                case .failed(let message):
                    send(APIError(status: 500, message: "engine: \(message)", type: "server_error").json.jsonText())
                default: break
                }
            }
            if Task.isCancelled { return }
            guard let stats, stats.stopReason != .cancelled else {
                send(Self.timedOut(configuration).json.jsonText())
                break
            }
            promptTokens += stats.promptTokens
            completionTokens += stats.generatedTokens
            send(chunk(index, [], finish: Self.finishReason(stats.stopReason)))
        }
        if p.body.includeUsage {
            var usage = envelope(p, choices: []).object ?? [:]
            usage = JSONObject(
                members: usage.members + [("usage", Self.usage(prompt: promptTokens, completion: completionTokens))])
            send(JSONValue.object(usage).jsonText(sortedKeys: false))
        }
        send("[DONE]")
    }

    private func envelope(_ p: Prepared, choices: [JSONValue]) -> JSONValue {
        .object(
            JSONObject(members: [
                ("id", .string(p.id)), ("object", .string(p.chat ? "chat.completion.chunk" : "text_completion")),
                ("created", .int(p.created)), ("model", .string(p.modelName)), ("choices", .array(choices))
            ]))
    }

    static func usage(prompt: Int, completion: Int) -> JSONValue {
        .object(
            JSONObject(members: [
                ("prompt_tokens", .int(prompt)), ("completion_tokens", .int(completion)),
                ("total_tokens", .int(prompt + completion))
            ]))
    }

    static func finishReason(_ reason: StopReason?) -> String {
        switch reason {
        case .maxTokens?: "length"
        default: "stop"
        }
    }
}
