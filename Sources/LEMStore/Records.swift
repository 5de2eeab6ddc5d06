import Foundation
import LEMCore

/// One benchmark question (or probe) as stored: its benchmark, key, prompt and reference fields.
public struct BenchItem: Sendable, Equatable {
    /// The benchmark's name, e.g. `gsm8k` or `seeds`.
    public var benchmark: String
    /// The item's id within the benchmark, e.g. `GSM8K_001` or `P01`.
    public var key: String
    /// The text given to the model.
    public var prompt: String
    /// The probe's domain (seeds) or category, if any.
    public var domain: String?
    /// The original record's fields as strings (answers, risk area, …), for scorers and judges.
    public var reference: [String: String] = [:]

    /// An item of `benchmark` (other modules build items for generated benchmarks, e.g. distillation).
    public init(
        benchmark: String, key: String, prompt: String, domain: String? = nil, reference: [String: String] = [:]
    ) {
        self.benchmark = benchmark
        self.key = key
        self.prompt = prompt
        self.domain = domain
        self.reference = reference
    }

    /// The reference fields as a JSON object string (sorted keys, stable across imports).
    var referenceJSON: String {
        let data = (try? JSONSerialization.data(withJSONObject: reference, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Decodes reference fields stored by `referenceJSON`.
    static func decodeReference(_ json: String) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return [:]
        }
        return object.compactMapValues { $0 as? String }
    }
}

/// Whether a stored score holds a number.
public enum ScoreStatus: String, Sendable, Codable {
    /// A number was produced.
    case scored
    /// No number: the judge's reply could not be read (the raw text is kept) or the input lacked
    /// what the scorer needs.
    case unscored
    /// The scorer failed (transport error, timeout); retrying may succeed.
    case failed
}

/// A score as written to or read from the store.
public struct StoredScore: Sendable, Equatable {
    /// The dimension's name.
    public var dimension: String
    /// The value, nil unless `status == .scored`.
    public var value: Double?
    /// Scored, unscored or failed.
    public var status: ScoreStatus
    /// The judge's reasoning or the scorer's evidence.
    public var reasoning: String?
    /// An imported value that is not a number, as JSON text. (A judge's raw reply is kept once
    /// per response, not per dimension: `ResultStore.putScores(..., reply:)`.)
    public var raw: String?

    /// Creates a stored score.
    public init(
        dimension: String, value: Double?, status: ScoreStatus, reasoning: String? = nil,
        raw: String? = nil
    ) {
        self.dimension = dimension
        self.value = value
        self.status = status
        self.reasoning = reasoning
        self.raw = raw
    }
}
