import LEMCore
import LEMEngine

extension CompletionService {
    /// The `logprobs` object of a completion choice, as OpenAI's legacy completions write it:
    /// `tokens`, `token_logprobs`, `top_logprobs` and `text_offset`, covering the prompt (first
    /// token `null`) and the generated tokens with `echo`, the generated tokens alone without.
    ///
    /// `positions` are the scorer's for `prompt + generated` (`log p` of each token after the first).
    static func logprobsJSON(
        _ positions: [SequenceScorer.Position], prompt: [Int], generated: [Int], echo: Bool, tokenizer: Tokenizer?,
        textOffset: Int
    ) -> JSONValue {
        func piece(_ id: Int) -> String { tokenizer?.decode([id], skipSpecialTokens: false) ?? "" }
        let full = prompt + generated
        let first = echo ? 0 : prompt.count
        var tokens: [JSONValue] = []
        var logprobs: [JSONValue] = []
        var tops: [JSONValue] = []
        var offsets: [JSONValue] = []
        var offset = textOffset
        for i in first..<full.count {
            let text = piece(full[i])
            tokens.append(.string(text))
            offsets.append(.int(offset))
            offset += text.count
            // Position i - 1 of the scorer predicts token i; token 0 has no context.
            guard i >= 1, i - 1 < positions.count else {
                logprobs.append(.null)
                tops.append(.null)
                continue
            }
            let position = positions[i - 1]
            logprobs.append(.double(position.logprob))
            var members: [(String, JSONValue)] = []
            for alternative in position.top {
                let key = piece(alternative.id)
                // Two ids spelling the same text keep the likelier one (the first, best first).
                if !members.contains(where: { $0.0 == key }) { members.append((key, .double(alternative.logprob))) }
            }
            tops.append(.object(JSONObject(members: members.map { (key: $0.0, value: $0.1) })))
        }
        return .object(
            JSONObject(members: [
                ("tokens", .array(tokens)), ("token_logprobs", .array(logprobs)), ("top_logprobs", .array(tops)),
                ("text_offset", .array(offsets))
            ]))
    }
}
