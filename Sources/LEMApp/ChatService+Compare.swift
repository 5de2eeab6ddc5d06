import Foundation
import LEMCore
import LEMEngine
import Panels

/// The split view: the last prompt answered by the current configuration (A) and the one chosen
/// in settings (B), one after the other on a background queue, with the same seed; the panel
/// marks the first token id where they part.
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
        let a = activeKey
        let b = ModelKey(model: chat.compareModelPath ?? a.model, adapter: chat.compareAdapterPath)
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
            for (right, key) in [(false, a), (true, b)] {
                guard lock.withLock({ comparing }) else { break }
                do {
                    if right { inbox.post { wb in wb.chat.model.setStatus("comparing: loading \(key.title)…") } }
                    let model = try context.pool.model(for: key)
                    let request = try work.sync { try self.request(for: snapshot, model: model) }
                    inbox.post { wb in wb.chat.model.setStatus("comparing: generating \(right ? "B" : "A")…") }
                    let handle = GenerationHandle()
                    lock.withLock { current = handle }
                    _ = model.generator.run(request, handle: handle) { [inbox] event in
                        guard case .token(let id, let piece) = event else { return }
                        inbox.post { wb in wb.chat.model.appendComparison(right: right, id: id, piece: piece) }
                    }
                } catch {
                    let message = "comparison failed (\(key.title)): \(error)"
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
}
