/// Who wrote a chat message.
///
/// An open set on purpose: chat templates and training data carry roles beyond the three every
/// model knows (`tool`, `developer`, `ipython`), and a template decides what to do with them.
public struct ChatRole: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public let rawValue: String

    /// A role named `rawValue`.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A role from a string literal (`"user"`).
    public init(stringLiteral value: String) { rawValue = value }

    public static let system: ChatRole = "system"
    public static let user: ChatRole = "user"
    public static let assistant: ChatRole = "assistant"
    public static let tool: ChatRole = "tool"

    public var description: String { rawValue }
}

/// One message of a conversation: what chat templates render, benchmarks and judges send, and
/// chat sessions store.
public struct ChatMessage: Hashable, Sendable, Codable {
    public var role: ChatRole
    public var content: String

    /// Creates a message.
    public init(role: ChatRole, content: String) {
        self.role = role
        self.content = content
    }

    /// A system message.
    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: .system, content: content) }
    /// A user message.
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: .user, content: content) }
    /// An assistant message.
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: .assistant, content: content) }
}
