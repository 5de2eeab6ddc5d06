import Foundation
import LEMCore
import LEMFormats

extension LoadedModel {
    /// The `lem.*` keys a prompt-cache file records to be refused by another model: weights
    /// and adapter fingerprint, adapter and scale, a tokenizer fingerprint, the chat template's
    /// sha256 and the RoPE settings (`PromptCacheFile.check` compares all but the template,
    /// which does not change the computed state).
    public var promptCacheIdentity: [String: String] {
        let parts = fingerprint.split(separator: "+", omittingEmptySubsequences: false).map(String.init)
        let local = config.ropeLocalTheta.map { String($0) } ?? "-"
        var identity: [String: String] = [:]
        identity["lem.producer"] = "lem"
        identity["lem.model"] = key.model
        identity["lem.weights_sha256"] = parts[0]
        identity["lem.adapter"] = key.adapter.map { URL(fileURLWithPath: $0).lastPathComponent } ?? ""
        identity["lem.adapter_sha256"] = parts.count > 1 ? parts[1] : ""
        identity["lem.adapter_scale"] = key.adapter == nil ? "" : String(key.scale)
        identity["lem.rope"] = "theta=\(config.ropeTheta) local=\(local) scaling=\(config.ropeScaling)"
        if let tokenizer {
            var digest = SHA256()
            digest.update(
                Array("\(tokenizer.vocabSize) \(tokenizer.bosTokenId ?? -1) \(tokenizer.eosTokenIds.sorted())".utf8))
            for token in tokenizer.addedTokens { digest.update(Array("\(token.id)=\(token.content)\n".utf8)) }
            identity["lem.tokenizer_sha256"] = digest.hexDigest()
            var template = SHA256()
            template.update(Array((tokenizer.chatTemplateSource ?? tokenizer.chatTemplate ?? "").utf8))
            identity["lem.chat_template_sha256"] = template.hexDigest()
        } else {
            identity["lem.tokenizer_sha256"] = ""
        }
        return identity
    }

    /// Computes `ids` (no sampling) and writes their state to `url` as an mlx-lm prompt cache
    /// with this model's identity, keys and values as `dtype` (`PromptCacheFile.storableTypes`);
    /// returns the snapshot written.
    @discardableResult
    public func savePromptCache(
        ids: [Int], to url: URL, extra: [String: String] = [:], dtype: SafetensorsDType = .f32
    ) throws -> KVSnapshot {
        guard !ids.isEmpty else { throw GenerationError.emptyPrompt }
        let cache = model.makeCache()
        var offset = 0
        while offset < ids.count {
            let end = Generator.chunkEnd(offset: offset, count: ids.count, chunk: 128)
            _ = try model.forward(tokens: Array(ids[offset..<end]), cache: cache, logits: .last)
            offset = end
        }
        let snapshot = KVSnapshot(cache: cache, tokens: ids)
        try PromptCacheFile.write(
            snapshot, config: config, identity: promptCacheIdentity, extra: extra, dtype: dtype, to: url)
        return snapshot
    }

    /// Reads a prompt-cache file for this model, refusing one made for another (`check`).
    public func loadPromptCache(_ url: URL) throws -> PromptCacheFile.Contents {
        let contents = try PromptCacheFile.read(url, config: config)
        try PromptCacheFile.check(contents, against: promptCacheIdentity, url: url)
        return contents
    }

    /// Puts a prompt-cache file's state into this model's prefix cache, so every later prompt
    /// that starts with its tokens (a chat turn, a benchmark item) continues from it instead of
    /// computing them; returns the tokens it holds. Refuses a file made for another model, one
    /// that does not record its token ids (mlx-lm's: continue those with `startingState`), and a
    /// model without a prefix cache.
    @discardableResult
    public func seedPrefixCache(from url: URL) throws -> Int {
        let contents = try loadPromptCache(url)
        guard contents.tokensKnown else {
            throw FormatError(
                url,
                "the prompt cache records no token ids (mlx-lm writes none), so no prompt can be matched "
                    + "against it; continue it with lem generate --prompt-cache-file")
        }
        guard let cache = generator.prefixCache, let scope = generator.prefixScope else {
            throw FormatError(url, "the prefix cache is off (LEM_PREFIX_CACHE_MB=0): nothing can keep this state")
        }
        guard contents.snapshot.bytes <= cache.capacityBytes else {
            throw FormatError(
                url,
                "the prompt cache holds \(contents.snapshot.bytes >> 20) MiB, more than the prefix cache's "
                    + "\(cache.capacityBytes >> 20) MiB (LEM_PREFIX_CACHE_MB)")
        }
        cache.insert(contents.snapshot, scope: scope)
        return contents.snapshot.count
    }
}
