import Foundation
import LEMCore
import LEMEngine
import LEMEval
import LEMServe
import LEMStore
import Panels
import Testing

@testable import LEMApp

@Suite("Remote endpoints file")
struct RemoteEndpointsTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lem-endpoints-\(UUID().uuidString)")
    var file: URL { folder.appendingPathComponent("endpoints") }

    @Test("lines read as name = URL [model] [key-env VAR]; comments kept; a bad line names file and line")
    func parse() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = """
            # mine
            laptop = http://127.0.0.1:8080/v1 smollm2

            hosted = https://api.example.com/v1 big-model key-env EXAMPLE_KEY
            bare = http://10.0.0.2:9000/v1
            """
        try Data(text.utf8).write(to: file)
        let e = try RemoteEndpoints.load(file)
        #expect(e.list.map(\.name) == ["laptop", "hosted", "bare"])
        #expect(e.endpoint(named: "laptop")?.model == "smollm2")
        #expect(e.endpoint(named: "hosted")?.keyEnv == "EXAMPLE_KEY")
        #expect(e.endpoint(named: "bare")?.model == nil)
        #expect(e.endpoint(named: "bare")?.url.absoluteString == "http://10.0.0.2:9000/v1")
        let bad: [(String, String)] = [
            ("x = ftp://host/v1", "http(s) URL"), ("no equals sign", "expected `name = URL"),
            ("bad name! = http://h/v1", "may hold only"), ("y = http://h/v1 m extra", "found extra"),
            ("z = http://h/v1 key-env", "key-env")
        ]
        for (line, says) in bad {
            try Data("# ok\n\(line)\n".utf8).write(to: file)
            let error = #expect(throws: AppError.self) { try RemoteEndpoints.load(file) }
            #expect(error?.description.contains("\(file.path):2") == true, "\(line)")
            #expect(error?.description.contains(says) == true, "\(line): \(String(describing: error))")
        }
    }

    @Test("typed text becomes an endpoint named host:port/model; saving replaces by name and keeps the rest")
    func typedAndSaved() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let typed = try RemoteEndpoint.typed(" http://127.0.0.1:8080/v1  tiny ")
        #expect(
            typed
                == RemoteEndpoint(
                    name: "127.0.0.1:8080/tiny", url: URL(string: "http://127.0.0.1:8080/v1")!, model: "tiny"))
        #expect(try RemoteEndpoint.typed("https://api.example.com/v1 m key-env K").keyEnv == "K")
        #expect(throws: AppError.self) { try RemoteEndpoint.typed("localhost:8080") }
        var e = try RemoteEndpoints.load(file)
        #expect(e.list.isEmpty)
        try e.save(typed)
        try e.save(RemoteEndpoint(name: "other", url: URL(string: "http://h:1/v1")!))
        var changed = typed
        changed.model = "tiny-b"
        try e.save(changed)
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.hasPrefix("# Remote chat models"))
        #expect(text.contains("127.0.0.1:8080/tiny = http://127.0.0.1:8080/v1 tiny-b\nother = http://h:1/v1\n"))
        #expect(try RemoteEndpoints.load(file).list == e.list)
    }
}

@Suite("ChatService with a remote model", .serialized)
struct ChatRemoteTests: ServiceSuite {
    let harness: ServiceHarness<ChatService>

    init() throws { harness = try ChatServiceTests.makeHarness() }

    /// `lem serve` in this process for the length of `body`; stopped (and waited for: a connection
    /// arriving while SwiftNIO shuts a server down can trap in its writer's deinit) afterwards.
    func withServer(_ body: (_ port: Int, _ stop: @Sendable () async -> Void) async throws -> Void) async throws {
        let server = try await serve()
        do { try await body(server.port, server.stop) } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// `lem serve` in this process on the world's model, on a free loopback port.
    func serve() async throws -> (port: Int, stop: @Sendable () async -> Void) {
        let model = try world.context.pool.model(for: world.key)
        let service = CompletionService(
            models: ServedModels(base: model, baseName: "tiny"), configuration: ServeConfiguration(port: 0))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            defer { continuation.finish() }
            try await OpenAIServer(service: service).run { continuation.yield($0) }
        }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        return (
            port,
            {
                task.cancel()
                _ = try? await task.value
            }
        )
    }

    /// The engine's own greedy answer to `prompt` on the world's model.
    func engineAnswer(_ prompt: String, maxTokens: Int) throws -> (text: String, promptTokens: Int) {
        let loaded = try world.context.pool.model(for: world.key)
        let request = try loaded.chatRequest(messages: [.user(prompt)], sampling: greedy(maxTokens).sampler)
        var text = ""
        loaded.generator.run(request) { if case .token(_, let piece) = $0 { text += piece } }
        return (text, request.promptIds.count)
    }

    func greedy(_ maxTokens: Int, model: String? = nil) -> ChatSettings {
        ChatSettings(
            modelPath: model ?? world.key.model,
            sampler: SamplingSettings(temperature: 0, maxTokens: maxTokens, seed: 1))
    }

    /// Starts the service and waits until the world's model is loaded and the pickers are listed.
    func startLoaded() async throws {
        service.start()
        try await inbox.settle("model loaded") {
            $0.chat.model.status == nil && !$0.chat.model.availableModels.isEmpty
        }
    }

    func writeEndpoints(_ text: String) throws {
        let dir = world.paths.configDirectory
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: dir.appendingPathComponent("endpoints"))
    }

    @Test(
        "a saved endpoint is offered in the picker; its streamed answer equals the engine's, with statistics, and the session records it"
    )
    func chatsRemotely() async throws {
        try await withServer { port, _ in
            try writeEndpoints("tiny = http://127.0.0.1:\(port)/v1 tiny\n")
            service.start()
            try await inbox.settle("pickers listed") { wb in
                wb.chat.model.availableModels.contains { $0.name == "tiny (remote)" && $0.path == "remote:tiny" }
            }
            service.handle(.applySettings(greedy(6, model: "remote:tiny")))
            try await inbox.settle("remote chosen") { $0.chat.model.modelPath == "remote:tiny" }
            #expect(inbox.workbench.chat.model.model == "tiny (remote)")
            service.handle(.send("hello"))
            try await inbox.settle("answered") { wb in
                wb.chat.model.messages.count == 2 && !wb.chat.model.isGenerating
            }
            let chat = inbox.workbench.chat.model
            #expect(chat.error == nil, "\(chat.error ?? "")")
            let expected = try engineAnswer("hello", maxTokens: 6)
            #expect(chat.messages[1].text == expected.text)
            let stats = try #require(chat.messages[1].stats)
            #expect(stats.promptTokens == expected.promptTokens)
            #expect(stats.generatedTokens >= 1 && stats.generatedTokens <= 6)
            try await inbox.settle("session saved") { $0.chat.model.sessionID != nil }
            let id = try #require(inbox.workbench.chat.model.sessionID)
            let stored = try ChatSessionStore(store: try ResultStore(url: world.context.database)).load(id: id)
            #expect(stored.modelPath == "remote:tiny")
        }
    }

    @Test("the split view answers A locally and B remotely; equal greedy answers show no divergence")
    func comparesLocalWithRemote() async throws {
        try await withServer { port, _ in
            try writeEndpoints("tiny = http://127.0.0.1:\(port)/v1 tiny\n")
            try await startLoaded()
            var settings = greedy(5)
            settings.compareModelPath = "remote:tiny"
            service.handle(.applySettings(settings))
            service.handle(.send("compare me"))
            try await inbox.settle("answered") { !$0.chat.model.isGenerating && $0.chat.model.messages.count == 2 }
            service.handle(.compareLastPrompt)
            try await inbox.settle("compared") { $0.chat.model.comparison?.isRunning == false }
            let c = try #require(inbox.workbench.chat.model.comparison)
            #expect(c.rightTitle == "B · tiny (remote)")
            #expect(!c.left.isEmpty && c.left.joined() == c.right.joined())
            #expect(c.rightIds.isEmpty && c.firstDivergence == nil)
        }
    }

    @Test(
        "a remote model typed in settings is saved to the endpoints file and chosen; a dead server fails the turn naming the URL"
    )
    func addedInSettings() async throws {
        try await withServer { port, stop in
            try await startLoaded()
            var settings = greedy(4)
            settings.addRemote = "http://127.0.0.1:\(port)/v1"
            service.handle(.applySettings(settings))
            let name = "127.0.0.1:\(port)"
            try await inbox.settle("remote saved and chosen") { $0.chat.model.modelPath == "remote:\(name)" }
            let file = world.paths.configDirectory.appendingPathComponent("endpoints")
            #expect(
                try String(contentsOf: file, encoding: .utf8).contains("\(name) = http://127.0.0.1:\(port)/v1\n"))
            #expect(inbox.workbench.chat.model.availableModels.contains { $0.path == "remote:\(name)" })
            // No model named: the first one /v1/models lists is used.
            service.handle(.send("hello"))
            try await inbox.settle("answered") { !$0.chat.model.isGenerating && $0.chat.model.messages.count == 2 }
            #expect(inbox.workbench.chat.model.messages[1].text == (try engineAnswer("hello", maxTokens: 4)).text)
            await stop()
            service.handle(.send("again"))
            try await inbox.settle("failed") { !$0.chat.model.isGenerating && $0.chat.model.error != nil }
            #expect(inbox.workbench.chat.model.error?.contains("127.0.0.1:\(port)") == true)
        }
    }
}
