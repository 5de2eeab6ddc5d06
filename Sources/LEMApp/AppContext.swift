import Foundation
import LEMCore
import LEMEngine

/// What every service and command shares: where things are, the environment the executable
/// read once at start (for API keys and terminal settings), the results database and the pool
/// of loaded models.
public struct AppContext: Sendable {
    public var paths: LEMPaths
    /// The process environment as `main` read it.
    public var environment: [String: String]
    /// The results database.
    public var database: URL
    /// The loaded models, shared by chat, attention, benchmark runs, judges and probes.
    public var pool: ModelPool

    /// A context over `paths`; the database defaults to `paths.database`.
    public init(
        paths: LEMPaths, environment: [String: String] = [:], database: URL? = nil, pool: ModelPool = ModelPool()
    ) {
        self.paths = paths
        self.environment = environment
        self.database = database ?? paths.database
        self.pool = pool
    }

    /// The value of environment variable `name`, nil when unset or empty.
    public func variable(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}
