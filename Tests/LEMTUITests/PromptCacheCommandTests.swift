import Foundation
import TestSupport
import Testing

/// `lem cache-prompt`, `lem generate --prompt-cache-file`, `lem cache inspect` and `lem cache ls`
/// on the built binary.
@Suite struct PromptCacheCommandTests {
    static let lem = LemCommand.binary

    /// Runs `body` with the installed SmolLM2's path and an environment whose `LEM_HOME` is a
    /// fresh folder named after `prefix` (removed afterwards), on two threads.
    func withSmolLM2(_ prefix: String, _ body: (_ model: String, _ environment: [String: String]) throws -> Void) throws
    {
        let model = try #require(TestPaths.smolLM2).path
        try TemporaryFolder.with(prefix) { home in try body(model, ["LEM_HOME": home.path, "LEM_THREADS": "2"]) }
    }

    /// Continuing a saved prompt gives the tokens a fresh run of prompt + continuation gives, on
    /// SmolLM2 (the default model) with its default 8-bit activations.
    @Test(.enabled(if: lem != nil && TestPaths.smolLM2 != nil, "lem or the default SmolLM2 model is missing"))
    func generateContinuesASavedPrompt() throws {
        try withSmolLM2("lem-pc-cli") { model, environment in
            let prompt = "1,504,3032,282,253,1345,28,314,1029,30"
            let saved = try LemCommand.run(
                ["cache-prompt", "--model", model, "--ids", prompt, "--prompt-cache-file", "kernel.safetensors"],
                environment: environment)
            #expect(saved.status == 0, "stderr: \(saved.err)")
            #expect(saved.err.contains("cached 10 tokens"))
            let continued = try LemCommand.run(
                [
                    "generate", "--model", model, "--ids", "198,50,28", "--prompt-cache-file", "kernel.safetensors",
                    "--max-tokens", "12", "--print-ids"
                ], environment: environment)
            let fresh = try LemCommand.run(
                ["generate", "--model", model, "--ids", prompt + ",198,50,28", "--max-tokens", "12", "--print-ids"],
                environment: environment)
            #expect(continued.status == 0 && fresh.status == 0, "stderr: \(continued.err) \(fresh.err)")
            #expect(continued.out == fresh.out && fresh.out.split(separator: ",").count == 12, "\(continued.out)")

            let listed = try LemCommand.run(["cache", "ls"], environment: environment)
            #expect(listed.out.contains("kernel.safetensors") && listed.out.contains("10 tokens"), "\(listed.out)")
            let inspected = try LemCommand.run(["cache", "inspect", "kernel.safetensors"], environment: environment)
            #expect(inspected.status == 0, "stderr: \(inspected.err)")
            #expect(inspected.out.contains("positions   10 over 30 layers"), "\(inspected.out)")
            #expect(
                inspected.out.contains("lem.weights_sha256") && !inspected.out.contains("differs"), "\(inspected.out)")
        }
    }

    /// `lem chat --prompt-cache-file`: a saved system prompt serves the turns that start with it.
    @Test(.enabled(if: lem != nil && TestPaths.smolLM2 != nil, "lem or the default SmolLM2 model is missing"))
    func chatTurnsContinueASavedSystemPrompt() throws {
        try withSmolLM2("lem-pc-chat") { model, environment in
            let system = "You are a careful assistant who answers in one short sentence."
            let saved = try LemCommand.run(
                [
                    "cache-prompt", "--model", model, "--chat", "--system", system, "--prompt", "Hi",
                    "--prompt-cache-file", "system.safetensors"
                ], environment: environment)
            #expect(saved.status == 0, "stderr: \(saved.err)")
            let chat = try LemCommand.run(
                [
                    "chat", "--model", model, "--system", system, "--prompt-cache-file", "system.safetensors",
                    "--max-tokens", "4"
                ], environment: environment, input: "Name a colour.\n/quit\n")
            #expect(chat.status == 0, "stderr: \(chat.err)")
            #expect(chat.err.contains("prompt tokens from system.safetensors"), "\(chat.err)")
            // The system turn and the user header come from the file: ≥ 15 tokens reused.
            let reused = chat.err.split(separator: "(").compactMap { part -> Int? in
                guard part.contains(" reused)") else { return nil }
                return Int(part.prefix { $0.isNumber })
            }
            #expect((reused.first ?? 0) >= 15, "\(chat.err)")
        }
    }

    /// A cache made for one model is refused by another, naming the file and what differs.
    @Test(.enabled(if: lem != nil, "lem is not built: run swift build"))
    func anotherModelRefusesTheFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lem-pc-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        let made = try LemCommand.run([
            "cache-prompt", "--model", TestPaths.fixture("engine/gemma3_tiny-mlx4").path, "--ids", "1,5,9,13",
            "--prompt-cache-file", file.path
        ])
        #expect(made.status == 0, "stderr: \(made.err)")
        let refused = try LemCommand.run([
            "generate", "--model", TestPaths.fixture("engine/gemma3_tiny-mlx8").path, "--ids", "7,8",
            "--prompt-cache-file", file.path, "--print-ids"
        ])
        #expect(refused.status == 1)
        #expect(refused.err.contains(file.lastPathComponent) && refused.err.contains("model weights"), "\(refused.err)")
    }
}
