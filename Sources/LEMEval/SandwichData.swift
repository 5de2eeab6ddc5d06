import Foundation
import LEMCore
import LEMScoring

/// Training data in the sandwich layout: each prompt wrapped in the axioms and the kernel text in
/// one user turn, exactly as the `sandwich` kernel mode sends it (`EthicsKernel.messages`), with
/// the prompt's answer as the assistant turn when the prompts file gives one.
///
/// The research embeds the axioms through the probes rather than a system prompt; this is that
/// layout as mlx_lm chat lines (`{"messages": [{"role", "content"}, …]}`).
public enum SandwichData {
    /// The chat line for one prompt: the sandwiched user turn, then the answer if there is one.
    public static func line(_ prompt: ProbePrompt, kernel: EthicsKernel) -> String {
        var messages = kernel.messages(for: prompt.prompt, mode: .sandwich)
        if let answer = prompt.answer { messages.append(.assistant(answer)) }
        return chatLine(messages)
    }

    /// An mlx_lm chat line (`{"messages": [{"role", "content"}, …]}`, keys in that order).
    public static func chatLine(_ messages: [ChatMessage]) -> String {
        // JSONObject literals keep their order (a Dictionary would not).
        let turns = messages.map { m -> JSONValue in
            .object(["role": .string(m.role.rawValue), "content": .string(m.content)] as JSONObject)
        }
        return JSONValue.object(["messages": .array(turns)] as JSONObject).jsonText(sortedKeys: false)
    }

    /// The lines for `prompts`, one per prompt, each ending in a newline.
    public static func text(_ prompts: [ProbePrompt], kernel: EthicsKernel) -> String {
        prompts.map { line($0, kernel: kernel) + "\n" }.joined()
    }

    /// Loads the kernel from `path`: its folder (`kernel.md` + `axioms.json`) or its `kernel.md`
    /// (with `axioms.json` beside it).
    public static func kernel(at path: URL) throws -> EthicsKernel {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isFolder) else {
            throw LocatedError(path.path, "no such kernel file or folder")
        }
        if isFolder.boolValue { return try EthicsKernel.load(directory: path) }
        guard path.lastPathComponent == "kernel.md" else {
            throw LocatedError(path.path, "expected the kernel folder or its kernel.md (with axioms.json beside it)")
        }
        return try EthicsKernel.load(directory: path.deletingLastPathComponent())
    }
}
