import Foundation
import LEMCore

/// A prompt a training probe asks after each probed save: an id, an optional domain, the text.
///
/// Read from a prompts file (`load(file:)`) or picked from the seeds folder
/// (`seeds(directory:count:)`), spread across the seeds' domains.
public struct ProbePrompt: Sendable, Equatable {
    /// `P01` for a seed; `#n` (1-based line or array position) for a file without ids.
    public var id: String
    public var domain: String?
    public var prompt: String
    /// An answer the file gives with the prompt (`response`, `answer` or `completion`, or a chat
    /// line's assistant turn); probes ignore it, training data built from prompts keeps it.
    public var answer: String?

    /// Creates a prompt.
    public init(id: String, domain: String? = nil, prompt: String, answer: String? = nil) {
        self.id = id
        self.domain = domain
        self.prompt = prompt
        self.answer = answer
    }

    /// Reads a prompts file: a JSON array (of seeds-style objects `{id, domain, prompt}` or of
    /// strings), JSONL with a `prompt` field (and optional `id`, `domain`, an answer as
    /// `response`/`answer`/`completion`) or mlx_lm chat lines (`messages`: the first user turn is the
    /// prompt, the assistant turn after it the answer), or plain text with one prompt per line.
    /// Blank lines are skipped; a bad entry is an error naming its place.
    public static func load(file url: URL) throws -> [ProbePrompt] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw LocatedError(url.path, "cannot read the probe prompts: \(error.localizedDescription)")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var prompts: [ProbePrompt] = []
        if trimmed.hasPrefix("[") {
            guard let array = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [Any] else {
                throw LocatedError(url.path, "expected a JSON array of prompts")
            }
            for (i, item) in array.enumerated() {
                prompts.append(try prompt(item, fallbackId: "#\(i + 1)", place: "\(url.path): item \(i + 1)"))
            }
        } else {
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let entry = line.trimmingCharacters(in: .whitespaces)
                guard !entry.isEmpty else { continue }
                if entry.hasPrefix("{") {
                    guard let object = try? JSONSerialization.jsonObject(with: Data(entry.utf8)) else {
                        throw LocatedError(file: url.path, line: i + 1, "not valid JSON")
                    }
                    prompts.append(try prompt(object, fallbackId: "#\(i + 1)", place: "\(url.path):\(i + 1)"))
                } else {
                    prompts.append(ProbePrompt(id: "#\(i + 1)", prompt: entry))
                }
            }
        }
        guard !prompts.isEmpty else { throw LocatedError(url.path, "no probe prompts in the file") }
        return prompts
    }

    /// One entry: a string, an object with a string `prompt` (and optional `id`, `domain`, answer),
    /// or a chat object with `messages`.
    static func prompt(_ item: Any, fallbackId: String, place: String) throws -> ProbePrompt {
        if let text = item as? String, !text.isEmpty { return ProbePrompt(id: fallbackId, prompt: text) }
        let object = item as? [String: Any]
        let id = object?["id"] as? String ?? fallbackId
        if let messages = object?["messages"] as? [[String: Any]] {
            let turns = messages.map { ($0["role"] as? String ?? "", $0["content"] as? String ?? "") }
            guard let user = turns.firstIndex(where: { $0.0 == "user" && !$0.1.isEmpty }) else {
                throw LocatedError(place, "expected a user turn with text in `messages`")
            }
            let answer = turns[(user + 1)...].first { $0.0 == "assistant" }?.1
            return ProbePrompt(id: id, prompt: turns[user].1, answer: answer)
        }
        guard let object, let text = object["prompt"] as? String, !text.isEmpty else {
            throw LocatedError(
                place, "expected a prompt string, an object with a string field `prompt`, or a chat line (`messages`)")
        }
        let answer = ["response", "answer", "completion"].lazy.compactMap { object[$0] as? String }.first
        return ProbePrompt(id: id, domain: object["domain"] as? String, prompt: text, answer: answer)
    }

    /// `count` seed prompts from the seeds folder's JSON files (read in name order), spread
    /// across domains: the first prompt of each domain, then the second of each, and so on.
    public static func seeds(directory: URL, count: Int) throws -> [ProbePrompt] {
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            throw LocatedError(directory.path, "cannot list the seeds folder: \(error.localizedDescription)")
        }
        var domains: [String] = []
        var byDomain: [String: [ProbePrompt]] = [:]
        for file in files {
            for prompt in try load(file: file) {
                let domain = prompt.domain ?? ""
                if byDomain[domain] == nil { domains.append(domain) }
                byDomain[domain, default: []].append(prompt)
            }
        }
        guard !domains.isEmpty else { throw LocatedError(directory.path, "no seed prompts (expected P01-P20.json, …)") }
        var picked: [ProbePrompt] = []
        var round = 0
        while picked.count < count {
            var added = false
            for domain in domains where picked.count < count {
                guard let list = byDomain[domain], round < list.count else { continue }
                picked.append(list[round])
                added = true
            }
            if !added { break }
            round += 1
        }
        return picked
    }
}
