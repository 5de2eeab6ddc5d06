/// What the Bench panel asks the application to do with the results store.
public enum BenchIntent: Hashable, Sendable {
    /// Start (or resume) a benchmark run with the workbench's model.
    case startRun(BenchRunRequest)
    /// Run these text scorers over the stored responses.
    case score(scorers: [String])
    /// Run (or resume) an LLM-judge pass over the stored responses.
    case judge(BenchJudgeRequest)
    /// Stop the running benchmark run or scoring pass (what is committed stays).
    case cancel
    /// Read the store again.
    case reload
    /// Make this row of the summary table the baseline deltas are measured against.
    case setBaseline(run: Int)
}

/// A benchmark run as typed in the panel's run form: `BENCHMARK [limit:N] [kernel:MODE] [max:N] [seed:N]`.
public struct BenchRunRequest: Hashable, Sendable {
    /// Benchmark name or question file.
    public var benchmark: String
    /// Answer only the first N items.
    public var limit: Int?
    /// `none`, `system` or `sandwich`.
    public var kernel: String
    /// New tokens per answer (default: the benchmark's).
    public var maxTokens: Int?
    /// Sampling seed.
    public var seed: UInt64

    /// Creates a request.
    public init(benchmark: String, limit: Int? = nil, kernel: String = "none", maxTokens: Int? = nil, seed: UInt64 = 0)
    {
        self.benchmark = benchmark
        self.limit = limit
        self.kernel = kernel
        self.maxTokens = maxTokens
        self.seed = seed
    }

    /// Reads a run form line; the error says which term is wrong.
    public static func parse(_ line: String) -> Result<BenchRunRequest, BenchFormError> {
        var request: BenchRunRequest?
        var limit: Int?
        var kernel = "none"
        var maxTokens: Int?
        var seed: UInt64 = 0
        for token in line.split(separator: " ").map(String.init) {
            let parts = token.split(separator: ":", maxSplits: 1).map(String.init)
            if parts.count == 1 {
                guard request == nil else { return .failure(BenchFormError("one benchmark only (got \(token))")) }
                request = BenchRunRequest(benchmark: token)
                continue
            }
            switch parts[0] {
            case "limit":
                guard let n = Int(parts[1]), n > 0 else {
                    return .failure(BenchFormError("limit:\(parts[1]) is not a positive number"))
                }
                limit = n
            case "kernel":
                guard ["none", "system", "sandwich"].contains(parts[1]) else {
                    return .failure(BenchFormError("kernel:\(parts[1]) (expected none, system or sandwich)"))
                }
                kernel = parts[1]
            case "max":
                guard let n = Int(parts[1]), n > 0 else {
                    return .failure(BenchFormError("max:\(parts[1]) is not a positive number"))
                }
                maxTokens = n
            case "seed":
                guard let n = UInt64(parts[1]) else {
                    return .failure(BenchFormError("seed:\(parts[1]) is not a number"))
                }
                seed = n
            default:
                return .failure(BenchFormError("unknown term \(token) (limit:, kernel:, max:, seed:)"))
            }
        }
        guard var r = request else { return .failure(BenchFormError("name a benchmark, e.g. gsm8k limit:10")) }
        r.limit = limit
        r.kernel = kernel
        r.maxTokens = maxTokens
        r.seed = seed
        return .success(r)
    }
}

/// A problem in a form line typed in the panel.
public struct BenchFormError: Error, Hashable, Sendable {
    /// What is wrong.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
}
