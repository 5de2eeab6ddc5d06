import Foundation
import LEMStore
import Panels

/// Keeps the Chat panel's conversations in the results database: saves the session after every
/// answer, and lists, opens, renames, deletes and exports sessions on request.
///
/// All database work runs on one serial queue; the id of the session being written lives on that
/// queue too, so two quick saves of a new conversation make one row, not two.
final class ChatSessionKeeper: WorkbenchSource, @unchecked Sendable {
    var name: String { "chat sessions" }
    var isDemo: Bool { false }
    let databaseURL: URL
    let exportDirectory: URL
    private let queue = DispatchQueue(label: "lem.workbench.sessions", qos: .utility)
    // Touched only on `queue`.
    private var chats: ChatSessionStore?
    private var currentID: Int64?
    private var openError: String?
    private let restorerLock = NSLock()
    // Guarded by `restorerLock`: loads a reopened session's model and adapter (set by the chat engine).
    private var restorer: (@Sendable (_ model: String, _ adapter: String?, _ inbox: EventInbox) -> Void)?

    init(databaseURL: URL, exportDirectory: URL? = nil) {
        self.databaseURL = databaseURL
        self.exportDirectory = exportDirectory ?? databaseURL.deletingLastPathComponent().appendingPathComponent("chats")
    }

    /// Sets what loads a reopened session's model and adapter (the chat engine calls this once).
    func setRestorer(_ body: @escaping @Sendable (_ model: String, _ adapter: String?, _ inbox: EventInbox) -> Void) {
        restorerLock.withLock { restorer = body }
    }

    func start(inbox: EventInbox) {}
    func stop() {}

    /// The store, opened on first use (on `queue`); nil with a notice when it cannot be opened.
    private func store(_ inbox: EventInbox) -> ChatSessionStore? {
        if let chats { return chats }
        if openError != nil { return nil }
        do {
            chats = ChatSessionStore(store: try ResultStore(url: databaseURL))
            return chats
        } catch {
            let message = "chat sessions are not saved: cannot open \(databaseURL.path): \(error)"
            openError = message
            inbox.post { wb in wb.notice = message }
            return nil
        }
    }

    /// Saves the conversation (called on the UI thread after an answer).
    func persist(_ chat: ChatViewModel, inbox: EventInbox) {
        let messages = chat.messages.filter { !$0.isStreaming }
        guard messages.contains(where: { $0.role == .assistant }) else { return }
        let title = chat.sessionTitle ?? Self.title(from: messages)
        let session = StoredChatSession(
            title: title, model: chat.model, adapter: chat.adapterPath, modelPath: chat.modelPath, systemPrompt: chat.systemPrompt,
            kernelMode: chat.kernelMode.rawValue, sampling: Self.samplingJSON(chat.sampler),
            messages: messages.map { m in
                StoredChatMessage(role: m.role.rawValue, text: m.text, promptTokens: m.stats?.promptTokens,
                                  generatedTokens: m.stats?.generatedTokens, promptTokensPerSecond: m.stats?.promptTokensPerSecond,
                                  generationTokensPerSecond: m.stats?.generationTokensPerSecond, cancelled: m.wasCancelled)
            })
        queue.async { [self] in
            guard let chats = store(inbox) else { return }
            do {
                var s = session
                s.id = currentID
                let id = try chats.save(s)
                currentID = id
                inbox.post { wb in
                    wb.chat.model.sessionID = id
                    wb.chat.model.sessionTitle = title
                }
            } catch {
                let message = "cannot save the chat session: \(error)"
                inbox.post { wb in wb.notice = message }
            }
        }
    }

    func perform(_ intent: WorkbenchIntent, inbox: EventInbox) {
        switch intent {
        case .listSessions: queue.async { [self] in postList(inbox) }
        case .newSession:
            queue.async { [self] in currentID = nil }
            inbox.post { wb in
                wb.chat.model.messages.removeAll()
                wb.chat.model.comparison = nil
                wb.chat.model.error = nil
                wb.chat.model.sessionID = nil
                wb.chat.model.sessionTitle = nil
            }
        case .clearConversation:
            // A cleared conversation is saved as a new session from its next answer on.
            queue.async { [self] in currentID = nil }
            inbox.post { wb in
                wb.chat.model.sessionID = nil
                wb.chat.model.sessionTitle = nil
            }
        case .openSession(let id): run(inbox) { [self] chats in
            let s = try chats.load(id: id)
            currentID = id
            let restore = restorerLock.withLock { restorer }
            inbox.post { wb in
                let plan = ChatSessionRestore.plan(for: s, currentModel: wb.chat.model.model)
                Self.apply(s, to: &wb.chat.model)
                if let notice = plan.notice { wb.notice = notice }
                if let model = plan.modelPath, model != wb.chat.model.modelPath || plan.adapterPath != wb.chat.model.adapterPath {
                    restore?(model, plan.adapterPath, inbox)
                }
            }
        }
        case .renameSession(let id, let title): run(inbox) { [self] chats in
            try chats.rename(id: id, to: title)
            inbox.post { wb in if wb.chat.model.sessionID == id { wb.chat.model.sessionTitle = title } }
            postList(inbox)
        }
        case .deleteSession(let id): run(inbox) { [self] chats in
            try chats.delete(id: id)
            if currentID == id { currentID = nil }
            inbox.post { wb in
                if wb.chat.model.sessionID == id {
                    wb.chat.model.sessionID = nil
                    wb.chat.model.sessionTitle = nil
                }
            }
            postList(inbox)
        }
        case .exportSession(let id): run(inbox) { [self] chats in
            let s = try chats.load(id: id)
            let url = exportDirectory.appendingPathComponent("\(Self.slug(s.title))-\(id).md")
            try chats.exportMarkdown(id: id, to: url)
            inbox.post { wb in wb.notice = "exported “\(s.title)” to \(url.path)" }
        }
        default: break
        }
    }

    /// Runs a database task on the queue, reporting a failure in the footer.
    private func run(_ inbox: EventInbox, _ task: @escaping @Sendable (ChatSessionStore) throws -> Void) {
        queue.async { [self] in
            guard let chats = store(inbox) else { return }
            do { try task(chats) } catch {
                let message = "\(error)"
                inbox.post { wb in wb.notice = message }
            }
        }
    }

    private func postList(_ inbox: EventInbox) {
        guard let chats = store(inbox) else { return }
        do {
            let list = try chats.list().map {
                ChatSessionSummary(id: $0.id, title: $0.title, model: $0.model, messageCount: $0.messageCount, updatedAt: $0.updatedAt)
            }
            inbox.post { wb in wb.chat.model.sessions = list }
        } catch {
            let message = "cannot list chat sessions: \(error)"
            inbox.post { wb in wb.notice = message }
        }
    }

    /// Loads a stored session into the chat view model (the loaded model stays as it is).
    static func apply(_ s: StoredChatSession, to chat: inout ChatViewModel) {
        chat.messages = s.messages.map { m in
            let stats = m.promptTokens.map { p in
                TurnStats(promptTokens: p, generatedTokens: m.generatedTokens ?? 0, promptTokensPerSecond: m.promptTokensPerSecond ?? 0,
                          generationTokensPerSecond: m.generationTokensPerSecond ?? 0)
            }
            return ChatMessage(role: ChatRole(rawValue: m.role) ?? .user, text: m.text, stats: stats, wasCancelled: m.cancelled)
        }
        chat.systemPrompt = s.systemPrompt
        chat.kernelMode = KernelMode(rawValue: s.kernelMode) ?? .none
        if let sampler = samplerSettings(fromJSON: s.sampling) { chat.sampler = sampler }
        chat.sessionID = s.id
        chat.sessionTitle = s.title
        chat.comparison = nil
        chat.error = nil
    }

    /// A title from the first prompt: its first line, at most 48 characters.
    static func title(from messages: [ChatMessage]) -> String {
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

    static func samplingJSON(_ s: SamplerSettings) -> String {
        var parts = ["\"temperature\":\(s.temperature)", "\"top_p\":\(s.topP)", "\"top_k\":\(s.topK)", "\"max_tokens\":\(s.maxTokens)"]
        if let seed = s.seed { parts.append("\"seed\":\(seed)") }
        return "{" + parts.joined(separator: ",") + "}"
    }

    static func samplerSettings(fromJSON text: String) -> SamplerSettings? {
        guard let o = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        var s = SamplerSettings()
        if let v = (o["temperature"] as? NSNumber)?.doubleValue { s.temperature = v }
        if let v = (o["top_p"] as? NSNumber)?.doubleValue { s.topP = v }
        if let v = (o["top_k"] as? NSNumber)?.intValue { s.topK = v }
        if let v = (o["max_tokens"] as? NSNumber)?.intValue { s.maxTokens = v }
        s.seed = (o["seed"] as? NSNumber)?.uint64Value
        return s
    }
}
