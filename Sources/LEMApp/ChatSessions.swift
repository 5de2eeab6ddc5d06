import Foundation
import LEMCore
import LEMEngine
import LEMStore
import Panels

/// Keeps the Chat panel's conversations in the results database: saves the session after every
/// answer, and lists, opens, renames, deletes and exports sessions on request.
///
/// All database work runs on one serial queue; the id of the session being written lives on that
/// queue too, so two quick saves of a new conversation make one row, not two.
public final class ChatSessions: @unchecked Sendable {
    let databaseURL: URL
    let exportDirectory: URL
    let inbox: any WorkbenchInbox
    private let queue = DispatchQueue(label: "lem.chat.sessions", qos: .utility)
    // Touched only on `queue`.
    private var chats: ChatSessionStore?
    private var currentID: Int64?
    private var openError: String?
    private let restoreLock = NSLock()
    // Guarded by `restoreLock`: loads a reopened session's model and adapter (set by the chat service).
    private var restore: (@Sendable (String, String?) -> Void)?

    /// Sessions in the database at `databaseURL`; Markdown exports go to `exportDirectory`
    /// (default: `chats/` beside the database).
    public init(databaseURL: URL, inbox: any WorkbenchInbox, exportDirectory: URL? = nil) {
        self.databaseURL = databaseURL
        self.inbox = inbox
        self.exportDirectory =
            exportDirectory ?? databaseURL.deletingLastPathComponent().appendingPathComponent("chats")
    }

    /// What loads a reopened session's model path (a file, or `remote:<name>`) and adapter.
    var onRestore: (@Sendable (String, String?) -> Void)? {
        get { restoreLock.withLock { restore } }
        set { restoreLock.withLock { restore = newValue } }
    }

    /// The store, opened on first use (on `queue`); nil with a notice when it cannot be opened.
    private func store() -> ChatSessionStore? {
        if let chats { return chats }
        if openError != nil { return nil }
        do {
            chats = ChatSessionStore(store: try ResultStore(url: databaseURL))
            return chats
        } catch {
            let message = "chat sessions are not saved: cannot open \(databaseURL.path): \(error)"
            openError = message
            inbox.post { wb in wb.showNotice(message) }
            return nil
        }
    }

    /// The next answer starts a new session (after a clear).
    func startNew() { queue.async { [self] in currentID = nil } }

    /// Saves the conversation (a snapshot taken on the UI thread after an answer).
    func persist(_ chat: ChatViewModel) {
        let messages = chat.messages.filter { !$0.isStreaming }
        guard messages.contains(where: { $0.role == .assistant }) else { return }
        let title = chat.sessionTitle ?? Self.title(from: messages)
        let session = StoredChatSession(
            title: title, model: chat.model, adapter: chat.adapterPath, modelPath: chat.modelPath,
            systemPrompt: chat.systemPrompt, kernelMode: chat.kernelMode.rawValue,
            sampling: Self.samplingJSON(chat.sampler),
            messages: messages.map { m in
                StoredChatMessage(role: m.role, text: m.text, stats: m.stats, cancelled: m.wasCancelled)
            })
        queue.async { [self] in
            guard let chats = store() else { return }
            do {
                var s = session
                s.id = currentID
                let id = try chats.save(s)
                currentID = id
                inbox.post { wb in wb.chat.model.setSession(id: id, title: title) }
            } catch {
                let message = "cannot save the chat session: \(error)"
                inbox.post { wb in wb.showNotice(message) }
            }
        }
    }

    /// Handles the session intents.
    func handle(_ intent: ChatIntent) {
        switch intent {
        case .listSessions: queue.async { [self] in postList() }
        case .newSession:
            startNew()
            inbox.post { wb in
                wb.chat.model.clear()
                wb.chat.model.setSession(id: nil, title: nil)
            }
        case .openSession(let id):
            run { [self] chats in
                let s = try chats.load(id: id)
                currentID = id
                let restore = onRestore
                inbox.post { wb in
                    // A remote model is not a file; whether it is still configured is the chat's to say.
                    let plan = ChatSessionRestore.plan(for: s, currentModel: wb.chat.model.model) {
                        RemoteEndpoint.name(inModelPath: $0) != nil || FileManager.default.fileExists(atPath: $0)
                    }
                    Self.apply(s, to: &wb.chat.model)
                    if let notice = plan.notice { wb.showNotice(notice) }
                    if let model = plan.modelPath,
                        model != wb.chat.model.modelPath || plan.adapterPath != wb.chat.model.adapterPath
                    {
                        restore?(model, plan.adapterPath)
                    }
                }
            }
        case .renameSession(let id, let title):
            run { [self] chats in
                try chats.rename(id: id, to: title)
                inbox.post { wb in wb.chat.model.renameSession(id, to: title) }
                postList()
            }
        case .deleteSession(let id):
            run { [self] chats in
                try chats.delete(id: id)
                if currentID == id { currentID = nil }
                inbox.post { wb in wb.chat.model.forgetSession(id) }
                postList()
            }
        case .exportSession(let id):
            run { [self] chats in
                let s = try chats.load(id: id)
                let url = exportDirectory.appendingPathComponent("\(Self.slug(s.title))-\(id).md")
                try chats.exportMarkdown(id: id, to: url)
                inbox.post { wb in wb.showNotice("exported “\(s.title)” to \(url.path)") }
            }
        default: break
        }
    }

    /// Runs a database task on the queue, reporting a failure in the footer.
    private func run(_ task: @escaping @Sendable (ChatSessionStore) throws -> Void) {
        queue.async { [self] in
            guard let chats = store() else { return }
            do { try task(chats) } catch {
                let message = "\(error)"
                inbox.post { wb in wb.showNotice(message) }
            }
        }
    }

    private func postList() {
        guard let chats = store() else { return }
        do {
            let list = try chats.list()
            inbox.post { wb in wb.chat.model.setSessions(list) }
        } catch {
            let message = "cannot list chat sessions: \(error)"
            inbox.post { wb in wb.showNotice(message) }
        }
    }

    /// Loads a stored session into the chat view model (the loaded model stays as it is).
    static func apply(_ s: StoredChatSession, to chat: inout ChatViewModel) {
        let messages = s.messages.map { m in
            ChatEntry(role: m.role, text: m.text, stats: m.stats, wasCancelled: m.cancelled)
        }
        chat.restore(
            messages: messages, systemPrompt: s.systemPrompt, kernelMode: KernelMode(rawValue: s.kernelMode) ?? .none,
            sampler: sampling(fromJSON: s.sampling), id: s.id, title: s.title)
    }

    /// A title from the first prompt: its first line, at most 48 characters.
    static func title(from messages: [ChatEntry]) -> String {
        let first = messages.first { $0.role == .user }?.text ?? "chat"
        let line = first.split(separator: "\n").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "chat"
        return line.count > 48 ? String(line.prefix(47)) + "…" : (line.isEmpty ? "chat" : line)
    }

    /// A file-name-safe form of a title.
    static func slug(_ title: String) -> String {
        let s = title.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        let collapsed = s.split(separator: "-").joined(separator: "-")
        return collapsed.isEmpty ? "chat" : String(collapsed.prefix(40))
    }

    /// A session's sampling as stored (`temperature`, `top_p`, `top_k`, `max_tokens`, `seed`).
    static func samplingJSON(_ s: SamplingSettings) -> String {
        var o: JSONObject = [
            "temperature": .double(s.temperature), "top_p": .double(s.topP), "top_k": .int(s.topK),
            "max_tokens": .int(s.maxTokens)
        ]
        if let seed = s.seed { o["seed"] = seed <= UInt64(Int.max) ? .int(Int(seed)) : .double(Double(seed)) }
        return JSONValue.object(o).jsonText(sortedKeys: false)
    }

    /// The sampling a stored session names, over the chat defaults; nil when unreadable.
    static func sampling(fromJSON text: String) -> SamplingSettings? {
        guard let o = (try? JSONValue.parse(text))?.object else { return nil }
        var s = SamplingSettings.chat
        if let v = o["temperature"]?.double { s.temperature = v }
        if let v = o["top_p"]?.double { s.topP = v }
        if let v = o["top_k"]?.int { s.topK = v }
        if let v = o["max_tokens"]?.int { s.maxTokens = v }
        switch o["seed"] {
        case .int(let v)? where v >= 0: s.seed = UInt64(v)
        case .double(let v)? where v >= 0 && v < 1.8e19: s.seed = UInt64(v)
        default: s.seed = nil
        }
        return s
    }
}
