import Foundation
import LEMEngine
import LEMFormats
import LEMScoring
import Panels

/// The Chat panel's real source: a model loaded through the engine, its tokenizer and chat
/// template, and the ethics kernel for the system / sandwich modes.
///
/// Loading and generation run on background queues; every change reaches the panel through
/// `inbox.post`. Only chat intents are handled here, so it can sit beside other sources.
final class EngineChatSource: WorkbenchSource, @unchecked Sendable {
    var name: String { "engine" }
    var isDemo: Bool { false }

    private let modelURL: URL
    private let kernelDirectory: URL?
    private let loadQueue = DispatchQueue(label: "lem.workbench.load", qos: .userInitiated)
    private let lock = NSLock()
    // Guarded by `lock`: set once loading finishes.
    private var loaded: (generator: Generator, text: TextSupport, stopIds: Set<Int>)?
    private var current: GenerationHandle?

    /// Creates a source for the model at `modelURL`; `kernelDirectory` holds kernel.md/axioms.json.
    init(modelURL: URL, kernelDirectory: URL?) {
        self.modelURL = modelURL
        self.kernelDirectory = kernelDirectory
    }

    func start(inbox: EventInbox) {
        let title = modelURL.lastPathComponent
        inbox.post { wb in wb.chat.model = ChatViewModel(model: "\(title) (loading…)", adapter: nil) }
        loadQueue.async { [self] in
            do {
                let files = try ModelFiles.open(modelURL)
                let model = try ModelFactory.makeModel(files)
                let text = try TextSupport(files: files)
                let generator = Generator(model: model, makeDecoder: text.decoderFactory)
                let stopIds = Set(text.eosIds).union(model.config.eosTokenIds)
                lock.lock()
                loaded = (generator, text, stopIds)
                lock.unlock()
                inbox.post { wb in wb.chat.model.model = title }
            } catch {
                let message = "cannot load \(modelURL.path): \(error)"
                inbox.post { wb in
                    wb.chat.model.model = "\(title) (failed)"
                    wb.chat.model.error = message
                }
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
            }
        default:
            break
        }
    }

    private func cancelCurrent() {
        lock.lock()
        current?.cancel()
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

    /// Starts generating the answer to the last user message of `chat` (called on the UI thread).
    private func generate(for chat: ChatViewModel, inbox: EventInbox) {
        lock.lock()
        let engine = loaded
        lock.unlock()
        guard let engine else {
            inbox.post { wb in wb.chat.model.failTurn("the model is still loading; try again in a moment") }
            return
        }
        let kernel = kernelDirectory.flatMap { try? EthicsKernel.load(directory: $0) }
        let request: GenerationRequest
        do {
            let messages = try Self.templateMessages(for: chat, kernel: kernel)
            guard let template = engine.text.template else {
                throw ValidationErrorText("this model has no chat template")
            }
            let prompt = try template.render(messages: messages)
            let ids = try engine.text.encode(prompt, addSpecialTokens: false)
            let s = chat.sampler
            request = GenerationRequest(
                promptIds: ids, maxTokens: s.maxTokens,
                sampling: SamplingParameters(
                    temperature: Float(s.temperature), topK: s.topK, topP: Float(s.topP),
                    seed: s.seed ?? UInt64(Date().timeIntervalSince1970 * 1000)),
                stopTokenIds: engine.stopIds, stopStrings: engine.text.chatStopStrings)
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
        engine.generator.start(request, handle: handle) { event in
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
                inbox.post { wb in wb.chat.model.finishTurn(stats: turn, cancelled: cancelled) }
            case .failed(let error):
                let message = "generation failed: \(error)"
                inbox.post { wb in wb.chat.model.failTurn(message) }
            }
        }
    }
}
