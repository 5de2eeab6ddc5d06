import Foundation
import LEMCore
import LEMEngine
import LEMEval
import LEMScoring
import LEMTrainer

/// One judge of a judges file (`lem bench consensus --judges FILE`, YAML or JSON):
///
/// ```yaml
/// prompt: "…{question}…{answer_a}…{answer_b}…"   # optional: every judge's default template
/// max_tokens: 16                                  # optional defaults: max_tokens, temperature
/// judges:
///   - name: smol                                  # a local model: path, ORG/NAME, or a file
///                                                 # name in the models folder
///     model: SmolLM2-135M-Instruct.Q4_1.gguf
///   - name: smol-strict                           # the same model with another rubric
///     model: SmolLM2-135M-Instruct.Q4_1.gguf
///     prompt: "…"
///   - name: big
///     url: http://gpu:8080/v1                     # an OpenAI-compatible engine
///     model: qwen2.5-32b                          # the model name sent
///     api_key_env: LEM_JUDGE_API_KEY
/// ```
public struct ConsensusJudgeSpec: Sendable, Equatable {
    /// Where the judge's replies come from.
    public enum Source: Sendable, Equatable {
        /// A model on the local engine, with an optional adapter.
        case local(model: String, adapter: String?)
        /// An OpenAI-compatible endpoint, the model name it is sent, and the environment variable
        /// holding its key.
        case http(url: URL, model: String, keyVariable: String)
    }

    /// The name the judge's votes carry.
    public var name: String
    /// The judge's engine.
    public var source: Source
    /// Its prompt.
    public var prompt: PairwisePrompt
    /// Most tokens of a reply.
    public var maxTokens: Int
    /// Sampling temperature (0: greedy).
    public var temperature: Double
    /// Sampling seed, for a sampled local judge.
    public var seed: UInt64

    /// Reads a judges file; errors name the file, the line and the key.
    public static func load(_ url: URL) throws -> [ConsensusJudgeSpec] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw LocatedError(url.path, "cannot read the judges file: \((error as NSError).localizedDescription)")
        }
        return try parse(text, file: url.path)
    }

    /// Reads judges-file text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws -> [ConsensusJudgeSpec] {
        let top = try ConfigValue.parseYAML(text, file: file)
        try refuseUnknown(top, allowed: ["judges", "prompt", "max_tokens", "temperature"], place: file)
        var defaults = ConsensusJudgeSpec(
            name: "", source: .local(model: "", adapter: nil), prompt: .standard, maxTokens: 16, temperature: 0,
            seed: 0)
        try defaults.apply(top, file: file)
        guard let judges = top.first(where: { $0.key == "judges" })?.value else {
            throw LocatedError(file, "no `judges:` list (each judge: name, and model or url)")
        }
        guard case .list(let entries, _) = judges, !entries.isEmpty else {
            throw LocatedError(judges.place, "`judges` must be a non-empty list")
        }
        var out: [ConsensusJudgeSpec] = []
        for entry in entries {
            guard case .map(let pairs, let at) = entry else {
                throw LocatedError(entry.place, "a judge must be a mapping (name, model or url, …)")
            }
            try refuseUnknown(
                pairs,
                allowed: [
                    "name", "model", "adapter", "url", "api_key_env", "prompt", "max_tokens", "temperature", "seed"
                ],
                place: at)
            var spec = defaults
            spec.name = try string(pairs, "name", place: at) ?? ""
            guard !spec.name.isEmpty else { throw LocatedError(at, "a judge needs a `name`") }
            guard !out.contains(where: { $0.name == spec.name }) else {
                throw LocatedError(at, "two judges are named \(spec.name): names must differ")
            }
            let model = try string(pairs, "model", place: at)
            if let url = try string(pairs, "url", place: at) {
                guard let u = URL(string: url), u.scheme == "http" || u.scheme == "https", u.host != nil else {
                    throw LocatedError(at, "`url` must be http(s)://host:port/v1 (got \(url))")
                }
                let key = try string(pairs, "api_key_env", place: at) ?? "LEM_JUDGE_API_KEY"
                spec.source = .http(url: u, model: model ?? "judge", keyVariable: key)
            } else if let model {
                spec.source = .local(model: model, adapter: try string(pairs, "adapter", place: at))
            } else {
                throw LocatedError(at, "judge \(spec.name) needs `model` (a local model) or `url` (an engine)")
            }
            try spec.apply(pairs, file: file)
            out.append(spec)
        }
        return out
    }

    /// Takes `prompt`, `max_tokens`, `temperature` and `seed` from a mapping.
    mutating func apply(_ pairs: [(key: String, value: ConfigValue)], file: String) throws {
        for (key, value) in pairs {
            guard case .scalar(let text, let place) = value else { continue }
            switch key {
            case "prompt":
                switch PairwisePrompt.custom(text) {
                case .success(let p): prompt = p
                case .failure(let e): throw LocatedError(place, e.message)
                }
            case "max_tokens":
                guard let n = Int(text), n > 0 else {
                    throw LocatedError(place, "`max_tokens` must be a positive integer")
                }
                maxTokens = n
            case "temperature":
                guard let t = Double(text), t >= 0, t.isFinite else {
                    throw LocatedError(place, "`temperature` must be a number ≥ 0")
                }
                temperature = t
            case "seed":
                guard let s = UInt64(text) else { throw LocatedError(place, "`seed` must be a non-negative integer") }
                seed = s
            default: break
            }
        }
    }

    static func refuseUnknown(_ pairs: [(key: String, value: ConfigValue)], allowed: [String], place: String) throws {
        for (key, value) in pairs where !allowed.contains(key) {
            throw LocatedError(value.place, "unknown key `\(key)` (expected \(allowed.joined(separator: ", ")))")
        }
    }

    static func string(_ pairs: [(key: String, value: ConfigValue)], _ key: String, place: String) throws -> String? {
        guard let value = pairs.first(where: { $0.key == key })?.value else { return nil }
        switch value {
        case .scalar(let s, _): return s
        case .null: return nil
        default: throw LocatedError(value.place, "`\(key)` must be a single value")
        }
    }
}

extension AppContext {
    /// The judges of a judges file, ready to ask: local models (a path, `ORG/NAME`, or a bare
    /// file name in the models folder) loaded once through the pool
    /// (judges naming the same model and adapter share it), endpoints with their keys from the
    /// environment.
    public func consensusJudges(_ specs: [ConsensusJudgeSpec]) throws -> [ConsensusJudge] {
        try specs.map { spec in
            let backend: any JudgeBackend
            switch spec.source {
            case .http(let url, let model, let keyVariable):
                backend = HTTPJudgeBackend(
                    baseURL: url, model: model, apiKey: variable(keyVariable), temperature: spec.temperature,
                    maxTokens: spec.maxTokens)
            case .local(let model, let adapter):
                // A bare file name is looked up in the models folder first (where setup.sh installs).
                let installed = paths.models.appendingPathComponent(model)
                let url =
                    !model.contains("/") && FileManager.default.fileExists(atPath: installed.path)
                    ? installed : try resolveModel(model)
                guard FileManager.default.fileExists(atPath: url.path) else {
                    throw AppError("judge \(spec.name): no model file or folder \(model)")
                }
                let key = ModelKey(model: url, adapter: adapter.map { paths.resolve($0) })
                let loaded = try pool.model(for: key)
                backend = LocalJudgeBackend(
                    model: loaded,
                    sampling: SamplingSettings(
                        temperature: spec.temperature, maxTokens: spec.maxTokens, seed: spec.seed))
            }
            return ConsensusJudge(name: spec.name, backend: backend, prompt: spec.prompt)
        }
    }
}
