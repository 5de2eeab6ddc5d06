import Foundation
import LEMCore

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
    public func messages(for prompt: String, mode: KernelMode) -> [ChatMessage] {
        switch mode {
        case .none:
            return [.user(prompt)]
        case .system:
            return [.system(text), .user(prompt)]
        case .sandwich:
            return [.user(axiomsText + "\n\n" + prompt + "\n\n" + text)]
        }
    }
}
