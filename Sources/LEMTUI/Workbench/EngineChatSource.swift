import Foundation
import LEMEngine
import LEMFormats
import LEMScoring
import Panels

/// The Chat panel's real source: a model (and adapter) loaded through the engine, its
/// tokenizer and chat template, and the ethics kernel for the system / sandwich modes.
///
/// Loading and generation run on background queues; every change reaches the panel through
/// `inbox.post`. Loaded models are kept (at most `maxEngines`) so the split view and switching
/// back are instant. Only chat intents are handled here, so it can sit beside other sources.
final class EngineChatSource: WorkbenchSource, @unchecked Sendable {
    var name: String { "engine" }
    var isDemo: Bool { false }

    /// A model + adapter pair, the key of a loaded engine.
    struct EngineKey: Hashable {
        var model: String
        var adapter: String?
        var title: String {
            let m = URL(fileURLWithPath: model).lastPathComponent
            return adapter.map { m + " + " + URL(fileURLWithPath: $0).lastPathComponent } ?? m
        }
    }

    /// A loaded model ready to chat.
    struct LoadedEngine {
        let generator: Generator
        let text: TextSupport
        let stopIds: Set<Int>
    }

    let catalog: ModelCatalog
    let sessions: ChatSessionKeeper?
    private let kernelDirectory: URL?
    private let loadQueue = DispatchQueue(label: "lem.workbench.load", qos: .userInitiated)
    let compareQueue = DispatchQueue(label: "lem.workbench.compare", qos: .userInitiated)
    let lock = NSLock()
    static let maxEngines = 3
    // Guarded by `lock`.
    private var engines: [EngineKey: LoadedEngine] = [:]
    private var engineOrder: [EngineKey] = []
    private var active: EngineKey
    var current: GenerationHandle?
    var comparing = false

    /// Creates a source for the model at `modelURL`; `kernelDirectory` holds kernel.md/axioms.json.
    init(modelURL: URL, adapterURL: URL? = nil, kernelDirectory: URL?, catalog: ModelCatalog, sessions: ChatSessionKeeper?) {
        active = EngineKey(model: modelURL.path, adapter: adapterURL?.path)
        self.kernelDirectory = kernelDirectory
        self.catalog = catalog
        self.sessions = sessions
        // A reopened session loads its own model and adapter again.
        sessions?.setRestorer { [weak self] model, adapter, inbox in
            guard let self else { return }
            let key = EngineKey(model: model, adapter: adapter)
            if key != activeKey { switchTo(key, inbox: inbox) }
        }
    }

    func start(inbox: EventInbox) {
        let key = active
        inbox.post { wb in
            wb.chat.model = ChatViewModel(model: key.title, adapter: nil)
            wb.chat.model.modelPath = key.model
        }
        switchTo(key, inbox: inbox)
        // The pickers' lists are read off the UI thread and beside the model load (listing opens
        // every model's header).
        DispatchQueue.global(qos: .utility).async { [catalog] in
            let models = catalog.models(including: URL(fileURLWithPath: key.model))
            let adapters = catalog.adapters()
            inbox.post { wb in
                wb.chat.model.availableModels = models
                wb.chat.model.availableAdapters = adapters
                wb.train.model.availableModels = models
            }
        }
    }

    func stop() { cancelCurrent() }

    func perform(_ intent: WorkbenchIntent, inbox: EventInbox) {
        switch intent {
        case .sendPrompt(let text):
            inbox.post { [self] wb in
                wb.chat.model.beginTurn(prompt: text)
                generate(for: wb.chat.model, inbox: inbox)
            }
        case .cancelGeneration:
            cancelCurrent()
        case .regenerate:
            inbox.post { [self] wb in
                guard let prompt = wb.chat.model.dropLastAnswer() else { return }
                wb.chat.model.beginTurn(prompt: prompt)
                generate(for: wb.chat.model, inbox: inbox)
            }
        case .editAndResend(let index, let text):
            inbox.post { [self] wb in
                guard index <= wb.chat.model.messages.count else { return }
                cancelCurrent()
                wb.chat.model.messages.removeSubrange(index...)
                wb.chat.model.beginTurn(prompt: text)
                generate(for: wb.chat.model, inbox: inbox)
            }
        case .setKernelMode(let mode):
            inbox.post { wb in wb.chat.model.kernelMode = mode }
        case .clearConversation:
            cancelCurrent()
            inbox.post { wb in
                wb.chat.model.messages.removeAll()
                wb.chat.model.error = nil
                wb.chat.model.comparison = nil
            }
        case .applyChatSettings(let s):
            inbox.post { wb in
                wb.chat.model.sampler = s.sampler
                wb.chat.model.systemPrompt = s.systemPrompt
                wb.chat.model.kernelMode = s.kernelMode
                wb.chat.model.compareModelPath = s.compareModelPath
                wb.chat.model.compareAdapterPath = s.compareAdapterPath
            }
            if let model = s.modelPath {
                let key = EngineKey(model: model, adapter: s.adapterPath)
                if key != activeKey { switchTo(key, inbox: inbox) }
            }
        case .chatWithAdapter(let path, let model):
            let key = EngineKey(model: model ?? activeKey.model, adapter: path)
            inbox.post { wb in
                if !wb.chat.model.availableAdapters.contains(where: { $0.path == path }) {
                    wb.chat.model.availableAdapters.append(ChatChoice(name: ModelCatalog.adapterName(URL(fileURLWithPath: path)), path: path))
                }
            }
            switchTo(key, inbox: inbox)
        case .compareLastPrompt:
            inbox.post { [self] wb in startComparison(chat: wb.chat.model, inbox: inbox) }
        default:
            break
        }
    }

    var activeKey: EngineKey {
        lock.lock()
        defer { lock.unlock() }
        return active
    }

    /// Makes `key` the chat's model, loading it in the background with a status line.
    func switchTo(_ key: EngineKey, inbox: EventInbox) {
        cancelCurrent()
        lock.lock()
        active = key
        let ready = engines[key] != nil
        lock.unlock()
        let title = key.title
        inbox.post { wb in
            wb.chat.model.modelPath = key.model
            wb.chat.model.adapterPath = key.adapter
            wb.chat.model.model = URL(fileURLWithPath: key.model).lastPathComponent
            wb.chat.model.adapter = key.adapter.map { ModelCatalog.adapterName(URL(fileURLWithPath: $0)) }
            wb.chat.model.status = ready ? nil : "loading \(title)…"
        }
        guard !ready else { return }
        loadQueue.async { [self] in
            let start = Date()
            do {
                _ = try engine(for: key)
                let seconds = Date().timeIntervalSince(start)
                inbox.post { wb in
                    guard wb.chat.model.modelPath == key.model, wb.chat.model.adapterPath == key.adapter else { return }
                    wb.chat.model.status = nil
                    wb.notice = String(format: "loaded %@ in %.1f s", title, seconds)
                }
            } catch {
                let message = "cannot load \(title): \(error)"
                inbox.post { wb in
                    wb.chat.model.status = nil
                    wb.chat.model.error = message
                }
            }
        }
    }

    /// The loaded engine for `key`, loading it on the calling (background) thread when needed.
    func engine(for key: EngineKey) throws -> LoadedEngine {
        lock.lock()
        if let e = engines[key] { lock.unlock(); return e }
        lock.unlock()
        let files = try ModelFiles.open(URL(fileURLWithPath: key.model))
        let model = try Self.makeModel(files, adapter: key.adapter.map { URL(fileURLWithPath: $0) })
        let text = try TextSupport(files: files)
        let loaded = LoadedEngine(generator: Generator(model: model, makeDecoder: text.decoderFactory), text: text,
                                  stopIds: Set(text.eosIds).union(model.config.eosTokenIds))
        lock.lock()
        engines[key] = loaded
        engineOrder.removeAll { $0 == key }
        engineOrder.append(key)
        while engineOrder.count > Self.maxEngines, let old = engineOrder.first, old != active {
            engineOrder.removeFirst()
            engines[old] = nil
        }
        lock.unlock()
        return loaded
    }

    /// Builds the model, with the adapter (a folder or a checkpoint file) applied unfused.
    static func makeModel(_ files: ModelFiles, adapter: URL?) throws -> any LanguageModel {
        let options = EngineDefaults.options
        guard let adapter else { return try ModelFactory.makeModel(files, options: options) }
        return try ModelFactory.makeModel(
            files, adapter: try InferenceAdapter(folder: try AdapterFolder.resolve(adapter)), options: options)
    }

    func cancelCurrent() {
        lock.lock()
        current?.cancel()
        comparing = false
        lock.unlock()
    }

    /// The conversation as template messages: the kernel mode shapes the system prompt and the
    /// newest user turn (`EthicsKernel.messages`), earlier turns pass through unchanged.
    static func templateMessages(
        for chat: ChatViewModel, kernel: EthicsKernel?
    ) throws -> [LEMEngine.ChatMessage] {
        var history = chat.messages.filter { !($0.role == .assistant && $0.isStreaming) }
        guard let last = history.popLast(), last.role == .user else { return [] }
        var out: [LEMEngine.ChatMessage] = []
        let system = chat.systemPrompt.trimmingCharacters(in: .whitespacesAndNewlines)
        var newest = [PromptMessage(role: "user", content: last.text)]
        if chat.kernelMode != .none {
            guard let kernel else { throw ValidationErrorText("kernel mode \(chat.kernelMode.rawValue) needs kernel/kernel.md and kernel/axioms.json") }
            newest = kernel.messages(for: last.text, mode: chat.kernelMode == .system ? .system : .sandwich)
        }
        if !system.isEmpty, !newest.contains(where: { $0.role == "system" }) {
            out.append(LEMEngine.ChatMessage(role: "system", content: system))
        }
        // A kernel system message goes first, before any history.
        for m in newest where m.role == "system" { out.append(LEMEngine.ChatMessage(role: "system", content: m.content)) }
        for m in history {
            out.append(LEMEngine.ChatMessage(role: m.role == .user ? "user" : "assistant", content: m.text))
        }
        for m in newest where m.role != "system" { out.append(LEMEngine.ChatMessage(role: m.role, content: m.content)) }
        return out
    }

    /// The generation request for the conversation `chat` (ending in a user message) on `engine`.
    func request(for chat: ChatViewModel, engine: LoadedEngine, seed: UInt64) throws -> GenerationRequest {
        let kernel = kernelDirectory.flatMap { try? EthicsKernel.load(directory: $0) }
        let messages = try Self.templateMessages(for: chat, kernel: kernel)
        guard let template = engine.text.template else { throw ValidationErrorText("this model has no chat template") }
        let ids = try engine.text.encode(try template.render(messages: messages), addSpecialTokens: false)
        let s = chat.sampler
        return GenerationRequest(
            promptIds: ids, maxTokens: s.maxTokens,
            sampling: SamplingParameters(temperature: Float(s.temperature), topK: s.topK, topP: Float(s.topP), seed: seed),
            stopTokenIds: engine.stopIds, stopStrings: engine.text.chatStopStrings)
    }

    /// Starts generating the answer to the last user message of `chat` (called on the UI thread).
    private func generate(for chat: ChatViewModel, inbox: EventInbox) {
        let key = activeKey
        lock.lock()
        let engine = engines[key]
        lock.unlock()
        guard let engine else {
            inbox.post { wb in wb.chat.model.failTurn("the model is still loading; try again in a moment") }
            return
        }
        let request: GenerationRequest
        do {
            request = try self.request(for: chat, engine: engine, seed: chat.sampler.seed ?? UInt64(Date().timeIntervalSince1970 * 1000))
        } catch {
            let message = "\(error)"
            inbox.post { wb in wb.chat.model.failTurn(message) }
            return
        }
        cancelCurrent()
        let handle = GenerationHandle()
        lock.lock()
        current = handle
        lock.unlock()
        engine.generator.start(request, handle: handle) { [sessions] event in
            switch event {
            case .promptProcessed:
                break
            case .token(_, let piece):
                if !piece.isEmpty { inbox.post { wb in wb.chat.model.appendToken(piece) } }
            case .finished(let stats):
                let turn = TurnStats(
                    promptTokens: stats.promptTokens, generatedTokens: stats.generatedTokens,
                    promptTokensPerSecond: stats.promptTokensPerSecond,
                    generationTokensPerSecond: stats.generationTokensPerSecond)
                let cancelled = stats.stopReason == .cancelled
                inbox.post { wb in
                    wb.chat.model.finishTurn(stats: turn, cancelled: cancelled)
                    sessions?.persist(wb.chat.model, inbox: inbox)
                }
            case .failed(let error):
                let message = "generation failed: \(error)"
                inbox.post { wb in wb.chat.model.failTurn(message) }
            }
        }
    }
}
