import Foundation
import Panels

/// Made-up data for every panel whose real source does not exist yet: canned streamed chat
/// replies (cancellable), a synthetic training run, a small benchmark table and synthetic
/// attention maps. It exists so the TUI can be run and tested end to end before the engine,
/// trainer and store are wired; the footer says "demo data" while it is in use.
final class DemoSource: WorkbenchSource, @unchecked Sendable {
    var name: String { "demo data" }
    var isDemo: Bool { true }
    let includeTraining: Bool
    /// Whether the chat panel is the demo's too (false when a model is loaded by the engine).
    let includeChat: Bool
    private let queue = DispatchQueue(label: "lem.workbench.demo")
    private let lock = NSLock()
    private var generation = 0  // bumped to cancel the streaming reply
    private var trainTimer: DispatchSourceTimer?

    init(includeTraining: Bool, includeChat: Bool) {
        self.includeTraining = includeTraining
        self.includeChat = includeChat
    }

    func start(inbox: EventInbox) {
        let bench = Self.benchModel()
        let attention = Self.attentionModel(layer: 0, head: 0, statistic: "entropy")
        let includeChat = self.includeChat
        inbox.post { wb in
            if includeChat {
                wb.chat.model = ChatViewModel(model: "demo (no model loaded)", adapter: nil)
                wb.chat.model.systemPrompt = "You are a helpful assistant."
            }
            wb.bench.model = bench
            wb.attention.model = attention
        }
        if includeTraining { startTraining(inbox: inbox) }
    }

    func stop() {
        lock.lock()
        generation += 1
        lock.unlock()
        trainTimer?.cancel()
    }

    func perform(_ intent: WorkbenchIntent, inbox: EventInbox) {
        if !includeChat, intent.isChatIntent { return }
        switch intent {
        case .sendPrompt(let text):
            inbox.post { wb in wb.chat.model.beginTurn(prompt: text) }
            stream(reply: Self.reply(to: text), inbox: inbox)
        case .cancelGeneration:
            lock.lock()
            generation += 1
            lock.unlock()
            inbox.post { wb in wb.chat.model.finishTurn(stats: nil, cancelled: true) }
        case .regenerate:
            inbox.post { [weak self] wb in
                guard let prompt = wb.chat.model.dropLastAnswer() else { return }
                wb.chat.model.beginTurn(prompt: prompt)
                self?.stream(reply: Self.reply(to: prompt + " again"), inbox: inbox)
            }
        case .editAndResend(let index, let text):
            inbox.post { [weak self] wb in
                guard index <= wb.chat.model.messages.count else { return }
                wb.chat.model.messages.removeSubrange(index...)
                wb.chat.model.beginTurn(prompt: text)
                self?.stream(reply: Self.reply(to: text), inbox: inbox)
            }
        case .setKernelMode(let mode):
            inbox.post { wb in wb.chat.model.kernelMode = mode }
        case .compareLastPrompt:
            inbox.post { wb in
                let a = ["The", " answer", " is", " that", " small", " models", " can", " learn", " quickly", "."]
                let b = ["The", " answer", " is", " that", " tiny", " models", " learn", " slowly", "."]
                wb.chat.model.comparison = ChatComparison(leftTitle: "base", rightTitle: "base + adapter", left: a, right: b)
            }
        case .clearConversation:
            inbox.post { wb in wb.chat.model.messages.removeAll(); wb.chat.model.error = nil }
        case .selectHead(let layer, let head):
            let stat = Self.statisticNames[0]
            inbox.post { wb in
                let s = wb.attention.model.statistic
                wb.attention.model = Self.attentionModel(layer: layer, head: head, statistic: s.isEmpty ? stat : s)
            }
        case .selectStatistic(let name):
            inbox.post { wb in
                wb.attention.model = Self.attentionModel(layer: wb.attention.model.layer, head: wb.attention.model.head, statistic: name)
            }
        case .stopTraining:
            trainTimer?.cancel()
            inbox.post { wb in wb.train.model.apply([TrainLogRecord(type: "end")]) }
        case .setBaseline, .openPrompt, .bench, .setTheme:
            break
        }
    }

    // MARK: Chat

    static func reply(to prompt: String) -> String {
        """
        ## Demo reply
        This is **demo data**: the engine is not wired yet, so this text is canned. You asked:

        > \(prompt.prefix(80))

        - Streaming arrives token by token, and **Esc** stops it.
        - Code blocks render too:

        ```swift
        let loss = trainer.step(batch)
        ```
        1. Regenerate with Ctrl-R.
        2. Edit and resend with Alt-E. 漢字 and emoji 👍 are two columns wide.
        """
    }

    func stream(reply: String, inbox: EventInbox) {
        lock.lock()
        generation += 1
        let mine = generation
        lock.unlock()
        // Split into word-sized tokens that keep their spaces and newlines.
        var tokens: [String] = []
        var current = ""
        for ch in reply {
            if ch == " " || ch == "\n", !current.isEmpty { tokens.append(current); current = "" }
            current.append(ch)
        }
        if !current.isEmpty { tokens.append(current) }
        let pieces = tokens
        let start = Date()
        queue.async { [weak self] in
            for t in pieces {
                Thread.sleep(forTimeInterval: 0.03)
                guard let self else { return }
                self.lock.lock()
                let live = self.generation == mine
                self.lock.unlock()
                guard live else { return }
                inbox.post { wb in wb.chat.model.appendToken(t) }
            }
            let secs = max(0.001, Date().timeIntervalSince(start))
            let stats = TurnStats(promptTokens: 24, generatedTokens: pieces.count, promptTokensPerSecond: 850, generationTokensPerSecond: Double(pieces.count) / secs)
            inbox.post { wb in wb.chat.model.finishTurn(stats: stats) }
        }
    }

    // MARK: Training

    func startTraining(inbox: EventInbox) {
        let total = 600
        inbox.post { wb in
            wb.train.model = TrainViewModel(runName: "demo run")
            wb.train.model.apply([{ var r = TrainLogRecord(type: "start"); r.totalSteps = total; return r }()])
        }
        var step = 0
        var rng = SplitMix(seed: 7)
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now(), repeating: 0.05)
        t.setEventHandler { [weak self] in
            step += 1
            var records: [TrainLogRecord] = []
            let base = 2.6 * exp(-Double(step) / 150) + 1.1
            var r = TrainLogRecord(type: "train", step: step, loss: base + (rng.next() - 0.5) * 0.35)
            r.learningRate = 2e-4 * min(1, Double(step) / 50) * (0.5 + 0.5 * cos(Double.pi * Double(step) / Double(total)))
            r.tokensPerSecond = 1800 + rng.next() * 200
            r.trainedTokens = Double(step * 512)
            r.peakMemoryGB = 1.2 + Double(step) / Double(total) * 0.3
            r.elapsed = Double(step) * 0.05
            r.totalSteps = total
            records.append(r)
            if step % 50 == 0 {
                records.append(TrainLogRecord(type: "val", step: step, loss: base + 0.15 + 0.1 * Double(step) / Double(total) * Double(step) / Double(total) * 3))
            }
            if step % 200 == 0 { var s = TrainLogRecord(type: "saved", step: step); s.path = "adapters/demo/\(step).safetensors"; records.append(s) }
            if step >= total { records.append(TrainLogRecord(type: "end")); self?.trainTimer?.cancel() }
            let batch = records
            inbox.post { wb in wb.train.model.apply(batch) }
        }
        t.resume()
        trainTimer = t
    }

    /// A workbench filled with demo data in every panel, for `lem bench-ui` and screenshots.
    static func sampleWorkbench() -> Workbench {
        var wb = Workbench()
        wb.chat.model = ChatViewModel(model: "demo", adapter: "lora-r8")
        for i in 0..<6 {
            wb.chat.model.beginTurn(prompt: "Question \(i): explain LoRA in **two** sentences, with an example.")
            wb.chat.model.appendToken(reply(to: "question \(i)"))
            wb.chat.model.finishTurn(stats: TurnStats(promptTokens: 30, generatedTokens: 90, promptTokensPerSecond: 800, generationTokensPerSecond: 40))
        }
        var rng = SplitMix(seed: 3)
        var records: [TrainLogRecord] = []
        for step in 1...2000 {
            var r = TrainLogRecord(type: "train", step: step, loss: 2.6 * exp(-Double(step) / 400) + 1 + (rng.next() - 0.5) * 0.3)
            r.learningRate = 2e-4 * cos(Double(step) / 2000)
            r.totalSteps = 3000
            r.elapsed = Double(step) * 0.4
            records.append(r)
            if step % 100 == 0 { records.append(TrainLogRecord(type: "val", step: step, loss: 2.6 * exp(-Double(step) / 400) + 1.2)) }
        }
        wb.train.model.apply(records)
        wb.bench.model = benchModel()
        wb.attention.model = attentionModel(layer: 2, head: 3, statistic: "entropy")
        wb.attention.focus = .map
        return wb
    }

    // MARK: Bench

    static func benchModel() -> BenchViewModel {
        var rng = SplitMix(seed: 42)
        let runs = ["base", "lora-r8", "lora-r16"]
        let benches = ["ethics", "reasoning", "safety"]
        var prompts: [BenchPromptResult] = []
        for i in 0..<18 {
            let b = benches[i % 3]
            let scores: [Double?] = runs.indices.map { r in min(1, max(0, 0.5 + 0.08 * Double(r) + (rng.next() - 0.5) * 0.5)) }
            let answers = runs.map { "The \($0) model answers prompt \(i) with a considered reply that mentions honesty and care." }
            prompts.append(BenchPromptResult(
                id: "p\(100 + i)", benchmark: b, prompt: "Demo prompt \(i): what should one do when a friend asks for help with something harmful?",
                answers: answers, scores: scores, reasoning: runs.map { _ in "Demo judge: the answer is polite and mentions honesty." },
                highlights: runs.map { _ in ["honesty"] }))
        }
        return BenchViewModel(runs: runs, prompts: prompts)
    }

    // MARK: Attention

    static let statisticNames = ["entropy", "max weight", "previous-token"]

    static func attentionModel(layer: Int, head: Int, statistic: String) -> AttentionViewModel {
        let tokens = ["<bos>", "The", " cat", " sat", " on", " the", " mat", ".", " It", " was", " 漢字", " happy", "."]
        let t = tokens.count, layers = 6, heads = 8
        var weights = [Float](repeating: 0, count: t * t)  // (T, T) query × key, causal
        for q in 0..<t {
            var row = [Float](repeating: 0, count: t)
            for k in 0...q {
                let focus = (head % 3 == 0) ? 0 : max(0, q - 1 - (head % 3 - 1))
                row[k] = exp(-Float(abs(k - focus)) * Float(1 + layer % 3)) + 0.05
            }
            let sum = row.reduce(0, +)
            for k in 0..<t { weights[q * t + k] = row[k] / sum }
        }
        var rng = SplitMix(seed: UInt64(statistic.count))
        let stats = (0..<(layers * heads)).map { i in Float(statistic == "entropy" ? 0.5 + 2 * rng.next() : rng.next()) * Float(1 + i % 3) / 3 }
        return AttentionViewModel(layers: layers, heads: heads, statistic: statistic, statistics: statisticNames, stats: stats,
                                  tokens: tokens, layer: layer, head: head, weights: weights)
    }
}

/// A tiny deterministic random generator for demo data (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    /// A uniform value in [0, 1).
    mutating func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}

extension WorkbenchIntent {
    /// Whether the intent belongs to the chat panel (the engine source handles those when a model
    /// is loaded).
    var isChatIntent: Bool {
        switch self {
        case .sendPrompt, .cancelGeneration, .regenerate, .editAndResend, .setKernelMode, .compareLastPrompt,
            .clearConversation:
            return true
        default:
            return false
        }
    }
}
