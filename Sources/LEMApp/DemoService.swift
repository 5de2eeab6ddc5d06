import Foundation
import LEMCore
import Panels

/// Made-up data for every panel (`lem workbench --demo-chat`): canned streamed chat replies
/// (cancellable), a synthetic training run, a small benchmark table and synthetic attention
/// maps, for screenshots, the render benchmark and end-to-end tests of the terminal driver; the
/// footer says "demo data" while it is in use. In demo mode it handles every intent.
public final class DemoService: @unchecked Sendable {
    let inbox: any WorkbenchInbox
    let includeTraining: Bool
    private let queue = DispatchQueue(label: "lem.workbench.demo")
    private let lock = NSLock()
    private var generation = 0  // bumped to cancel the streaming reply
    private var trainTimer: DispatchSourceTimer?

    /// A demo posting to `inbox`; `includeTraining` false leaves the Train panel to a followed log.
    public init(inbox: any WorkbenchInbox, includeTraining: Bool) {
        self.inbox = inbox
        self.includeTraining = includeTraining
    }

    /// Fills every panel with demo data.
    public func start() {
        let bench = Self.benchModel()
        let attention = Self.attentionModel(layer: 0, head: 0, statistic: "entropy")
        inbox.post { wb in
            wb.chat.model = ChatViewModel(model: "demo (no model loaded)", adapter: nil)
            wb.chat.model.apply(ChatSettings(systemPrompt: "You are a helpful assistant."))
            wb.bench.model = bench
            wb.attention.model = attention
        }
        if includeTraining { startTraining() }
    }

    /// Stops the streaming reply and the synthetic run.
    public func stop() {
        lock.withLock { generation += 1 }
        trainTimer?.cancel()
    }

    /// Handles every intent with canned data (those with nothing to show are ignored).
    public func handle(_ intent: WorkbenchIntent) {
        switch intent {
        case .chat(let chat): handle(chat)
        case .train(.stop):
            guard includeTraining else { return }
            trainTimer?.cancel()
            inbox.post { wb in wb.train.model.apply([.finished(step: wb.train.model.step, path: "")]) }
        case .attention(.selectHead(let layer, let head)):
            let stat = Self.statisticNames[0]
            inbox.post { wb in
                let s = wb.attention.model.statistic
                wb.attention.model = Self.attentionModel(layer: layer, head: head, statistic: s.isEmpty ? stat : s)
            }
        case .attention(.selectStatistic(let name)):
            inbox.post { wb in
                wb.attention.model = Self.attentionModel(
                    layer: wb.attention.model.layer, head: wb.attention.model.head,
                    statistic: name)
            }
        case .train, .bench, .attention, .app:
            break
        }
    }

    private func handle(_ intent: ChatIntent) {
        let inbox = self.inbox
        switch intent {
        case .send(let text):
            inbox.post { [weak self] wb in
                // One generation at a time, as with a real model.
                guard !wb.chat.model.isAnswering else {
                    wb.showNotice(ChatViewModel.busyNotice)
                    return
                }
                wb.chat.model.beginTurn(prompt: text)
                self?.stream(reply: Self.reply(to: text))
            }
        case .cancel:
            lock.withLock { generation += 1 }
            inbox.post { wb in wb.chat.model.finishTurn(stats: nil, cancelled: true) }
        case .regenerate:
            inbox.post { [weak self] wb in
                guard let prompt = wb.chat.model.dropLastAnswer() else { return }
                wb.chat.model.beginTurn(prompt: prompt)
                self?.stream(reply: Self.reply(to: prompt + " again"))
            }
        case .editAndResend(let index, let text):
            inbox.post { [weak self] wb in
                guard index <= wb.chat.model.messages.count else { return }
                wb.chat.model.truncate(from: index)
                wb.chat.model.beginTurn(prompt: text)
                self?.stream(reply: Self.reply(to: text))
            }
        case .setKernelMode(let mode):
            inbox.post { wb in wb.chat.model.setKernelMode(mode) }
        case .compareLastPrompt:
            inbox.post { wb in
                let a = ["The", " answer", " is", " that", " small", " models", " can", " learn", " quickly", "."]
                let b = ["The", " answer", " is", " that", " tiny", " models", " learn", " slowly", "."]
                wb.chat.model.beginComparison(leftTitle: "base", rightTitle: "base + adapter")
                for (i, piece) in a.enumerated() { wb.chat.model.appendComparison(right: false, id: i, piece: piece) }
                for (i, piece) in b.enumerated() {
                    wb.chat.model.appendComparison(right: true, id: i + (i > 3 ? 100 : 0), piece: piece)
                }
                wb.chat.model.endComparison()
            }
        case .clear:
            inbox.post { wb in wb.chat.model.clear() }
        case .applySettings(let settings):
            inbox.post { wb in wb.chat.model.apply(settings) }
        case .useAdapter, .listSessions, .newSession, .openSession, .renameSession, .deleteSession, .exportSession:
            inbox.post { wb in wb.showNotice("demo data: no models or sessions behind this view") }
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

    func stream(reply: String) {
        let inbox = self.inbox
        lock.lock()
        generation += 1
        let mine = generation
        lock.unlock()
        // Split into word-sized tokens that keep their spaces and newlines.
        var tokens: [String] = []
        var current = ""
        for ch in reply {
            if ch == " " || ch == "\n", !current.isEmpty {
                tokens.append(current)
                current = ""
            }
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
            let stats = TurnStats(
                promptTokens: 24, generatedTokens: pieces.count, promptTokensPerSecond: 850,
                generationTokensPerSecond: Double(pieces.count) / secs)
            inbox.post { wb in wb.chat.model.finishTurn(stats: stats) }
        }
    }

    // MARK: Training

    func startTraining() {
        let inbox = self.inbox
        let total = 600
        inbox.post { wb in
            // A local run: stoppable, and quitting asks first.
            wb.train.model = TrainViewModel.localRun(TrainRunRequest(), availableModels: [])
            wb.train.model.describeRun(
                name: "demo run", baseModel: "demo", totalSteps: total, adapterFolder: "adapters/demo")
            wb.train.model.setStatus(nil)
            wb.train.model.apply([.started(step: 0, totalSteps: total)])
        }
        var step = 0
        var rng = SplitMix64(seed: 7)
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now(), repeating: 0.05)
        t.setEventHandler { [weak self] in
            step += 1
            var events: [TrainingEvent] = []
            let base = 2.6 * exp(-Double(step) / 150) + 1.1
            events.append(
                .trainReport(
                    .init(
                        step: step, loss: base + (rng.unit() - 0.5) * 0.35,
                        lr: 2e-4 * min(1, Double(step) / 50)
                            * (0.5 + 0.5 * cos(Double.pi * Double(step) / Double(total))),
                        tokensPerSec: 1800 + rng.unit() * 200, trainedTokens: step * 512,
                        peakMemMB: (1.2 + Double(step) / Double(total) * 0.3) * 1024, elapsed: Double(step) * 0.05)))
            if step % 50 == 0 {
                let progress = Double(step) / Double(total)
                events.append(.validation(step: step, valLoss: base + 0.15 + 0.3 * progress * progress, valTime: 0.1))
            }
            if step % 200 == 0 { events.append(.saved(step: step, path: "adapters/demo/\(step).safetensors")) }
            if step >= total {
                events.append(.finished(step: step, path: "adapters/demo/adapters.safetensors"))
                self?.trainTimer?.cancel()
            }
            let batch = events
            inbox.post { wb in wb.train.model.apply(batch) }
        }
        t.resume()
        trainTimer = t
    }

    /// A workbench filled with demo data in every panel, for `lem bench-ui` and screenshots.
    public static func sampleWorkbench() -> Workbench {
        var wb = Workbench()
        wb.chat.model = ChatViewModel(model: "demo", adapter: "lora-r8")
        for i in 0..<6 {
            wb.chat.model.beginTurn(prompt: "Question \(i): explain LoRA in **two** sentences, with an example.")
            wb.chat.model.appendToken(reply(to: "question \(i)"))
            wb.chat.model.finishTurn(
                stats: TurnStats(
                    promptTokens: 30, generatedTokens: 90, promptTokensPerSecond: 800, generationTokensPerSecond: 40))
        }
        var rng = SplitMix64(seed: 3)
        var events: [TrainingEvent] = [.started(step: 0, totalSteps: 3000)]
        for step in 1...2000 {
            events.append(
                .trainReport(
                    .init(
                        step: step, loss: 2.6 * exp(-Double(step) / 400) + 1 + (rng.unit() - 0.5) * 0.3,
                        lr: 2e-4 * cos(Double(step) / 2000), elapsed: Double(step) * 0.4)))
            if step % 100 == 0 {
                events.append(.validation(step: step, valLoss: 2.6 * exp(-Double(step) / 400) + 1.2, valTime: 0.1))
            }
        }
        wb.train.model.apply(events)
        wb.bench.model = benchModel()
        wb.attention.model = attentionModel(layer: 2, head: 3, statistic: "entropy")
        wb.attention.focus = .map
        return wb
    }

    // MARK: Bench

    static func benchModel() -> BenchViewModel {
        var rng = SplitMix64(seed: 42)
        let runs = ["base", "lora-r8", "lora-r16"]
        let benches = ["ethics", "reasoning", "safety"]
        var prompts: [BenchPromptResult] = []
        for i in 0..<18 {
            let b = benches[i % 3]
            let scores: [Double?] = runs.indices.map { r in
                min(1, max(0, 0.5 + 0.08 * Double(r) + (rng.unit() - 0.5) * 0.5))
            }
            let answers = runs.map {
                "The \($0) model answers prompt \(i) with a considered reply that mentions honesty and care."
            }
            prompts.append(
                BenchPromptResult(
                    id: "p\(100 + i)", benchmark: b,
                    prompt: "Demo prompt \(i): what should one do when a friend asks for help with something harmful?",
                    answers: answers, scores: scores,
                    reasoning: runs.map { _ in "Demo judge: the answer is polite and mentions honesty." },
                    highlights: runs.map { _ in ["honesty"] }))
        }
        return BenchViewModel(runs: runs, prompts: prompts)
    }

    // MARK: Attention

    static let statisticNames = ["entropy", "max weight", "previous-token"]

    static func attentionModel(layer: Int, head: Int, statistic: String) -> AttentionViewModel {
        let tokens = ["<bos>", "The", " cat", " sat", " on", " the", " mat", ".", " It", " was", " 漢字", " happy", "."]
        let t = tokens.count
        let layers = 6
        let heads = 8
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
        var rng = SplitMix64(seed: UInt64(statistic.count))
        let stats = (0..<(layers * heads)).map { i in
            Float(statistic == "entropy" ? 0.5 + 2 * rng.unit() : rng.unit()) * Float(1 + i % 3) / 3
        }
        return AttentionViewModel(
            layers: layers, heads: heads, statistic: statistic, statistics: statisticNames, stats: stats,
            tokens: tokens, layer: layer, head: head, weights: weights)
    }
}
