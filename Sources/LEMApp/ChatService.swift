import Foundation
import LEMCore
import LEMEngine
import LEMScoring
import Panels

/// The Chat panel's service: the chat's model (and adapter) from the model pool, its chat
/// template, the ethics kernel for the system and sandwich modes, the split view, and the stored
/// sessions (`ChatSessions`).
///
/// `handle` is called on the UI thread and returns at once. Loading, kernel reading, templating
/// and tokenizing run on the service's serial work queue, generation on the model's own queue;
/// every change reaches the panel through `inbox.post`. A prompt sent while its model loads
/// waits for the load on the work queue, and fails with the load's error if it fails.
public final class ChatService: @unchecked Sendable {
    let context: AppContext
    let inbox: any WorkbenchInbox
    let catalog: ModelCatalog
    let sessions: ChatSessions?
    /// Loading, kernel reading, templating and tokenizing, in order.
    let work = DispatchQueue(label: "lem.chat.work", qos: .userInitiated)
    /// The split view's two generations, one after the other.
    let compareQueue = DispatchQueue(label: "lem.chat.compare", qos: .userInitiated)
    let lock = NSLock()
    // Guarded by `lock`.
    var active: ModelKey
    /// The remote model the chat uses instead of `active`, if one is chosen.
    var remote: RemoteEndpoint?
    /// The saved remote models (`<config>/endpoints`).
    var endpoints: RemoteEndpoints
    var current: GenerationHandle?
    /// A remote answer in progress (cancelled like `current`).
    var remoteTask: Task<Void, Never>?
    var comparing = false
    var turn = 0  // bumped by every new turn and cancel, so a stale request never starts
    // Touched only on `work`.
    private var kernel: EthicsKernel?

    /// A service chatting on `model` first.
    public init(
        context: AppContext, inbox: any WorkbenchInbox, model: ModelKey, catalog: ModelCatalog,
        sessions: ChatSessions?
    ) {
        self.context = context
        self.inbox = inbox
        self.catalog = catalog
        self.sessions = sessions
        active = model
        endpoints = RemoteEndpoints(file: context.paths.configDirectory.appendingPathComponent("endpoints"), list: [])
        sessions?.onRestore = { [weak self] model, adapter in self?.select(modelPath: model, adapter: adapter) }
    }

    /// Shows the model and starts loading it; lists the installed models and adapters for the
    /// pickers in the background.
    public func start() {
        let key = activeKey
        switchTo(key)
        // Listing opens every model's header: off the UI thread, beside the load.
        DispatchQueue.global(qos: .utility).async { [self, catalog, inbox] in
            let models = catalog.models(including: key.modelURL)
            let adapters = catalog.adapters()
            let remotes = loadEndpoints()
            inbox.post { wb in
                wb.chat.model.setChoices(models: models + remotes, adapters: adapters)
                wb.train.model.setAvailableModels(models)
            }
        }
    }

    /// Stops the running generation.
    public func stop() { cancelCurrent() }

    /// Handles one chat intent.
    public func handle(_ intent: ChatIntent) {
        switch intent {
        case .send(let text):
            inbox.post { [self] wb in
                // One generation at a time: a second prompt is refused, not queued behind it.
                guard !wb.chat.model.isAnswering else {
                    wb.showNotice(ChatViewModel.busyNotice)
                    return
                }
                wb.chat.model.beginTurn(prompt: text)
                generate(wb.chat.model)
            }
        case .cancel:
            cancelCurrent()
        case .regenerate:
            inbox.post { [self] wb in
                // One generation at a time, as for a new prompt (the split view's answers count).
                guard !wb.chat.model.isAnswering else {
                    wb.showNotice(ChatViewModel.busyNotice)
                    return
                }
                guard let prompt = wb.chat.model.dropLastAnswer() else { return }
                wb.chat.model.beginTurn(prompt: prompt)
                generate(wb.chat.model)
            }
        case .editAndResend(let index, let text):
            cancelCurrent()
            inbox.post { [self] wb in
                guard index <= wb.chat.model.messages.count else { return }
                wb.chat.model.truncate(from: index)
                wb.chat.model.beginTurn(prompt: text)
                generate(wb.chat.model)
            }
        case .setKernelMode(let mode):
            inbox.post { wb in wb.chat.model.setKernelMode(mode) }
        case .compareLastPrompt:
            inbox.post { [self] wb in
                guard !wb.chat.model.isGenerating else {
                    wb.showNotice(ChatViewModel.busyNotice)
                    return
                }
                startComparison(chat: wb.chat.model)
            }
        case .clear:
            cancelCurrent()
            sessions?.startNew()
            inbox.post { wb in
                wb.chat.model.clear()
                wb.chat.model.setSession(id: nil, title: nil)
            }
        case .applySettings(let s):
            inbox.post { wb in wb.chat.model.apply(s) }
            if let typed = s.addRemote?.trimmingCharacters(in: .whitespaces), !typed.isEmpty {
                addRemote(typed)
            } else if let model = s.modelPath {
                select(modelPath: model, adapter: s.adapterPath)
            }
        case .useAdapter(let path, let model):
            let key = ModelKey(model: model ?? activeKey.model, adapter: path)
            let choice = ChatChoice(name: ModelCatalog.adapterName(URL(fileURLWithPath: path)), path: path)
            inbox.post { wb in wb.chat.model.addAdapterChoice(choice) }
            switchTo(key)
        case .listSessions, .newSession, .openSession, .renameSession, .deleteSession, .exportSession:
            guard let sessions else {
                inbox.post { wb in wb.showNotice("chat sessions are not saved in this mode") }
                return
            }
            sessions.handle(intent)
        }
    }

    /// The local model the chat uses (or returns to, while a remote model is chosen).
    public var activeKey: ModelKey { lock.withLock { active } }

    /// The next turn's number; a generation started for an older one is stale.
    func nextTurn() -> Int {
        lock.withLock {
            current?.cancel()
            remoteTask?.cancel()
            turn += 1
            return turn
        }
    }

    /// Makes `key` the chat's model, loading it in the background with a status line.
    func switchTo(_ key: ModelKey) {
        cancelCurrent()
        lock.withLock {
            active = key
            remote = nil
        }
        let ready = context.pool.cached(key) != nil
        let title = key.title
        inbox.post { wb in
            wb.chat.model.setModel(
                path: key.model, adapterPath: key.adapter, name: key.modelURL.lastPathComponent,
                adapterName: key.adapterURL.map { ModelCatalog.adapterName($0) },
                status: ready ? nil : "loading \(title)…")
        }
        guard !ready else { return }
        work.async { [self] in
            do {
                let loaded = try context.pool.model(for: key)
                let seconds = loaded.loadSeconds
                inbox.post { wb in
                    guard wb.chat.model.modelPath == key.model, wb.chat.model.adapterPath == key.adapter else { return }
                    wb.chat.model.setStatus(nil)
                    wb.showNotice(String(format: "loaded %@ in %.1f s", title, seconds))
                }
            } catch {
                let message = "cannot load \(title): \(error)"
                inbox.post { wb in
                    wb.chat.model.setStatus(nil)
                    wb.chat.model.setError(message)
                }
            }
        }
    }

    func cancelCurrent() {
        lock.withLock {
            current?.cancel()
            current = nil
            remoteTask?.cancel()
            remoteTask = nil
            comparing = false
            turn += 1
        }
    }

    /// The conversation as template messages: the kernel mode shapes the system prompt and the
    /// newest user turn (`EthicsKernel.messages`), earlier turns pass through unchanged.
    static func templateMessages(for chat: ChatViewModel, kernel: EthicsKernel?) throws -> [ChatMessage] {
        var history = chat.messages.filter { !($0.role == .assistant && $0.isStreaming) }
        guard let last = history.popLast(), last.role == .user else { return [] }
        var newest: [ChatMessage] = [.user(last.text)]
        if chat.kernelMode != .none {
            guard let kernel else {
                throw AppError("kernel mode \(chat.kernelMode.rawValue) needs kernel/kernel.md and kernel/axioms.json")
            }
            newest = kernel.messages(for: last.text, mode: chat.kernelMode)
        }
        var out: [ChatMessage] = []
        let system = chat.systemPrompt.trimmingCharacters(in: .whitespacesAndNewlines)
        if !system.isEmpty, !newest.contains(where: { $0.role == .system }) { out.append(.system(system)) }
        // A kernel system message goes first, before any history.
        out += newest.filter { $0.role == .system }
        out += history.map { ChatMessage(role: $0.role == .user ? .user : .assistant, content: $0.text) }
        out += newest.filter { $0.role != .system }
        return out
    }

    /// The kernel, read once (on the work queue) when a mode needs it.
    func loadKernel() -> EthicsKernel? {
        if let kernel { return kernel }
        kernel = context.paths.kernelDirectory.flatMap { try? EthicsKernel.load(directory: $0) }
        return kernel
    }

    /// The generation request for `chat` (ending in a user message) on `model` (on the work queue).
    func request(for chat: ChatViewModel, model: LoadedModel) throws -> GenerationRequest {
        let messages = try Self.templateMessages(for: chat, kernel: chat.kernelMode == .none ? nil : loadKernel())
        guard model.template != nil else { throw LoadedModelError.noTemplate(model.key.model) }
        return try model.chatRequest(messages: messages, sampling: chat.sampler)
    }

    /// Ends the answer in progress with `stats` and saves the session.
    func finish(_ stats: TurnStats?, cancelled: Bool) {
        inbox.post { [sessions] wb in
            wb.chat.model.finishTurn(stats: stats, cancelled: cancelled)
            sessions?.persist(wb.chat.model)
        }
    }

    /// Answers the last user message of `chat` (a snapshot taken on the UI thread).
    private func generate(_ chat: ChatViewModel) {
        if let endpoint = lock.withLock({ remote }) { return generateRemote(chat, on: endpoint) }
        let key = activeKey
        let myTurn = nextTurn()
        work.async { [self] in
            let request: GenerationRequest
            let model: LoadedModel
            do {
                // A model whose load failed is tried again; if it fails again, that error is shown.
                do { model = try context.pool.model(for: key) } catch {
                    throw AppError("cannot load \(key.title): \(error)")
                }
                request = try self.request(for: chat, model: model)
            } catch {
                let message = "\(error)"
                inbox.post { wb in wb.chat.model.failTurn(message) }
                return
            }
            let handle = GenerationHandle()
            let live = lock.withLock {
                guard turn == myTurn else { return false }
                current = handle
                return true
            }
            guard live else {
                inbox.post { wb in wb.chat.model.finishTurn(stats: nil, cancelled: true) }
                return
            }
            model.generator.start(request, handle: handle) { [self] event in
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
                    self.finish(turn, cancelled: stats.stopReason == .cancelled)
                case .failed(let error):
                    let message = "generation failed: \(error)"
                    inbox.post { wb in wb.chat.model.failTurn(message) }
                }
            }
        }
    }
}
