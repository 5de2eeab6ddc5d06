import Foundation
import LEMEngine
import Panels

/// The split view: the last prompt answered by the current configuration (A) and the one chosen
/// in settings (B), one after the other on a background queue, with the same seed; the panel
/// marks the first token id where they part.
extension EngineChatSource {
    /// Starts the comparison of the last prompt of `chat` (called on the UI thread).
    func startComparison(chat: ChatViewModel, inbox: EventInbox) {
        guard let userIndex = chat.lastUserIndex else { return }
        var trimmed = chat
        trimmed.messages = Array(chat.messages[...userIndex])
        let conversation = trimmed
        let a = activeKey
        let b = EngineKey(model: chat.compareModelPath ?? a.model, adapter: chat.compareAdapterPath)
        let seed = chat.sampler.seed ?? 0
        inbox.post { wb in
            wb.chat.model.comparison = ChatComparison(leftTitle: "A · " + a.title, rightTitle: "B · " + b.title, left: [], right: [], isRunning: true)
            if a == b { wb.notice = "A and B are the same configuration: pick a B model or adapter in settings (F2)" }
        }
        cancelCurrent()
        lock.lock()
        comparing = true
        lock.unlock()
        compareQueue.async { [self] in
            for (side, key) in [(0, a), (1, b)] {
                lock.lock()
                let go = comparing
                lock.unlock()
                guard go else { break }
                do {
                    if side == 1 { inbox.post { wb in wb.chat.model.status = "comparing: loading \(key.title)…" } }
                    let engine = try engine(for: key)
                    let request = try request(for: conversation, engine: engine, seed: seed)
                    inbox.post { wb in wb.chat.model.status = "comparing: generating \(side == 0 ? "A" : "B")…" }
                    let handle = GenerationHandle()
                    lock.lock()
                    current = handle
                    lock.unlock()
                    _ = engine.generator.run(request, handle: handle) { event in
                        guard case .token(let id, let piece) = event else { return }
                        inbox.post { wb in
                            guard wb.chat.model.comparison != nil else { return }
                            if side == 0 {
                                wb.chat.model.comparison?.left.append(piece)
                                wb.chat.model.comparison?.leftIds.append(id)
                            } else {
                                wb.chat.model.comparison?.right.append(piece)
                                wb.chat.model.comparison?.rightIds.append(id)
                            }
                        }
                    }
                } catch {
                    let message = "comparison failed (\(key.title)): \(error)"
                    inbox.post { wb in wb.chat.model.error = message }
                    break
                }
            }
            inbox.post { wb in
                wb.chat.model.comparison?.isRunning = false
                wb.chat.model.status = nil
            }
        }
    }
}
