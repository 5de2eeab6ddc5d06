import Foundation
import LEMEngine
import LEMFormats
import Panels

/// The Attention panel's real source: runs attention capture on the current prompt (typed in the
/// panel, or the last chat prompt with its answer) and, when a second model is given, on the same
/// tokens with that model, then feeds the panel's view model.
///
/// Loading and analysis run on one background queue; the results live behind a lock and every
/// change reaches the panel through `inbox.post`. Only attention intents are handled here.
final class EngineAttentionSource: WorkbenchSource, @unchecked Sendable {
    var name: String { "attention" }
    var isDemo: Bool { false }

    private let modelURL: URL
    private let compareURL: URL?
    private let maxTokens: Int
    private let queue = DispatchQueue(label: "lem.workbench.attention", qos: .userInitiated)
    private let lock = NSLock()
    // Guarded by `lock`.
    private var state = State()

    /// What the source holds between intents.
    private struct State {
        var model: (any LanguageModel)?
        var other: (any LanguageModel)?
        var text: TextSupport?
        var tokens: [String] = []
        var a: (capture: AttentionCapture, analysis: AttentionAnalysis)?
        var b: AttentionCapture?
        var comparison: AttentionComparison?
        var layer = 0, head = 0
        var statistic = "entropy"
        var differenceStatistic = "map |ΔP|"
        var showsDifference = false
        var prompt = ""
        var runId = 0
    }

    /// Creates a source for the model at `modelURL`, compared with `compareURL` when given;
    /// sequences are capped at `maxTokens` tokens (maps need heads × T² floats per layer).
    init(modelURL: URL, compareURL: URL?, maxTokens: Int = 512) {
        self.modelURL = modelURL
        self.compareURL = compareURL
        self.maxTokens = maxTokens
    }

    func start(inbox: EventInbox) {
        let label = compareURL?.lastPathComponent
        inbox.post { wb in
            wb.attention.model = AttentionViewModel(statistic: "entropy", statistics: HeadStatistics.names)
            wb.attention.model.status = "loading model…"
            wb.attention.model.compareLabel = label
        }
        queue.async { [self] in
            do {
                let files = try ModelFiles.open(modelURL)
                let options = EngineDefaults.options
                let model = try ModelFactory.makeModel(files, options: options)
                let text = try? TextSupport(files: files)
                // A second model, or an adapter folder applied to the first model.
                let other = try compareURL.map { url in
                    Self.isAdapterFolder(url)
                        ? try ModelFactory.load(modelURL, adapterFolder: url, options: options)
                        : try ModelFactory.load(url, options: options)
                }
                if let other, other.config.numHiddenLayers != model.config.numHiddenLayers
                    || other.config.numAttentionHeads != model.config.numAttentionHeads || other.config.vocabSize != model.config.vocabSize {
                    throw ValidationErrorText("the second model's shape (layers, heads, vocabulary) differs from the first")
                }
                lock.lock()
                state.model = model
                state.other = other
                state.text = text
                lock.unlock()
                inbox.post { wb in wb.attention.model.status = nil }
            } catch {
                let message = "error: cannot load: \(error)"
                inbox.post { wb in wb.attention.model.status = message }
            }
        }
    }

    func stop() {
        lock.lock()
        state.runId += 1
        lock.unlock()
    }

    func perform(_ intent: WorkbenchIntent, inbox: EventInbox) {
        switch intent {
        case .analyzeAttention(let typed):
            inbox.post { [self] wb in
                let source = typed.isEmpty ? Self.lastChatTurn(wb.chat.model) : (user: typed, answer: nil)
                guard let source else {
                    wb.attention.model.status = "error: no chat prompt yet; press p to type one"
                    return
                }
                wb.attention.model.status = "analysing…"
                wb.attention.model.prompt = source.user + (source.answer.map { " ⇒ " + $0 } ?? "")
                analyse(user: source.user, answer: source.answer, chat: typed.isEmpty, inbox: inbox)
            }
        case .analyzeAttentionTurn(let user, let answer):
            inbox.post { [self] wb in
                wb.attention.model.status = "analysing…"
                wb.attention.model.prompt = user + (answer.map { " ⇒ " + $0 } ?? "")
                analyse(user: user, answer: answer, chat: true, inbox: inbox)
            }
        case .selectHead(let layer, let head):
            update(inbox: inbox) { $0.layer = layer; $0.head = head }
        case .selectStatistic(let name):
            update(inbox: inbox) { s in
                if s.showsDifference { s.differenceStatistic = name } else { s.statistic = name }
            }
        case .toggleAttentionDifference:
            update(inbox: inbox) { s in
                if s.comparison != nil { s.showsDifference.toggle() }
            }
        default:
            break
        }
    }

    /// Whether `url` is a LoRA/DoRA adapter folder rather than a model.
    static func isAdapterFolder(_ url: URL) -> Bool {
        ["adapters.safetensors", "adapter_model.safetensors"].contains {
            FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path)
        }
    }

    /// The newest user message of the chat and the answer after it, if any.
    static func lastChatTurn(_ chat: ChatViewModel) -> (user: String, answer: String?)? {
        guard let i = chat.messages.lastIndex(where: { $0.role == .user }) else { return nil }
        let next = chat.messages.index(after: i)
        let answer = next < chat.messages.count && chat.messages[next].role == .assistant && !chat.messages[next].isStreaming
            ? chat.messages[next].text : nil
        return (chat.messages[i].text, answer)
    }

    /// Token ids for a typed prompt (plain text) or a chat turn (chat template, answer included).
    static func ids(user: String, answer: String?, chat: Bool, text: TextSupport?) throws -> [Int] {
        guard let text else { throw ValidationErrorText("this model has no tokenizer") }
        guard chat, let template = text.template else { return try text.encode(user, addSpecialTokens: true) }
        var messages = [ChatMessage(role: "user", content: user)]
        if let answer { messages.append(ChatMessage(role: "assistant", content: answer)) }
        let rendered = try template.render(messages: messages, addGenerationPrompt: answer == nil)
        return try text.encode(rendered, addSpecialTokens: false)
    }

    /// Captures both models on the prompt in the background, then shows the result.
    private func analyse(user: String, answer: String?, chat: Bool, inbox: EventInbox) {
        lock.lock()
        state.runId += 1
        let run = state.runId
        lock.unlock()
        let maxTokens = self.maxTokens
        queue.async { [self] in
            lock.lock()
            let (model, other, text) = (state.model, state.other, state.text)
            lock.unlock()
            do {
                guard let model else { throw ValidationErrorText("the model is not loaded") }
                let ids = try Self.ids(user: user, answer: answer, chat: chat, text: text)
                let (capture, _) = try AttentionRunner.capture(model: model, ids: ids, maxTokens: maxTokens)
                var analysis = try AttentionAnalysis(capture: capture, ids: ids, keepMaps: other != nil)
                var b: AttentionCapture?
                var comparison: AttentionComparison?
                if let other {
                    let captured = try AttentionRunner.capture(model: other, ids: ids, maxTokens: maxTokens).capture
                    comparison = try AttentionComparison(analysis, try AttentionAnalysis(capture: captured, ids: ids, keepMaps: true))
                    b = captured
                    // Maps are read from the captures on demand; the dense copies are not kept.
                    for l in analysis.layers.indices { for h in analysis.layers[l].heads.indices { analysis.layers[l].heads[h].map = [] } }
                }
                let tokens = ids.map { id in text.map { $0.tokenizer.decode([id]) } ?? "<\(id)>" }
                apply(inbox: inbox, run: run) { s in
                    s.a = (capture, analysis)
                    s.b = b
                    s.comparison = comparison
                    s.tokens = tokens
                    s.prompt = user
                    if comparison == nil { s.showsDifference = false }
                    s.layer = min(s.layer, capture.layers - 1)
                    s.head = min(s.head, capture.heads - 1)
                }
            } catch {
                let message = "error: \(error)"
                inbox.post { wb in wb.attention.model.status = message }
            }
        }
    }

    /// Changes the state on the queue (so it never races an analysis) and posts the view model.
    private func update(inbox: EventInbox, _ change: @escaping @Sendable (inout State) -> Void) {
        queue.async { [self] in apply(inbox: inbox, run: nil, change) }
    }

    /// Changes the state and posts the new view model (called on the queue); `run` drops the
    /// change when a newer analysis has started since.
    private func apply(inbox: EventInbox, run: Int?, _ change: (inout State) -> Void) {
        lock.lock()
        if let run, run != state.runId {
            lock.unlock()
            return
        }
        change(&state)
        let view = Self.viewModel(state)
        lock.unlock()
        guard let view else { return }
        inbox.post { wb in
            let compare = wb.attention.model.compareLabel
            let prompt = wb.attention.model.prompt
            wb.attention.model = view
            wb.attention.model.compareLabel = compare
            wb.attention.model.prompt = prompt
        }
    }

    /// The panel's view model for the current state; nil before the first analysis.
    private static func viewModel(_ s: State) -> AttentionViewModel? {
        guard let (capture, analysis) = s.a else { return nil }
        let t = capture.count
        var view: AttentionViewModel
        if s.showsDifference, let comparison = s.comparison, let b = s.b {
            let names = ["map |ΔP|"] + HeadStatistics.names.map { "Δ " + $0 }
            let name = names.contains(s.differenceStatistic) ? s.differenceStatistic : names[0]
            let stats = comparison.heads.map { c -> Float in
                name == names[0] ? Float(c.mapMeanAbsDiff) : Float(c.deltas[String(name.dropFirst(2))] ?? .nan)
            }
            let mapA = capture.map(layer: s.layer, head: s.head), mapB = b.map(layer: s.layer, head: s.head)
            view = AttentionViewModel(
                layers: capture.layers, heads: capture.heads, statistic: name, statistics: names, stats: stats,
                tokens: s.tokens, layer: s.layer, head: s.head, weights: zip(mapA, mapB).map { abs($1 - $0) })
            view.showsDifference = true
            view.ranked = comparison.ranked.prefix(8).map {
                AttentionViewModel.RankedHead(layer: $0.layer, head: $0.head, value: Float($0.mapMeanAbsDiff))
            }
        } else {
            let stats = analysis.grid(s.statistic).map(Float.init)
            view = AttentionViewModel(
                layers: capture.layers, heads: capture.heads, statistic: s.statistic, statistics: HeadStatistics.names,
                stats: stats, tokens: s.tokens, layer: s.layer, head: s.head, weights: capture.map(layer: s.layer, head: s.head))
        }
        precondition(view.weights.count == t * t)
        return view
    }
}

extension WorkbenchIntent {
    /// Whether the intent belongs to the Attention panel.
    var isAttentionIntent: Bool {
        switch self {
        case .selectHead, .selectStatistic, .analyzeAttention, .analyzeAttentionTurn, .toggleAttentionDifference: return true
        default: return false
        }
    }
}
