import Foundation
import LEMCore
import LEMEngine
import Panels

/// The Attention panel's service: runs attention capture on the current prompt (typed in the
/// panel, or the last chat prompt with its answer) and, when a second model is given, on the same
/// tokens with that model, then feeds the panel's view model.
///
/// Models come from the pool (the chat's model is loaded once for both panels); loading and
/// analysis run on one background queue; the results live behind a lock and every change
/// reaches the panel through `inbox.post`.
public final class AttentionService: @unchecked Sendable {
    let context: AppContext
    let inbox: any WorkbenchInbox
    private let model: ModelKey
    private let compare: ModelKey?
    private let maxTokens: Int
    private let queue = DispatchQueue(label: "lem.workbench.attention", qos: .userInitiated)
    private let lock = NSLock()
    // Guarded by `lock`.
    private var state = State()

    /// What the source holds between intents.
    private struct State {
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

    /// A service capturing `model`, compared with `compare` when given; sequences are capped at
    /// `maxTokens` tokens (maps need heads × T² floats per layer).
    public init(
        context: AppContext, inbox: any WorkbenchInbox, model: ModelKey, compare: ModelKey?, maxTokens: Int = 512
    ) {
        self.context = context
        self.inbox = inbox
        self.model = model
        self.compare = compare
        self.maxTokens = maxTokens
    }

    /// The second model of `--attention-compare PATH`: an adapter folder is applied to `base`,
    /// anything else is a model of its own.
    public static func compareKey(_ url: URL, base: ModelKey) -> ModelKey {
        ModelCatalog.isAdapterFolder(url) ? ModelKey(model: base.modelURL, adapter: url) : ModelKey(model: url)
    }

    /// Shows an empty panel and loads the models in the background.
    public func start() {
        let label = compare.map { $0.adapterURL?.lastPathComponent ?? $0.modelURL.lastPathComponent }
        inbox.post { wb in
            wb.attention.model = AttentionViewModel(statistic: "entropy", statistics: HeadStatistics.names)
            wb.attention.model.setStatus("loading model…")
            wb.attention.model.setCompareLabel(label)
        }
        queue.async { [self] in
            do {
                _ = try models()
                inbox.post { wb in wb.attention.model.setStatus(nil) }
            } catch {
                let message = "error: \(error)"
                inbox.post { wb in wb.attention.model.setStatus(message) }
            }
        }
    }

    /// The model and the one compared with it, from the pool: loaded on first use, and tried
    /// again after a failed load, so a capture reports the load's own error rather than a
    /// model that is "not loaded".
    private func models() throws -> (LoadedModel, LoadedModel?) {
        func load(_ key: ModelKey) throws -> LoadedModel {
            do { return try context.pool.model(for: key) } catch {
                throw AppError("cannot load \(key.title): \(error)")
            }
        }
        let loaded = try load(model)
        let other = try compare.map(load)
        if let other,
            other.config.numHiddenLayers != loaded.config.numHiddenLayers
                || other.config.numAttentionHeads != loaded.config.numAttentionHeads
                || other.config.vocabSize != loaded.config.vocabSize
        {
            throw AppError("the second model's shape (layers, heads, vocabulary) differs from the first")
        }
        return (loaded, other)
    }

    /// Drops any analysis in progress.
    public func stop() { lock.withLock { state.runId += 1 } }

    /// Handles one attention intent.
    public func handle(_ intent: AttentionIntent) {
        switch intent {
        case .analyze(let typed):
            inbox.post { [self] wb in
                let source = typed.isEmpty ? Self.lastChatTurn(wb.chat.model) : (user: typed, answer: nil)
                guard let source else {
                    wb.attention.model.setStatus("error: no chat prompt yet; press p to type one")
                    return
                }
                wb.attention.model.setStatus(AttentionViewModel.capturingStatus)
                wb.attention.model.setPrompt(source.user + (source.answer.map { " ⇒ " + $0 } ?? ""))
                analyse(user: source.user, answer: source.answer, chat: typed.isEmpty)
            }
        case .analyzeTurn(let user, let answer):
            inbox.post { [self] wb in
                wb.attention.model.setStatus(AttentionViewModel.capturingStatus)
                wb.attention.model.setPrompt(user + (answer.map { " ⇒ " + $0 } ?? ""))
                analyse(user: user, answer: answer, chat: true)
            }
        case .selectHead(let layer, let head):
            update { s in
                s.layer = layer
                s.head = head
            }
        case .selectStatistic(let name):
            update { s in
                if s.showsDifference { s.differenceStatistic = name } else { s.statistic = name }
            }
        case .toggleDifference:
            update { s in
                if s.comparison != nil { s.showsDifference.toggle() }
            }
        }
    }

    /// The newest user message of the chat and the answer after it, if any.
    static func lastChatTurn(_ chat: ChatViewModel) -> (user: String, answer: String?)? {
        guard let i = chat.messages.lastIndex(where: { $0.role == .user }) else { return nil }
        let next = chat.messages.index(after: i)
        let answer =
            next < chat.messages.count && chat.messages[next].role == .assistant && !chat.messages[next].isStreaming
            ? chat.messages[next].text : nil
        return (chat.messages[i].text, answer)
    }

    /// Token ids for a typed prompt (plain text) or a chat turn (chat template, answer included).
    static func ids(user: String, answer: String?, chat: Bool, model: LoadedModel) throws -> [Int] {
        guard chat, model.template != nil else { return try model.encode(user, addSpecialTokens: true) }
        var messages: [ChatMessage] = [.user(user)]
        if let answer { messages.append(.assistant(answer)) }
        return try model.promptIds(messages: messages, addGenerationPrompt: answer == nil)
    }

    /// Captures both models on the prompt in the background, then shows the result.
    private func analyse(user: String, answer: String?, chat: Bool) {
        let run = lock.withLock {
            state.runId += 1
            return state.runId
        }
        let maxTokens = self.maxTokens
        queue.async { [self] in
            do {
                let (loaded, otherLoaded) = try models()
                let model = loaded.model
                let other = otherLoaded?.model
                let ids = try Self.ids(user: user, answer: answer, chat: chat, model: loaded)
                let (capture, _) = try AttentionRunner.capture(model: model, ids: ids, maxTokens: maxTokens)
                var analysis = try AttentionAnalysis(capture: capture, ids: ids, keepMaps: other != nil)
                var b: AttentionCapture?
                var comparison: AttentionComparison?
                if let other {
                    let captured = try AttentionRunner.capture(model: other, ids: ids, maxTokens: maxTokens).capture
                    comparison = try AttentionComparison(
                        analysis, try AttentionAnalysis(capture: captured, ids: ids, keepMaps: true))
                    b = captured
                    // Maps are read from the captures on demand; the dense copies are not kept.
                    for l in analysis.layers.indices {
                        for h in analysis.layers[l].heads.indices { analysis.layers[l].heads[h].map = [] }
                    }
                }
                let tokens = ids.map { id in loaded.tokenizer.map { $0.decode([id]) } ?? "<\(id)>" }
                apply(run: run) { s in
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
                inbox.post { wb in wb.attention.model.setStatus(message) }
            }
        }
    }

    /// Changes the state on the queue (so it never races an analysis) and posts the view model.
    private func update(_ change: @escaping @Sendable (inout State) -> Void) {
        queue.async { [self] in apply(run: nil, change) }
    }

    /// Changes the state and posts the new view model (called on the queue); `run` drops the
    /// change when a newer analysis has started since.
    private func apply(run: Int?, _ change: (inout State) -> Void) {
        lock.lock()
        if let run, run != state.runId {
            lock.unlock()
            return
        }
        change(&state)
        let view = Self.viewModel(state)
        lock.unlock()
        guard let view else { return }
        inbox.post { wb in wb.attention.model.replaceAnalysis(with: view) }
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
            let mapA = capture.map(layer: s.layer, head: s.head)
            let mapB = b.map(layer: s.layer, head: s.head)
            view = AttentionViewModel(
                layers: capture.layers, heads: capture.heads, statistic: name, statistics: names, stats: stats,
                tokens: s.tokens, layer: s.layer, head: s.head, weights: zip(mapA, mapB).map { abs($1 - $0) })
            view.showDifference(
                ranked: comparison.ranked.prefix(8).map { ($0.layer, $0.head, Float($0.mapMeanAbsDiff)) })
        } else {
            let stats = analysis.grid(s.statistic).map(Float.init)
            view = AttentionViewModel(
                layers: capture.layers, heads: capture.heads, statistic: s.statistic, statistics: HeadStatistics.names,
                stats: stats, tokens: s.tokens, layer: s.layer, head: s.head,
                weights: capture.map(layer: s.layer, head: s.head))
        }
        precondition(view.weights.count == t * t)
        return view
    }
}
