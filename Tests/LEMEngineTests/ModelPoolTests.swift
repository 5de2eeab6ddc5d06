import Foundation
import LEMCore
import TestSupport
import Testing

@testable import LEMEngine

@Suite("ModelPool and LoadedModel")
struct ModelPoolTests {
    static let tiny = TestPaths.fixture("engine/llama3_tiny")

    /// A loader that builds the tiny model, counting loads and stating a size per key.
    final class CountingLoader: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var loads: [ModelKey] = []
        let bytes: Int
        let delay: Double

        init(bytes: Int, delay: Double = 0) {
            self.bytes = bytes
            self.delay = delay
        }

        func load(_ key: ModelKey) throws -> LoadedModel {
            lock.withLock { loads.append(key) }
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            guard key.model.hasSuffix("llama3_tiny") else {
                throw ModelError.badConfig("no such model", source: key.model)
            }
            let real = try LoadedModel.load(ModelKey(model: ModelPoolTests.tiny))
            return LoadedModel(key: key, model: real.model, tokenizer: real.tokenizer, weightBytes: bytes)
        }
    }

    func key(_ name: String) -> ModelKey { ModelKey(model: URL(fileURLWithPath: "/m/\(name)/llama3_tiny")) }

    @Test("a key is loaded once, also when asked for from several threads at the same time")
    func loadsOnce() throws {
        let loader = CountingLoader(bytes: 10, delay: 0.05)
        let pool = ModelPool(capacityBytes: 100, loader: loader.load)
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 6) { _ in results.add(try? pool.model(for: key("a"))) }
        #expect(loader.loads.count == 1)
        #expect(results.all.count == 6 && results.all.allSatisfy { $0 === results.all[0] })
        #expect(pool.cached(key("a")) === results.all[0])
    }

    @Test("the least recently used models go once the weights pass the budget; the newest always stays")
    func evicts() throws {
        let loader = CountingLoader(bytes: 40)
        let pool = ModelPool(capacityBytes: 100, loader: loader.load)
        let a = try pool.model(for: key("a"))
        _ = try pool.model(for: key("b"))
        _ = try pool.model(for: key("a"))  // a is now the most recent
        _ = try pool.model(for: key("c"))  // 120 bytes: b goes
        #expect(pool.keys == [key("a"), key("c")])
        #expect(pool.cached(key("b")) == nil)
        // A model dropped from the pool stays usable by whoever holds it.
        #expect(try a.encode("hi").count > 0)
        let big = ModelPool(capacityBytes: 10, loader: CountingLoader(bytes: 50).load)
        _ = try big.model(for: key("x"))
        _ = try big.model(for: key("y"))
        #expect(big.keys == [key("y")])
    }

    @Test("a failed load is reported to every waiter and tried again on the next request")
    func failures() throws {
        let loader = CountingLoader(bytes: 1)
        let pool = ModelPool(capacityBytes: 1 << 30, loader: loader.load)
        let bad = ModelKey(model: URL(fileURLWithPath: "/m/missing"))
        #expect(throws: ModelError.self) { try pool.model(for: bad) }
        #expect(throws: ModelError.self) { try pool.model(for: bad) }
        #expect(loader.loads.count == 2 && pool.keys.isEmpty)
    }

    @Test("chat prompts go through the template, plain text through the tokenizer; stops follow the format")
    func loadedModel() throws {
        let m = try LoadedModel.load(ModelKey(model: Self.tiny))
        #expect(m.template == nil)  // the fixture ships none: messages are joined after the BOS
        let joined = try m.promptIds(messages: [.system("a"), .user("b")])
        #expect(joined == (try m.encode("a\n\nb", addSpecialTokens: true)))
        #expect(m.chatStopStrings.isEmpty)
        #expect(m.chatStopIds.isSuperset(of: m.eosIds))
        #expect(m.textRequest(promptIds: [1, 2], sampling: .greedy).stopTokenIds == m.eosIds)
        // The key names what was loaded.
        #expect(m.key.storedName == "llama3_tiny" && m.title == "llama3_tiny")
        let adapted = ModelKey(model: Self.tiny, adapter: TestPaths.fixture("adapters/llama3_lora_partial"), scale: 0.5)
        #expect(adapted.storedName == "llama3_tiny+llama3_lora_partial")
        #expect(adapted.title == "llama3_tiny + adapters/llama3_lora_partial ×0.5")
        #expect(ModelKey(model: Self.tiny, adapter: nil, scale: 0.5).scale == 1)
    }

    @Test("a reply is the generator's greedy text; cancelling the task throws CancellationError")
    func reply() async throws {
        let m = try LoadedModel.load(ModelKey(model: Self.tiny))
        let settings = SamplingSettings(maxTokens: 5)
        let reply = try await m.reply(to: [.user("hello")], sampling: settings)
        var ids: [Int] = []
        m.generator.run(try m.chatRequest(messages: [.user("hello")], sampling: settings)) {
            if case .token(let id, _) = $0 { ids.append(id) }
        }
        #expect(reply.ids == ids && reply.tokens <= 5)
        let task = Task { try await m.reply(to: [.user("hello")], sampling: SamplingSettings(maxTokens: 100_000)) }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test("an adapter checkpoint file loads with its run's config beside it")
    func checkpointFile() throws {
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("lem-ckpt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: run) }
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let source = TestPaths.fixture("trainer/mlx_adapter")
        try FileManager.default.copyItem(
            at: source.appendingPathComponent("adapter_config.json"),
            to: run.appendingPathComponent("adapter_config.json"))
        let file = run.appendingPathComponent("0000100_adapters.safetensors")
        try FileManager.default.copyItem(at: source.appendingPathComponent("adapters.safetensors"), to: file)
        let fromFile = try InferenceAdapter(path: file)
        let fromFolder = try InferenceAdapter(folder: source)
        #expect(fromFile.modules == fromFolder.modules && fromFile.fineTuneType == fromFolder.fineTuneType)
        try FileManager.default.removeItem(at: run.appendingPathComponent("adapter_config.json"))
        #expect(throws: (any Error).self) { try InferenceAdapter(path: file) }
        #expect(throws: (any Error).self) { try InferenceAdapter(path: run.appendingPathComponent("missing")) }
    }
}

/// Models gathered from concurrent threads.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var models: [LoadedModel] = []
    func add(_ m: LoadedModel?) { if let m { lock.withLock { models.append(m) } } }
    var all: [LoadedModel] { lock.withLock { models } }
}
