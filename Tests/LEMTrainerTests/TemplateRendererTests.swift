import Foundation
import LEMEngine
import TestSupport
import Testing

@testable import LEMTrainer

/// The real tokenizer + chat template path on the LEM training set (SmolLM2's ChatML template).
@Suite struct TemplateRendererTests {
    @Test(
        .enabled(if: TestPaths.smolLM2 != nil && TestPaths.sharedLEM != nil, "SmolLM2 or ../shared/lem not installed"))
    func maskPromptOffsetsOnLEMData() throws {
        let renderer = try TemplateRenderer(model: TestPaths.smolLM2!)
        let split = try DatasetSplit(file: TestPaths.sharedLEM!.appendingPathComponent("training/train.jsonl"))
        let examples = try split.tokenize(with: renderer, maskPrompt: true)
        #expect(examples.count == 160)
        let imEnd = try #require(renderer.tokenizer.tokenId("<|im_end|>"))
        for (example, record) in zip(examples, split.records) {
            guard case .chat(let messages) = record.example else {
                Issue.record("line \(record.line) not chat")
                continue
            }
            let prompt = try renderer.chatTokens(Array(messages.dropLast()), addGenerationPrompt: true)
            // The rendered prompt (ending in the assistant header) is a prefix of the conversation,
            // so the loss starts exactly at the reply.
            #expect(Array(example.tokens.prefix(example.offset)) == prompt, "line \(record.line)")
            #expect(example.offset > 0 && example.offset < example.tokens.count)
            #expect(example.tokens.contains(imEnd))
        }
        let unmasked = try split.tokenize(with: renderer, maskPrompt: false)
        #expect(unmasked.map(\.tokens) == examples.map(\.tokens))
        #expect(unmasked.allSatisfy { $0.offset == 0 })
    }
}
