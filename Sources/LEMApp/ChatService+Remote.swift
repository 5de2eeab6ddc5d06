import Foundation
import LEMCore
import LEMEngine
import LEMEval
import Panels

/// Remote models in the chat: OpenAI-compatible servers saved in `<config>/endpoints`, offered in
/// the model pickers beside the local models, answered as a stream. The kernel modes and the
/// system prompt shape the messages as for a local model; the server applies its own template.
extension ChatService {
    /// Reads the endpoints file again (on a background thread); returns the picker choices. A bad
    /// file is reported in the status line and offers no remote models.
    func loadEndpoints() -> [ChatChoice] {
        let file = lock.withLock { endpoints.file }
        do {
            let loaded = try RemoteEndpoints.load(file)
            lock.withLock { endpoints = loaded }
            return loaded.list.map(Self.choice)
        } catch {
            let message = "\(error)"
            inbox.post { wb in wb.showNotice(message) }
            return []
        }
    }

    static func choice(_ e: RemoteEndpoint) -> ChatChoice { ChatChoice(name: e.title, path: e.modelPath) }

    /// Makes the model at `modelPath` (a file, or `remote:<name>`) with `adapter` the chat's
    /// model, unless it already is.
    func select(modelPath: String, adapter: String?) {
        guard let name = RemoteEndpoint.name(inModelPath: modelPath) else {
            let key = ModelKey(model: modelPath, adapter: adapter)
            if key != activeKey || lock.withLock({ remote }) != nil { switchTo(key) }
            return
        }
        let (endpoint, file) = lock.withLock { (endpoints.endpoint(named: name), endpoints.file) }
        guard let endpoint else {
            let message =
                "no remote model `\(name)` in \(context.paths.short(file)); add it in settings (F2) as `URL [model]`"
            inbox.post { wb in wb.chat.model.setError(message) }
            return
        }
        if lock.withLock({ remote }) != endpoint { switchTo(endpoint) }
    }

    /// Makes `endpoint` the chat's model (nothing to load: the first turn finds out whether the
    /// server answers).
    func switchTo(_ endpoint: RemoteEndpoint) {
        cancelCurrent()
        lock.withLock { remote = endpoint }
        inbox.post { wb in
            wb.chat.model.setModel(
                path: endpoint.modelPath, adapterPath: nil, name: endpoint.title, adapterName: nil, status: nil)
            wb.showNotice("chatting with \(endpoint.name) at \(endpoint.url.absoluteString)")
        }
    }

    /// Saves a remote model typed in the settings form (`URL [model] [key-env VAR]`) and chats
    /// with it.
    func addRemote(_ typed: String) {
        work.async { [self] in
            do {
                let endpoint = try RemoteEndpoint.typed(typed)
                var saved = lock.withLock { endpoints }
                try saved.save(endpoint)
                lock.withLock { endpoints = saved }
                let remotes = saved.list.map(Self.choice)
                let where_ = context.paths.short(saved.file)
                inbox.post { wb in
                    let local = wb.chat.model.availableModels.filter {
                        RemoteEndpoint.name(inModelPath: $0.path) == nil
                    }
                    wb.chat.model.setChoices(models: local + remotes)
                    wb.showNotice("saved \(endpoint.name) in \(where_)")
                }
                switchTo(endpoint)
            } catch {
                let message = "\(error)"
                inbox.post { wb in wb.chat.model.setError(message) }
            }
        }
    }

    /// Answers the last user message of `chat` on `endpoint`, streaming into the panel.
    func generateRemote(_ chat: ChatViewModel, on endpoint: RemoteEndpoint) {
        let myTurn = nextTurn()
        work.async { [self] in
            let messages: [ChatMessage]
            do {
                messages = try Self.templateMessages(for: chat, kernel: chat.kernelMode == .none ? nil : loadKernel())
            } catch {
                let message = "\(error)"
                inbox.post { wb in wb.chat.model.failTurn(message) }
                return
            }
            let apiKey = endpoint.keyEnv.flatMap { context.variable($0) }
            let task = Task { [self] in
                let outcome = await Self.streamRemote(
                    endpoint, apiKey: apiKey, messages: messages, sampling: chat.sampler
                ) { [inbox] piece in inbox.post { wb in wb.chat.model.appendToken(piece) } }
                switch outcome {
                case .success(let stats): finish(stats, cancelled: false)
                case .failure(let error) where error is CancellationError: finish(nil, cancelled: true)
                case .failure(let error):
                    let message = "\(endpoint.name): \(error)"
                    inbox.post { wb in wb.chat.model.failTurn(message) }
                }
            }
            let live = lock.withLock {
                guard turn == myTurn else { return false }
                remoteTask = task
                return true
            }
            if !live { task.cancel() }
        }
    }

    /// One streamed answer from `endpoint` with its statistics: token counts as the server
    /// reports them (else the pieces received), speeds from when the pieces arrived.
    static func streamRemote(
        _ endpoint: RemoteEndpoint, apiKey: String?, messages: [ChatMessage], sampling: SamplingSettings,
        onText: @escaping @Sendable (String) -> Void
    ) async -> Result<TurnStats, any Error> {
        if let variable = endpoint.keyEnv, apiKey == nil {
            return .failure(AppError("the API key variable \(variable) is not set (see \(endpoint.name)'s line)"))
        }
        let client = OpenAIClient(baseURL: endpoint.url, apiKey: apiKey, timeout: 120)
        let arrivals = Arrivals()
        let start = DispatchTime.now()
        do {
            let model: String
            if let named = endpoint.model { model = named } else { model = try await firstModel(client) }
            let reply = try await client.streamChat(
                model: model, messages: messages, temperature: sampling.temperature, maxTokens: sampling.maxTokens,
                extra: RemoteResponseGenerator.extraFields(sampling)
            ) { piece in
                arrivals.mark()
                onText(piece)
            }
            try Task.checkCancellation()
            let end = DispatchTime.now()
            let (first, pieces) = arrivals.summary
            let firstAt = first ?? end
            let generated = reply.completionTokens ?? pieces
            let prompt = reply.promptTokens ?? 0
            let promptSeconds = seconds(start, firstAt)
            let genSeconds = seconds(firstAt, end)
            return .success(
                TurnStats(
                    promptTokens: prompt, generatedTokens: generated,
                    promptTokensPerSecond: promptSeconds > 0 ? Double(prompt) / promptSeconds : 0,
                    generationTokensPerSecond: genSeconds > 0 ? Double(max(0, generated - 1)) / genSeconds : 0))
        } catch {
            return .failure(error)
        }
    }

    private static func seconds(_ a: DispatchTime, _ b: DispatchTime) -> Double {
        Double(b.uptimeNanoseconds &- a.uptimeNanoseconds) / 1e9
    }

    /// The first model `/v1/models` lists (for an endpoint saved without a model name).
    static func firstModel(_ client: OpenAIClient) async throws -> String {
        let reply = try await client.get("models")
        try client.check(reply, path: "models")
        guard let id = reply.json?["data"]?.array?.first?["id"]?.string else {
            throw AppError("\(client.endpoint("models").absoluteString) lists no model; name one after the URL")
        }
        return id
    }
}

/// When the pieces of a streamed answer arrived: the first one's time and how many.
private final class Arrivals: @unchecked Sendable {
    private let lock = NSLock()
    private var first: DispatchTime?
    private var count = 0

    func mark() {
        lock.withLock {
            if first == nil { first = .now() }
            count += 1
        }
    }

    var summary: (DispatchTime?, Int) { lock.withLock { (first, count) } }
}
