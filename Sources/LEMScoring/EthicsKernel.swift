import Foundation

/// How the ethics kernel is placed around a prompt.
public enum KernelMode: String, Sendable, CaseIterable, Codable {
    /// The prompt alone.
    case none
    /// The kernel text as the system message, the prompt as the user turn.
    case system
    /// One user turn: the axioms, then the prompt, then the kernel text.
    case sandwich
}

/// One chat message as handed to a chat template: a role (`system`, `user`, `assistant`) and text.
public struct PromptMessage: Sendable, Equatable, Codable {
    /// The speaker's role.
    public var role: String
    /// The message text.
    public var content: String

    /// Creates a message.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// The project's ethics kernel: the kernel text and the five axioms, and the one place that
/// builds the messages for each `KernelMode`, shared by the benchmark runner and chat.
public struct EthicsKernel: Sendable, Equatable {
    /// One axiom.
    public struct Axiom: Sendable, Codable, Equatable {
        /// 1-based position.
        public var id: Int
        /// Stable key, e.g. `prime_imperative`.
        public var key: String
        /// Display name.
        public var name: String
        /// The axiom itself.
        public var statement: String
        /// How it is applied.
        public var guidance: String

        /// Creates an axiom.
        public init(id: Int, key: String, name: String, statement: String, guidance: String) {
            self.id = id
            self.key = key
            self.name = name
            self.statement = statement
            self.guidance = guidance
        }
    }

    /// The kernel text (`kernel/kernel.md`).
    public var text: String
    /// The axioms (`kernel/axioms.json`).
    public var axioms: [Axiom]

    /// Creates a kernel.
    public init(text: String, axioms: [Axiom]) {
        self.text = text
        self.axioms = axioms
    }

    /// Reads `kernel.md` and `axioms.json` from a directory; errors name the file.
    public static func load(directory: URL) throws -> EthicsKernel {
        let textURL = directory.appendingPathComponent("kernel.md")
        let axiomsURL = directory.appendingPathComponent("axioms.json")
        let text: String
        do { text = try String(contentsOf: textURL, encoding: .utf8) } catch {
            throw PatternError(message: "\(textURL.path): cannot read the kernel text")
        }
        do {
            let axioms = try JSONDecoder().decode([Axiom].self, from: Data(contentsOf: axiomsURL))
            return EthicsKernel(text: text.trimmingCharacters(in: .whitespacesAndNewlines), axioms: axioms)
        } catch {
            throw PatternError(message: "\(axiomsURL.path): expected [{id, key, name, statement, guidance}] (\(error))")
        }
    }

    /// The axioms as a numbered block of text.
    public var axiomsText: String {
        "Axioms:\n" + axioms.map { "\($0.id). \($0.name): \($0.statement) \($0.guidance)" }.joined(separator: "\n")
    }

    /// The messages for `prompt` under `mode`.
    ///
    /// `none` → [user prompt]; `system` → [system kernel, user prompt]; `sandwich` → one user turn
    /// holding the axioms, a blank line, the prompt, a blank line and the kernel text.
    public func messages(for prompt: String, mode: KernelMode) -> [PromptMessage] {
        switch mode {
        case .none:
            return [PromptMessage(role: "user", content: prompt)]
        case .system:
            return [PromptMessage(role: "system", content: text), PromptMessage(role: "user", content: prompt)]
        case .sandwich:
            return [PromptMessage(role: "user", content: axiomsText + "\n\n" + prompt + "\n\n" + text)]
        }
    }
}
