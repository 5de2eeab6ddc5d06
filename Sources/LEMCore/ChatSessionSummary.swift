/// One stored chat session as listed: what the store's list query returns and what the chat
/// panel's sessions dialog shows.
public struct ChatSessionSummary: Hashable, Sendable {
    /// The session's row id.
    public var id: Int64
    public var title: String
    /// The model's display name.
    public var model: String
    public var messageCount: Int
    /// Seconds since 1970 of the last change.
    public var updatedAt: Double

    /// Creates a summary.
    public init(id: Int64, title: String, model: String, messageCount: Int, updatedAt: Double) {
        self.id = id
        self.title = title
        self.model = model
        self.messageCount = messageCount
        self.updatedAt = updatedAt
    }
}
