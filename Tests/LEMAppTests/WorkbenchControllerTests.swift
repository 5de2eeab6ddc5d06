import Foundation
import LEMCore
import Panels
import Testing

@testable import LEMApp

@Suite("WorkbenchController", .serialized)
struct WorkbenchControllerTests {
    @Test("every intent reaches the one service for its panel")
    func routing() throws {
        let world = try TinyWorld()
        let inbox = FakeInbox()
        let controller = WorkbenchController(
            context: world.context, inbox: inbox,
            mode: .live(model: world.key, compare: nil))
        controller.start()
        defer { controller.stop() }
        #expect(!controller.isDemo)
        try inbox.settle("chat loaded") { $0.chat.model.status == nil && $0.chat.model.modelPath == world.key.model }
        controller.handle(
            .chat(.applySettings(ChatSettings(modelPath: world.key.model, sampler: SamplingSettings(maxTokens: 2)))))
        controller.handle(.chat(.send("hi")))
        try inbox.settle("chat answered") { $0.chat.model.messages.count == 2 && !$0.chat.model.isGenerating }
        controller.handle(.attention(.analyze("hi there")))
        try inbox.settle("attention analysed") { $0.attention.model.layers > 0 }
        controller.handle(.train(.resume))
        try inbox.settle("train answered") { $0.notice?.contains("nothing to resume") == true }
        controller.handle(.bench(.reload))
        // The chat turn above saved its session, so the database may exist by now (created by the
        // chat while the bench reads it): the reload announces what it read or that there is none.
        let answered =
            (try? inbox.settle("bench answered", timeout: 60) { wb in
                ["read ", "no results store"].contains { wb.notice?.hasPrefix($0) == true }
            }) != nil
        #expect(
            answered, "notice: \(inbox.workbench.notice ?? "-"); bench: \(inbox.workbench.bench.model.notice ?? "-")")
        // Chat and attention share one load of the model.
        #expect(world.context.pool.keys == [world.key])
    }

    @Test("in demo mode canned data answers the chat and fills every panel")
    func demo() throws {
        let world = try TinyWorld()
        let inbox = FakeInbox()
        let controller = WorkbenchController(context: world.context, inbox: inbox, mode: .demo)
        controller.start()
        defer { controller.stop() }
        #expect(controller.isDemo)
        try inbox.settle("demo data") { !$0.bench.model.runs.isEmpty && $0.attention.model.layers > 0 }
        controller.handle(.chat(.send("hello")))
        try inbox.settle("demo reply") { $0.chat.model.messages.count == 2 && !$0.chat.model.isGenerating }
        #expect(inbox.workbench.chat.model.messages[1].text.contains("demo data"))
        try inbox.settle("demo training") { $0.train.model.trainLoss.count > 3 }
        controller.handle(.train(.stop))
        try inbox.settle("demo training stopped") { !$0.train.model.isRunning }
    }
}
