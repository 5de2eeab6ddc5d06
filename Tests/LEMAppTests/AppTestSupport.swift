import Foundation
import LEMCore
import LEMEngine
import Panels
import TestSupport

@testable import LEMApp

/// An inbox for service tests, in the manner of swift-nio's embedded event loop: updates queue
/// up as services post them, and the test applies them to its own `Workbench` on its own thread,
/// waiting for a condition with a deadline.
final class FakeInbox: WorkbenchInbox, @unchecked Sendable {
    private let lock = NSLock()
    private var queued: [WorkbenchUpdate] = []
    /// The state the updates are applied to.
    var workbench = Workbench()
    /// Updates applied so far.
    private(set) var applied = 0

    func post(_ update: @escaping WorkbenchUpdate) { lock.withLock { queued.append(update) } }

    /// Applies every queued update (updates posted while applying run in the next call).
    @discardableResult
    func drain() -> Int {
        let batch = lock.withLock {
            let b = queued
            queued.removeAll()
            return b
        }
        for u in batch { u(&workbench) }
        applied += batch.count
        return batch.count
    }

    /// Drains until `condition` holds, or fails after `timeout` seconds with `label`.
    func settle(_ label: String, timeout: Double = 60, _ condition: (Workbench) -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            drain()
            if condition(workbench) { return }
            guard Date() < deadline else { throw AppTestError("timed out waiting for: \(label)") }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    /// `settle` for tests whose work runs on Swift's cooperative pool (the Bench service's jobs
    /// are tasks): it waits with `Task.sleep`, so the waiting test never holds one of the pool's
    /// threads the job needs. (Blocking waits starved the jobs for minutes on a 2-core machine
    /// while other suites ran: the pool is as wide as the cores.)
    func settle(_ label: String, timeout: Double = 60, _ condition: (Workbench) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            drain()
            if condition(workbench) { return }
            guard Date() < deadline else { throw AppTestError("timed out waiting for: \(label)") }
            try await Task.sleep(nanoseconds: 5_000_000)
        }
    }

    /// Drains for `seconds` (to show that something does not happen).
    func idle(_ seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            drain()
            Thread.sleep(forTimeInterval: 0.005)
        }
        drain()
    }
}

struct AppTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A tiny random Gemma 3 (the engine fixture) with a chat template and a data folder, in a
/// temporary folder: fast enough for every service test, deterministic under greedy sampling.
final class TinyWorld: @unchecked Sendable {
    let root: URL
    let model: URL
    let paths: LEMPaths
    let context: AppContext

    /// A turn-marked template over plain words, so any vocabulary can render it.
    static let template = """
        {%- for m in messages -%}{{ m['role'] }}: {{ m['content'] }}
        {% endfor -%}{%- if add_generation_prompt -%}assistant:{%- endif -%}
        """

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("lemapp-\(UUID().uuidString)")
        let fm = FileManager.default
        model = root.appendingPathComponent("models/tiny-chat")
        try fm.createDirectory(at: model, withIntermediateDirectories: true)
        let source = TestPaths.fixture("engine/gemma3_tiny")
        for name in ["model.safetensors", "tokenizer.json"] {
            try fm.copyItem(at: source.appendingPathComponent(name), to: model.appendingPathComponent(name))
        }
        // A longer context than the fixture's, so judge rubrics fit (RoPE takes any position).
        var modelConfig =
            try JSONValue.parse(Data(contentsOf: source.appendingPathComponent("config.json"))).object ?? [:]
        modelConfig["max_position_embeddings"] = .int(4096)
        try Data(JSONValue.object(modelConfig).jsonText().utf8).write(to: model.appendingPathComponent("config.json"))
        var config =
            try JSONValue.parse(Data(contentsOf: source.appendingPathComponent("tokenizer_config.json"))).object ?? [:]
        config["chat_template"] = .string(Self.template)
        try Data(JSONValue.object(config).jsonText().utf8).write(
            to: model.appendingPathComponent("tokenizer_config.json"))
        let data = root.appendingPathComponent("data")
        try fm.createDirectory(at: data, withIntermediateDirectories: true)
        let lines = (0..<8).map { #"{"text": "sample text number \#($0) for the tiny model"}"# }.joined(separator: "\n")
        try Data((lines + "\n").utf8).write(to: data.appendingPathComponent("train.jsonl"))
        try Data((lines + "\n").utf8).write(to: data.appendingPathComponent("valid.jsonl"))
        try fm.createDirectory(at: root.appendingPathComponent("home"), withIntermediateDirectories: true)
        paths = LEMPaths(
            environment: ["HOME": root.appendingPathComponent("home").path, "LEM_HOME": root.path],
            currentDirectory: root, sourceCheckout: TestPaths.repoRoot)
        context = AppContext(paths: paths, database: root.appendingPathComponent("lem.sqlite"))
    }

    var dataFolder: URL { root.appendingPathComponent("data") }
    var key: ModelKey { ModelKey(model: model) }

    deinit { try? FileManager.default.removeItem(at: root) }
}

/// A service under test over a fresh `TinyWorld`, posting to a `FakeInbox`.
struct ServiceHarness<Service> {
    let world: TinyWorld
    let inbox = FakeInbox()
    let service: Service

    /// Makes the world, then the service with `make(world, inbox)`.
    init(_ make: (TinyWorld, FakeInbox) -> Service) throws {
        world = try TinyWorld()
        service = make(world, inbox)
    }
}

/// A suite testing one service: `world`, `inbox` and `service` are its harness's.
protocol ServiceSuite {
    associatedtype Service
    var harness: ServiceHarness<Service> { get }
}

extension ServiceSuite {
    var world: TinyWorld { harness.world }
    var inbox: FakeInbox { harness.inbox }
    var service: Service { harness.service }
}
