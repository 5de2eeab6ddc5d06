import Foundation
import LEMCore
import LEMEngine
import Panels
import Testing

@testable import LEMApp
@testable import LEMScoring

@Suite("ChatService", .serialized)
struct ChatServiceTests: ServiceSuite {
    let harness: ServiceHarness<ChatService>

    init() throws { harness = try Self.makeHarness() }

    /// A chat service on a fresh tiny world, saving sessions in its database.
    static func makeHarness() throws -> ServiceHarness<ChatService> {
        try ServiceHarness { world, inbox in
            ChatService(
                context: world.context, inbox: inbox, model: world.key,
                catalog: ModelCatalog(modelsDirectory: world.paths.models, adapterRoots: world.paths.adapterRoots),
                sessions: ChatSessions(databaseURL: world.context.database, inbox: inbox))
        }
    }

    /// Starts the service and waits for the model to load.
    func started() throws {
        service.start()
        try inbox.settle("model loaded") { $0.chat.model.status == nil && $0.chat.model.modelPath == world.key.model }
        try inbox.settle("pickers listed") { !$0.chat.model.availableModels.isEmpty }
    }

    /// Waits until the chat holds `messages` messages, the last one finished with statistics.
    func answered(_ label: String, messages: Int) throws {
        try inbox.settle(label) { wb in
            let chat = wb.chat.model
            return chat.messages.count == messages && !chat.isGenerating && chat.messages[messages - 1].stats != nil
        }
    }

    /// Starts the service, sends "hello" under greedy settings and waits for the answer.
    func helloAnswered(_ label: String, maxTokens: Int) throws {
        try started()
        service.handle(.applySettings(greedy(maxTokens)))
        service.handle(.send("hello"))
        try answered(label, messages: 2)
    }

    func greedy(_ maxTokens: Int) -> ChatSettings {
        var s = ChatSettings(modelPath: world.key.model, sampler: SamplingSettings(maxTokens: maxTokens, seed: 1))
        s.systemPrompt = ""
        return s
    }

    @Test("a chat turn streams the greedy answer the engine gives, with its statistics, and is saved as a session")
    func chatTurn() throws {
        try helloAnswered("answer finished", maxTokens: 6)
        let chat = inbox.workbench.chat.model
        #expect(chat.messages[0] == ChatEntry(role: .user, text: "hello"))
        let stats = try #require(chat.messages[1].stats)
        #expect(stats.generatedTokens >= 1 && stats.generatedTokens <= 6)
        // The same prompt through the engine directly gives the same text.
        let loaded = try world.context.pool.model(for: world.key)
        let request = try loaded.chatRequest(
            messages: [.user("hello")], sampling: SamplingSettings(maxTokens: 6, seed: 1))
        var expected = ""
        loaded.generator.run(request) { if case .token(_, let piece) = $0 { expected += piece } }
        #expect(chat.messages[1].text == expected)
        #expect(stats.promptTokens == request.promptIds.count)
        try inbox.settle("session saved") { $0.chat.model.sessionID != nil }
        #expect(inbox.workbench.chat.model.sessionTitle == "hello")
    }

    @Test("turn 2 restores the conversation so far from the pool's prefix cache and answers as a cold run")
    func secondTurnReusesPrefix() throws {
        try helloAnswered("first answer", maxTokens: 5)
        let prefixes = try #require(world.context.pool.prefixCache)
        let before = prefixes.statistics.reusedTokens
        service.handle(.send("and again"))
        try answered("second answer", messages: 4)
        let chat = inbox.workbench.chat.model
        let loaded = try world.context.pool.model(for: world.key)
        // At least the first turn's prompt (bar the token the reply's text may merge with) came
        // from the cache rather than being computed again.
        let first = try loaded.promptIds(messages: [.user("hello")])
        #expect(prefixes.statistics.reusedTokens - before >= first.count - 1)
        var request = try loaded.chatRequest(
            messages: [.user("hello"), .assistant(chat.messages[1].text), .user("and again")],
            sampling: SamplingSettings(maxTokens: 5, seed: 1))
        request.reusePrefix = false
        var cold = ""
        loaded.generator.run(request) { if case .token(_, let piece) = $0 { cold += piece } }
        #expect(chat.messages[3].text == cold)
    }

    @Test("the model is loaded once: the pool hands the same weights to a second consumer")
    func sharedLoad() throws {
        try started()
        let a = try world.context.pool.model(for: world.key)
        let b = try world.context.pool.model(for: world.key)
        #expect(a === b)
        #expect(world.context.pool.keys == [world.key])
    }

    @Test("regenerate answers the last prompt again; a second prompt while generating is refused")
    func regenerateAndRefuse() throws {
        try started()
        service.handle(.applySettings(greedy(4)))
        service.handle(.send("one"))
        service.handle(.send("two"))  // arrives while "one" is answered
        try inbox.settle("first answer") { !$0.chat.model.isGenerating && $0.chat.model.messages.count == 2 }
        #expect(inbox.workbench.chat.model.messages.map(\.text).first == "one")
        let first = inbox.workbench.chat.model.messages[1].text
        service.handle(.regenerate)
        try inbox.settle("regenerated") { wb in
            !wb.chat.model.isGenerating && wb.chat.model.messages.count == 2 && wb.chat.model.messages[1].stats != nil
        }
        // Greedy with the same seed: the same answer again, and still one user message.
        #expect(inbox.workbench.chat.model.messages.map(\.role) == [.user, .assistant])
        #expect(inbox.workbench.chat.model.messages[1].text == first)
    }

    @Test("cancel stops the generation before its token budget and marks the answer stopped")
    func cancel() throws {
        try started()
        service.handle(.applySettings(greedy(100_000)))
        service.handle(.send("go on forever"))
        try inbox.settle("generating") { wb in (wb.chat.model.messages.last?.text.count ?? 0) > 0 }
        service.handle(.cancel)
        try inbox.settle("stopped") { !$0.chat.model.isGenerating }
        let answer = try #require(inbox.workbench.chat.model.messages.last)
        #expect(answer.wasCancelled)
        #expect((answer.stats?.generatedTokens ?? 0) < 100_000)
    }

    @Test("switching the model loads it in the background and shows it; a load failure is shown, not 'still loading'")
    func modelSwitch() throws {
        try started()
        let other = world.root.appendingPathComponent("models/other")
        try FileManager.default.copyItem(at: world.model, to: other)
        var settings = greedy(3)
        settings.modelPath = other.path
        service.handle(.applySettings(settings))
        try inbox.settle("switched") { $0.chat.model.modelPath == other.path && $0.chat.model.status == nil }
        #expect(service.activeKey == ModelKey(model: other))
        #expect(inbox.workbench.chat.model.model == "other")
        service.handle(.send("hi"))
        try inbox.settle("answered on the new model") {
            !$0.chat.model.isGenerating && $0.chat.model.messages.count == 2
        }
        #expect(world.context.pool.cached(ModelKey(model: other)) != nil)

        settings.modelPath = world.root.appendingPathComponent("models/missing").path
        service.handle(.applySettings(settings))
        try inbox.settle("load failed") { $0.chat.model.error != nil }
        #expect(inbox.workbench.chat.model.error?.contains("cannot load") == true)
        service.handle(.send("hello?"))
        try inbox.settle("turn failed") { !$0.chat.model.isGenerating && $0.chat.model.messages.count == 4 }
        #expect(inbox.workbench.chat.model.error?.contains("still loading") == false)
        // The prompt's error is the load's own: which model, and why.
        #expect(
            inbox.workbench.chat.model.error?.contains("cannot load missing") == true,
            "\(inbox.workbench.chat.model.error ?? "")")
    }

    @Test("kernel modes place the kernel as the system prompt or around the newest user turn")
    func kernelPlacement() throws {
        let kernel = EthicsKernel(
            text: "KERNEL", axioms: [.init(id: 1, key: "k", name: "One", statement: "S.", guidance: "G.")])
        var chat = ChatViewModel()
        chat.beginTurn(prompt: "first")
        chat.appendToken("reply")
        chat.finishTurn(stats: nil)
        chat.beginTurn(prompt: "second")
        chat.apply(ChatSettings(systemPrompt: "be brief", kernelMode: .system))
        #expect(
            try ChatService.templateMessages(for: chat, kernel: kernel) == [
                .system("KERNEL"), .user("first"), .assistant("reply"), .user("second")
            ])
        chat.setKernelMode(.sandwich)
        let sandwich = try ChatService.templateMessages(for: chat, kernel: kernel)
        #expect(sandwich.first == .system("be brief"))
        #expect(sandwich.last?.content == kernel.axiomsText + "\n\nsecond\n\nKERNEL")
        chat.setKernelMode(.none)
        #expect(try ChatService.templateMessages(for: chat, kernel: nil).last == .user("second"))
        chat.setKernelMode(.system)
        #expect(throws: AppError.self) { try ChatService.templateMessages(for: chat, kernel: nil) }
    }

    @Test("the split view answers the last prompt with A and B, same seed, and marks no divergence for equal models")
    func compare() throws {
        try started()
        service.handle(.applySettings(greedy(5)))
        service.handle(.send("compare me"))
        try inbox.settle("answered") { !$0.chat.model.isGenerating && $0.chat.model.messages.count == 2 }
        service.handle(.compareLastPrompt)
        try inbox.settle("compared") { $0.chat.model.comparison?.isRunning == false }
        let c = try #require(inbox.workbench.chat.model.comparison)
        #expect(!c.left.isEmpty && c.leftIds == c.rightIds)
        #expect(c.firstDivergence == nil)
        #expect(inbox.workbench.notice?.contains("same configuration") == true)
    }

    @Test("clear empties the conversation and starts a new session; sessions list, rename, reopen and delete")
    func sessions() throws {
        try started()
        service.handle(.applySettings(greedy(3)))
        service.handle(.send("keep me"))
        try inbox.settle("saved") { $0.chat.model.sessionID != nil }
        let id = try #require(inbox.workbench.chat.model.sessionID)
        service.handle(.clear)
        try inbox.settle("cleared") { $0.chat.model.messages.isEmpty && $0.chat.model.sessionID == nil }
        service.handle(.renameSession(id, "renamed"))
        service.handle(.listSessions)
        try inbox.settle("listed") { $0.chat.model.sessions.first?.title == "renamed" }
        service.handle(.openSession(id))
        try inbox.settle("reopened") { $0.chat.model.sessionID == id && $0.chat.model.messages.count == 2 }
        #expect(inbox.workbench.chat.model.messages[0].text == "keep me")
        service.handle(.deleteSession(id))
        try inbox.settle("deleted") { $0.chat.model.sessions.isEmpty && $0.chat.model.sessionID == nil }
    }
}
