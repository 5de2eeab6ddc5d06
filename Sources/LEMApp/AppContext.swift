import Foundation
import LEMCore
import LEMEngine

/// What every service and command shares: where things are, the environment the executable
/// read once at start (for API keys and terminal settings), the engine's options, the results
/// database and the pool of loaded models.
public struct AppContext: Sendable {
    public var paths: LEMPaths
    /// The process environment as `main` read it.
    public var environment: [String: String]
    /// How every model of this process computes (from the environment in `main`).
    public var engineOptions: EngineOptions
    /// The results database.
    public var database: URL
    /// The loaded models, shared by chat, attention, benchmark runs, judges and probes; they run
    /// with `engineOptions`.
    public var pool: ModelPool

    /// A context over `paths`; the database defaults to `paths.database`, the pool to one
    /// loading with `engineOptions`.
    public init(
        paths: LEMPaths, environment: [String: String] = [:], engineOptions: EngineOptions = EngineOptions(),
        database: URL? = nil, pool: ModelPool? = nil
    ) {
        self.paths = paths
        self.environment = environment
        self.engineOptions = engineOptions
        self.database = database ?? paths.database
        self.pool = pool ?? ModelPool(options: engineOptions)
    }

    /// Loads a model outside the pool (a one-off, such as a probe's adapter) with the context's options.
    public func load(_ key: ModelKey, requireTokenizer: Bool = true) throws -> LoadedModel {
        try LoadedModel.load(key, options: engineOptions, requireTokenizer: requireTokenizer)
    }

    /// The value of environment variable `name`, nil when unset or empty.
    public func variable(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}
