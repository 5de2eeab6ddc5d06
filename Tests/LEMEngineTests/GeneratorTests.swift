import Foundation
import LEMCore
import LEMEngine
import Testing

/// Decodes id `i` as the letter at offset `i % 26` (a stand-in tokenizer).
struct LetterDecoder: StreamingTextDecoder {
    mutating func push(_ id: Int) -> String { String(UnicodeScalar(UInt8(97 + id % 26))) }
    mutating func finish() -> String { "" }
}

@Suite("Generator")
struct GeneratorTests {
    func collect(_ generator: Generator, _ request: GenerationRequest, handle: GenerationHandle = GenerationHandle())
        -> (ids: [Int], text: String, stats: GenerationStats?)
    {
        var ids: [Int] = []
        var text = ""
        let stats = generator.run(request, handle: handle) { event in
            if case .token(let id, let t) = event {
                ids.append(id)
                text += t
            }
        }
        return (ids, text, stats)
    }

    @Test("greedy generation equals an argmax loop over full forwards")
    func greedyMatchesManualLoop() throws {
        let model = try RandomModels.model("gemma3_text", sliding: true)
        let prompt = [1, 5, 9, 2]
        var expected: [Int] = []
        var context = prompt
        for _ in 0..<8 {
            let logits = try model.forward(tokens: context, cache: model.makeCache(), logits: .last)
            let id = Sampler.argmax(logits)
            expected.append(id)
            context.append(id)
        }
        let result = collect(
            Generator(model: model), GenerationRequest(promptIds: prompt, sampling: SamplingSettings(maxTokens: 8)))
        #expect(result.ids == expected)
        #expect(result.stats?.stopReason == .maxTokens)
        #expect(result.stats?.generatedTokens == 8)
    }

    @Test("EOS ids and stop strings end the run; the stop string is not emitted")
    func stops() throws {
        let model = try RandomModels.model("llama", sliding: false)
        let free = collect(
            Generator(model: model), GenerationRequest(promptIds: [1, 2, 3], sampling: SamplingSettings(maxTokens: 10)))
        let eos = free.ids[3]
        let stopped = collect(
            Generator(model: model),
            GenerationRequest(promptIds: [1, 2, 3], sampling: SamplingSettings(maxTokens: 10), stopTokenIds: [eos]))
        let firstEOS = free.ids.firstIndex(of: eos)!
        #expect(stopped.ids == Array(free.ids[...firstEOS]))
        #expect(stopped.stats?.stopReason == .endOfSequence(id: eos))

        let letters = Generator(model: model, makeDecoder: { LetterDecoder() })
        let all = collect(letters, GenerationRequest(promptIds: [1, 2, 3], sampling: SamplingSettings(maxTokens: 10)))
        #expect(all.text.count == 10)
        let stop = String(all.text.dropFirst(4).prefix(2))
        let cut = collect(
            letters,
            GenerationRequest(promptIds: [1, 2, 3], sampling: SamplingSettings(maxTokens: 10), stopStrings: [stop]))
        let expectedText = String(all.text[..<all.text.range(of: stop)!.lowerBound])
        #expect(cut.text == expectedText)
        #expect(cut.stats?.stopReason == .stopString(stop))
    }

    @Test("a cancelled run stops before its next token and reports why")
    func cancellation() throws {
        let model = try RandomModels.model("qwen2", sliding: false)
        let generator = Generator(model: model)
        let handle = GenerationHandle()
        handle.cancel()
        let result = collect(
            generator, GenerationRequest(promptIds: [4, 5], sampling: SamplingSettings(maxTokens: 50)), handle: handle)
        #expect(result.ids.isEmpty)
        #expect(result.stats?.stopReason == .cancelled)

        // Cancelled from the event callback (on the generator's queue) at the third token.
        let box = EventBox()
        let done = DispatchSemaphore(value: 0)
        let running = GenerationHandle()
        generator.start(
            GenerationRequest(promptIds: [4, 5], sampling: SamplingSettings(maxTokens: 40)), handle: running
        ) { event in
            let tokens = box.append(event)
            if case .token = event, tokens == 3 { running.cancel() }
            switch event {
            case .finished, .failed: done.signal()
            default: break
            }
        }
        done.wait()
        #expect(box.tokenCount == 3)
        #expect(box.stopReason == .cancelled)
    }

    @Test("the async stream delivers the prompt, every token and the finish, in order")
    func stream() async throws {
        let model = try RandomModels.model("qwen2", sliding: false)
        let generator = Generator(model: model)
        let (events, _) = generator.stream(
            GenerationRequest(promptIds: [4, 5], sampling: SamplingSettings(maxTokens: 6)))
        var kinds: [String] = []
        for await event in events {
            switch event {
            case .promptProcessed(let tokens, _): kinds.append("prompt\(tokens)")
            case .token: kinds.append("token")
            case .finished(let stats): kinds.append("finished \(stats.generatedTokens)")
            case .failed(let error): kinds.append("failed \(error)")
            }
        }
        #expect(kinds == ["prompt2"] + Array(repeating: "token", count: 6) + ["finished 6"])
    }

    @Test("an empty prompt or a bad parameter fails with a named error")
    func failures() throws {
        let model = try RandomModels.model("llama", sliding: false)
        var failures: [String] = []
        let generator = Generator(model: model)
        for request in [
            GenerationRequest(promptIds: []), GenerationRequest(promptIds: [1], sampling: SamplingSettings(topP: 2)),
            GenerationRequest(promptIds: [1, 99])
        ] {
            generator.run(request) { if case .failed(let e) = $0 { failures.append("\(e)") } }
        }
        #expect(failures.count == 3)
        #expect(failures[0].contains("no tokens"))
        #expect(failures[1].contains("top-p"))
        #expect(failures[2].contains("99"))
    }
}

/// Collects events delivered on another queue.
final class EventBox: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [GenerationEvent] = []

    /// Adds an event and returns the number of token events so far.
    func append(_ event: GenerationEvent) -> Int {
        lock.lock()
        defer { lock.unlock() }
        events.append(event)
        return events.filter { if case .token = $0 { true } else { false } }.count
    }

    var tokenCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return events.filter { if case .token = $0 { true } else { false } }.count
    }

    var stopReason: StopReason? {
        lock.lock()
        defer { lock.unlock() }
        for case .finished(let stats) in events { return stats.stopReason }
        return nil
    }
}
