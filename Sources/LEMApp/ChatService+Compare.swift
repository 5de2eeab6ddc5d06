import Foundation
import LEMCore
import LEMEngine
import Panels

/// One side of the split view: a local model (with its adapter) or a remote one.
enum ChatTarget: Equatable, Sendable {
    case local(ModelKey)
    case remote(RemoteEndpoint)

    var title: String {
        switch self {
        case .local(let key): key.title
        case .remote(let endpoint): endpoint.title
        }
    }
}

/// The split view: the last prompt answered by the current configuration (A) and the one chosen
/// in settings (B), one after the other on a background queue, with the same seed; the panel
/// marks the first token where they part (by id when both sides are local, else by text).
extension ChatService {
    /// Starts the comparison of the last prompt of `chat` (called on the UI thread).
    func startComparison(chat: ChatViewModel) {
        guard let userIndex = chat.lastUserIndex else { return }
        var conversation = chat
        conversation.truncate(from: userIndex + 1)
        var sampling = chat.sampler
        sampling.seed = chat.sampler.seed ?? 0
        conversation.apply(
            ChatSettings(sampler: sampling, systemPrompt: chat.systemPrompt, kernelMode: chat.kernelMode))
        let a: ChatTarget = lock.withLock { remote.map { .remote($0) } ?? .local(active) }
        let b: ChatTarget
        switch compareTarget(chat, a: a) {
        case .success(let target): b = target
        case .failure(let error):
            inbox.post { wb in wb.chat.model.setError("\(error)") }
            return
        }
        inbox.post { wb in
            wb.chat.model.beginComparison(leftTitle: "A · " + a.title, rightTitle: "B · " + b.title)
            if a == b {
                wb.showNotice("A and B are the same configuration: pick a B model or adapter in settings (F2)")
            }
        }
        cancelCurrent()
        lock.withLock { comparing = true }
        let snapshot = conversation
        compareQueue.async { [self] in
            for (right, target) in [(false, a), (true, b)] {
                guard lock.withLock({ comparing }) else { break }
                do {
                    try answerForComparison(snapshot, on: target, right: right)
                } catch {
                    let message = "comparison failed (\(target.title)): \(error)"
                    inbox.post { wb in wb.chat.model.setError(message) }
                    break
                }
            }
            inbox.post { wb in
                wb.chat.model.endComparison()
                wb.chat.model.setStatus(nil)
            }
        }
    }

    /// B: the model chosen in settings (a local path or `remote:<name>`), else A's model with the
    /// B adapter.
    private func compareTarget(_ chat: ChatViewModel, a: ChatTarget) -> Result<ChatTarget, AppError> {
        if let path = chat.compareModelPath, let name = RemoteEndpoint.name(inModelPath: path) {
            guard let endpoint = lock.withLock({ endpoints.endpoint(named: name) }) else {
                return .failure(AppError("no remote model `\(name)` in the endpoints file"))
            }
            return .success(.remote(endpoint))
        }
        if chat.compareModelPath == nil, case .remote = a, chat.compareAdapterPath == nil { return .success(a) }
        return .success(
            .local(ModelKey(model: chat.compareModelPath ?? activeKey.model, adapter: chat.compareAdapterPath)))
    }

    /// One side's answer, streamed into the split view (on the compare queue).
    private func answerForComparison(_ snapshot: ChatViewModel, on target: ChatTarget, right: Bool) throws {
        let side = right ? "B" : "A"
        switch target {
        case .local(let key):
            if right { inbox.post { wb in wb.chat.model.setStatus("comparing: loading \(key.title)…") } }
            let model = try context.pool.model(for: key)
            let request = try work.sync { try self.request(for: snapshot, model: model) }
            inbox.post { wb in wb.chat.model.setStatus("comparing: generating \(side)…") }
            let handle = GenerationHandle()
            lock.withLock { current = handle }
            _ = model.generator.run(request, handle: handle) { [inbox] event in
                guard case .token(let id, let piece) = event else { return }
                inbox.post { wb in wb.chat.model.appendComparison(right: right, id: id, piece: piece) }
            }
        case .remote(let endpoint):
            let messages = try work.sync {
                try Self.templateMessages(for: snapshot, kernel: snapshot.kernelMode == .none ? nil : loadKernel())
            }
            inbox.post { wb in wb.chat.model.setStatus("comparing: asking \(endpoint.name) for \(side)…") }
            let apiKey = endpoint.keyEnv.flatMap { context.variable($0) }
            let done = DispatchSemaphore(value: 0)
            let outcome = OutcomeBox()
            let task = Task { [inbox] in
                outcome.set(
                    await Self.streamRemote(
                        endpoint, apiKey: apiKey, messages: messages, sampling: snapshot.sampler
                    ) { piece in
                        inbox.post { wb in wb.chat.model.appendComparison(right: right, id: nil, piece: piece) }
                    })
                done.signal()
            }
            lock.withLock { remoteTask = task }
            done.wait()
            if case .failure(let error) = outcome.get(), !(error is CancellationError) { throw error }
        }
    }
}

/// A remote answer's outcome, handed from its task to the waiting compare queue.
private final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<TurnStats, any Error>?

    func set(_ v: Result<TurnStats, any Error>) { lock.withLock { value = v } }
    func get() -> Result<TurnStats, any Error>? { lock.withLock { value } }
}
