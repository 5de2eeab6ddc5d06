import Foundation

/// What reopening a stored chat session does with its model and adapter: load them again when
/// their files are still there, otherwise keep the current model and say why.
public struct ChatSessionRestore: Sendable, Equatable {
    /// The model path to load, nil to keep the current model.
    public var modelPath: String?
    /// The adapter path to load with `modelPath` (nil: none).
    public var adapterPath: String?
    /// A status line for the user when something could not be restored.
    public var notice: String?

    /// Creates a plan.
    public init(modelPath: String?, adapterPath: String?, notice: String?) {
        self.modelPath = modelPath
        self.adapterPath = adapterPath
        self.notice = notice
    }

    /// The plan for `session`, checking files with `exists` (the file system by default).
    public static func plan(
        for session: StoredChatSession, currentModel: String,
        exists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
    ) -> ChatSessionRestore {
        guard let path = session.modelPath else {
            let same = session.model == currentModel
            return ChatSessionRestore(
                modelPath: nil, adapterPath: nil,
                notice: same
                    ? nil
                    : "“\(session.title)” was saved without its model's path (\(session.model)); "
                        + "it continues on \(currentModel)")
        }
        guard exists(path) else {
            return ChatSessionRestore(
                modelPath: nil, adapterPath: nil,
                notice: "the model of “\(session.title)” is gone (\(path)); it continues on \(currentModel)")
        }
        guard let adapter = session.adapter else {
            return ChatSessionRestore(modelPath: path, adapterPath: nil, notice: nil)
        }
        guard exists(adapter) else {
            return ChatSessionRestore(
                modelPath: path, adapterPath: nil,
                notice:
                    "the adapter of “\(session.title)” is gone (\(adapter)); it continues on \(session.model) without it"
            )
        }
        return ChatSessionRestore(modelPath: path, adapterPath: adapter, notice: nil)
    }
}
