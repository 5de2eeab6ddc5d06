import Foundation
import LEMCore
import Testing

@testable import LEMEval
@testable import LEMScoring

/// `lem data sandwich`: each prompt in the sandwich kernel mode's user turn, its answer (if the
/// file gives one) as the assistant turn, as mlx_lm chat lines.
@Suite struct SandwichDataTests {
    let kernel = EthicsKernel(
        text: "Protect consciousness.",
        axioms: [.init(id: 1, key: "prime", name: "Prime", statement: "Protect.", guidance: "Always.")])

    func temp(_ name: String, _ text: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lem-sandwich-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test func linesHoldTheSandwichedPromptAndTheAnswer() throws {
        let file = try temp(
            "p.jsonl",
            #"""
            {"prompt": "Share a secret?", "response": "It depends."}
            {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "Why?"}, {"role": "assistant", "content": "Because."}]}
            Is honesty right?
            """#)
        let prompts = try ProbePrompt.load(file: file)
        #expect(prompts.map(\.answer) == ["It depends.", "Because.", nil])
        let lines = SandwichData.text(prompts, kernel: kernel).split(separator: "\n").map(String.init)
        #expect(
            lines[0]
                == #"{"messages":[{"role":"user","content":"Axioms:\n1. Prime: Protect. Always.\n\nShare a secret?\n\n"#
                + #"Protect consciousness."},{"role":"assistant","content":"It depends."}]}"#)
        // The user turn is exactly what the sandwich kernel mode sends.
        let user = try #require(JSONValue.parse(lines[1]).object?["messages"]?.array?.first?.object?["content"]?.string)
        #expect([ChatMessage.user(user)] == kernel.messages(for: "Why?", mode: .sandwich))
        #expect(try JSONValue.parse(lines[2]).object?["messages"]?.array?.count == 1)
    }

    @Test func theKernelIsAFolderOrItsKernelMd() throws {
        let md = try temp("kernel.md", "Be kind.\n")
        try Data(#"[{"id": 1, "key": "k", "name": "K", "statement": "S.", "guidance": "G."}]"#.utf8).write(
            to: md.deletingLastPathComponent().appendingPathComponent("axioms.json"))
        #expect(try SandwichData.kernel(at: md).text == "Be kind.")
        #expect(try SandwichData.kernel(at: md.deletingLastPathComponent()).axioms.count == 1)
        let other = md.deletingLastPathComponent().appendingPathComponent("notes.md")
        try Data("x".utf8).write(to: other)
        #expect(
            throws: LocatedError(other.path, "expected the kernel folder or its kernel.md (with axioms.json beside it)")
        ) {
            try SandwichData.kernel(at: other)
        }
        #expect(throws: LocatedError.self) { try SandwichData.kernel(at: other.appendingPathComponent("missing")) }
    }
}
