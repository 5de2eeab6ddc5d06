import Foundation
import LEMCore
import LEMEngine
import Panels
import Testing

@testable import LEMApp

@Suite("AttentionService", .serialized)
struct AttentionServiceTests {
    let world: TinyWorld
    let inbox = FakeInbox()

    init() throws { world = try TinyWorld() }

    func loaded(compare: ModelKey? = nil) throws -> AttentionService {
        let service = AttentionService(context: world.context, inbox: inbox, model: world.key, compare: compare)
        service.start()
        try inbox.settle("loaded") { $0.attention.model.status == nil }
        return service
    }

    @Test("capturing a typed prompt shows every layer and head and the selected head's causal map")
    func capture() throws {
        let service = try loaded()
        service.handle(.analyze("the cat sat"))
        try inbox.settle("analysed") { $0.attention.model.layers > 0 && $0.attention.model.status == nil }
        let m = inbox.workbench.attention.model
        let loaded = try world.context.pool.model(for: world.key)
        let ids = try loaded.encode("the cat sat")
        #expect(m.tokens.count == ids.count)
        #expect(m.layers == loaded.config.numHiddenLayers && m.heads == loaded.config.numAttentionHeads)
        #expect(m.stats.count == m.layers * m.heads)
        let t = m.tokens.count
        #expect(m.weights.count == t * t)
        for q in 0..<t {
            let row = m.weights[(q * t)..<(q * t + t)]
            #expect(abs(row.reduce(0, +) - 1) < 1e-4)
            #expect(row.dropFirst(q + 1).allSatisfy { $0 == 0 })
        }
        service.handle(.selectHead(layer: 1, head: 0))
        try inbox.settle("head selected") { $0.attention.model.layer == 1 }
        service.handle(.selectStatistic(HeadStatistics.names.last!))
        try inbox.settle("statistic") { $0.attention.model.statistic == HeadStatistics.names.last! }
        #expect(inbox.workbench.attention.model.prompt == "the cat sat")
    }

    @Test("with no chat prompt the panel says so; a chat turn is analysed through the chat template")
    func chatTurn() throws {
        let service = try loaded()
        service.handle(.analyze(""))
        try inbox.settle("no prompt") { $0.attention.model.status?.contains("no chat prompt") == true }
        service.handle(.analyzeTurn(user: "hi", answer: "hello"))
        try inbox.settle("analysed") { $0.attention.model.layers > 0 && $0.attention.model.status == nil }
        let expected = try world.context.pool.model(for: world.key).promptIds(
            messages: [.user("hi"), .assistant("hello")], addGenerationPrompt: false)
        #expect(inbox.workbench.attention.model.tokens.count == expected.count)
    }

    @Test("a model that failed to load is reported by a capture as the load's failure, not as 'not loaded'")
    func loadFailure() throws {
        let missing = ModelKey(model: world.root.appendingPathComponent("models/missing"))
        let service = AttentionService(context: world.context, inbox: inbox, model: missing, compare: nil)
        service.start()
        try inbox.settle("load failed") { $0.attention.model.status?.hasPrefix("error:") == true }
        #expect(inbox.workbench.attention.model.status?.contains("cannot load missing") == true)
        service.handle(.analyze("the cat"))
        try inbox.settle("capture refused") {
            $0.attention.model.status?.hasPrefix("error:") == true
                && $0.attention.model.status != AttentionViewModel.capturingStatus
        }
        let status = inbox.workbench.attention.model.status ?? ""
        #expect(status.contains("cannot load missing") && !status.contains("not loaded"), "\(status)")
    }

    @Test("against a second (here identical) model the difference view shows zero change")
    func compare() throws {
        let copy = world.root.appendingPathComponent("models/copy")
        try FileManager.default.copyItem(at: world.model, to: copy)
        let service = try loaded(compare: ModelKey(model: copy))
        #expect(inbox.workbench.attention.model.compareLabel == "copy")
        service.handle(.analyze("one two"))
        try inbox.settle("analysed") { $0.attention.model.layers > 0 && $0.attention.model.status == nil }
        service.handle(.toggleDifference)
        try inbox.settle("difference") { $0.attention.model.showsDifference }
        let m = inbox.workbench.attention.model
        #expect(!m.ranked.isEmpty && m.weights.allSatisfy { $0 == 0 })
    }
}
