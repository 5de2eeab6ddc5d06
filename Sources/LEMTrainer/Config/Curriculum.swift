import Foundation
import LEMFormats

/// A training curriculum read from YAML: `lem train` config keys shared by every phase at the
/// top level, and `phases:`, a list of `{name, data, iters, learning_rate, …any train key}`.
///
/// Phase k trains from phase k−1's final adapter exactly as a separate `lem train` run with
/// `resume_adapter_file` pointing at it would (a fresh optimizer and schedule, iteration 1), in
/// `<adapter_path>/<name>/`. The first phase starts from the shared `resume_adapter_file` when
/// one is given, else from a fresh adapter. Relative paths are relative to the file's folder. A
/// phase may carry an `eval:` block (`PhaseEvaluation`) for `lem train` to run on its adapter; a
/// top-level `eval:` is run on the model the curriculum starts from and is the block of every
/// phase without its own.
public struct Curriculum: Sendable, Equatable {
    /// One phase: its name, place and complete configuration.
    public struct Phase: Sendable, Equatable {
        /// The phase's name, also its folder's name under the curriculum's adapter folder.
        public var name: String
        /// Its place in the curriculum (0-based).
        public var index: Int
        /// The shared keys, then the phase's own, with `adapter_path` set to the phase's folder and
        /// `resume_adapter_file` to the adapter it starts from.
        public var config: TrainingConfig
        /// `<adapter_path>/<name>`.
        public var folder: URL
        /// What to answer and score with the phase's adapter once it is trained (`eval:`), if anything.
        public var evaluation: PhaseEvaluation?
    }

    /// A phase's `eval:` block: a benchmark subset answered with the phase's adapter, then scored.
    /// The trainer only reads it; `lem train` runs it with the benchmark runner and scorers.
    public struct PhaseEvaluation: Sendable, Equatable {
        /// A stored benchmark name or a question/seeds file (relative to the curriculum's folder).
        public var benchmark: String
        /// Answer only the first N items.
        public var limit: Int?
        /// Scorer names (`lek-heuristic`, `gsm8k`, …); default `lek-heuristic`.
        public var scorers: [String] = ["lek-heuristic"]
        /// New tokens per answer; nil: the benchmark's default.
        public var maxTokens: Int?
        public var seed = 0
        /// `none`, `system` or `sandwich`.
        public var kernel = "none"

        /// Reads an `eval:` mapping; paths are relative to `folder`.
        init(_ value: ConfigValue, folder: URL) throws {
            var benchmark: String?
            for (key, item) in try value.map("eval") {
                let path = "eval.\(key)"
                switch key {
                case "benchmark": benchmark = try item.string(path)
                case "limit": limit = try item.int(path)
                case "scorers": scorers = try item.list(path).map { try $0.string(path) }
                case "max_tokens": maxTokens = try item.int(path)
                case "seed": seed = try item.int(path)
                case "kernel":
                    kernel = try item.string(path)
                    guard ["none", "system", "sandwich"].contains(kernel) else {
                        throw TrainingConfigError.invalid(
                            key: path, reason: "expected none, system or sandwich at \(item.place), got '\(kernel)'")
                    }
                default: throw TrainingConfigError.unknownKey(key: path, place: item.place)
                }
            }
            guard var benchmark else {
                throw TrainingConfigError.invalid(key: "eval.benchmark", reason: "missing at \(value.place)")
            }
            if benchmark.contains("/") || benchmark.hasSuffix(".json") || benchmark.hasSuffix(".jsonl"),
                !benchmark.hasPrefix("/"), !benchmark.hasPrefix("~")
            {
                benchmark = folder.appendingPathComponent(benchmark).standardizedFileURL.path
            }
            self.benchmark = benchmark
            if let limit, limit < 1 {
                throw TrainingConfigError.invalid(key: "eval.limit", reason: "must be at least 1, got \(limit)")
            }
            if let maxTokens, maxTokens < 1 {
                throw TrainingConfigError.invalid(
                    key: "eval.max_tokens", reason: "must be at least 1, got \(maxTokens)")
            }
            guard !scorers.isEmpty else {
                throw TrainingConfigError.invalid(key: "eval.scorers", reason: "give at least one scorer")
            }
        }
    }

    /// The file the curriculum was read from (for messages).
    public let file: String
    /// The configuration every phase starts from (top-level keys, then command-line overrides).
    public let shared: TrainingConfig
    /// `adapter_path`: the phases' folders are inside it and the final adapter is written to it.
    public let adapterFolder: URL
    public private(set) var phases: [Phase]
    /// The top-level `eval:`: what to answer and score with the model the curriculum starts from
    /// (before phase 1); phases without their own `eval:` use it too.
    public let baseEvaluation: PhaseEvaluation?

    /// The keys a phase may not set: the curriculum decides them.
    static let reservedPhaseKeys: [String: String] = [
        "adapter_path": "each phase writes to <adapter_path>/<name>; set adapter_path at the top level",
        "resume_adapter_file":
            "a phase starts from the previous phase's adapter; set it at the top level for the first",
        "model": "all phases train one model; set model at the top level",
        "train": "every phase trains",
        "test": "a curriculum only trains; test its final adapter with lem train --test",
        "phases": "phases do not nest"
    ]

    /// Reads a curriculum file; `overrides` (command-line flags) replace top-level keys, and a
    /// phase's own keys still win over them.
    public init(yamlFile url: URL, overrides: [(key: String, value: ConfigValue)] = []) throws {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw TrainingConfigError.unreadable(file: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        try self.init(yaml: text, file: url.path, folder: url.deletingLastPathComponent(), overrides: overrides)
    }

    /// Reads curriculum YAML text; `file` names it in messages and `folder` anchors relative paths.
    public init(
        yaml text: String, file: String, folder: URL, overrides: [(key: String, value: ConfigValue)] = []
    ) throws {
        self.file = file
        var shared = TrainingConfig()
        var list: ConfigValue?
        var baseEvaluation: PhaseEvaluation?
        for (key, value) in try ConfigValue.parseYAML(text, file: file) {
            if key == "phases" {
                list = value
            } else if key == "eval" {
                do { baseEvaluation = try PhaseEvaluation(value, folder: folder) } catch {
                    throw TrainingConfigError.unreadable(
                        file: file, reason: (error as? LocalizedError)?.errorDescription ?? "\(error)")
                }
            } else if key == "test" || key == "train" {
                throw TrainingConfigError.invalid(key: key, reason: "\(file): \(Self.reservedPhaseKeys[key]!)")
            } else {
                try shared.set(key, to: value)
            }
        }
        shared.resolvePaths(against: folder)
        for (key, value) in overrides { try shared.set(key, to: value) }
        shared.train = true
        self.shared = shared
        self.baseEvaluation = baseEvaluation
        guard let list else {
            throw TrainingConfigError.incomplete(
                "\(file): no 'phases:' list; a curriculum is a list of {name, data, iters, …} under phases:")
        }
        let items = try list.list("phases")
        guard !items.isEmpty else { throw TrainingConfigError.incomplete("\(file): 'phases:' is empty") }
        adapterFolder = URL(fileURLWithPath: PreparedTrainingRun.expand(shared.adapterPath)).standardizedFileURL
        phases = []
        var startFrom = shared.resumeAdapterFile
        for (index, item) in items.enumerated() {
            var name: String?
            do {
                var config = shared
                var given: [(key: String, value: ConfigValue)] = []
                var evaluation = baseEvaluation
                for (key, value) in try item.map("phases[\(index)]") {
                    if key == "name" {
                        name = try value.string("name")
                    } else if key == "eval" {
                        evaluation = try PhaseEvaluation(value, folder: folder)
                    } else if let reason = Self.reservedPhaseKeys[key] {
                        throw TrainingConfigError.invalid(key: key, reason: "at \(value.place): \(reason)")
                    } else {
                        given.append((key, value))
                    }
                }
                guard let phaseName = name else {
                    throw TrainingConfigError.invalid(key: "name", reason: "missing at \(item.place)")
                }
                try Self.checkName(phaseName, place: item.place, taken: phases.map(\.name))
                for (key, value) in given { try config.set(key, to: value) }
                config.resolvePaths(against: folder)
                let phaseFolder = adapterFolder.appendingPathComponent(phaseName)
                config.adapterPath = phaseFolder.path
                config.resumeAdapterFile = startFrom
                config.train = true
                try config.validate()
                guard config.data != nil else {
                    throw TrainingConfigError.invalid(
                        key: "data", reason: "no data folder: give data: in the phase or at the top level")
                }
                guard config.model != nil else {
                    throw TrainingConfigError.invalid(key: "model", reason: "no model: give model: at the top level")
                }
                phases.append(
                    Phase(name: phaseName, index: index, config: config, folder: phaseFolder, evaluation: evaluation))
                startFrom = phaseFolder.appendingPathComponent(LoRAAdapter.weightsFile).path
            } catch {
                throw CurriculumError.phase(
                    file: file, index: index, name: name,
                    reason: (error as? LocalizedError)?.errorDescription ?? "\(error)")
            }
        }
    }

    /// A phase name is its folder's name: letters, digits, `.`, `_`, `-`, not starting with `.`,
    /// not `best` (the best-validation folder), unique.
    static func checkName(_ name: String, place: String, taken: [String]) throws {
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || "._-".unicodeScalars
                    .contains($0)
        }
        guard !name.isEmpty, name.count <= 64, allowed, !name.hasPrefix(".") else {
            throw TrainingConfigError.invalid(
                key: "name",
                reason: "at \(place): '\(name)' is not a folder name (1–64 of A–Z a–z 0–9 . _ -, not starting with .)")
        }
        guard name != LoRATraining.bestFolder else {
            throw TrainingConfigError.invalid(key: "name", reason: "at \(place): 'best' is the best-validation folder")
        }
        guard !taken.contains(name) else {
            throw TrainingConfigError.invalid(key: "name", reason: "at \(place): a phase named '\(name)' comes earlier")
        }
    }

    /// The iterations of all phases.
    public var totalSteps: Int { phases.reduce(0) { $0 + $1.config.iters } }

    /// The iterations of the phases before `index`: where phase `index` begins on the combined chart.
    public func offset(of index: Int) -> Int { phases[..<index].reduce(0) { $0 + $1.config.iters } }

    /// The curriculum with every phase's model path passed through `transform` (ORG/NAME → a
    /// folder in the Hugging Face cache).
    public func mappingModel(_ transform: (String) -> String) -> Curriculum {
        var copy = self
        for i in copy.phases.indices { copy.phases[i].config.model = copy.phases[i].config.model.map(transform) }
        return copy
    }
}

/// A curriculum file that cannot be used, naming the file, the phase (index and name) and why.
public enum CurriculumError: Error, Equatable, LocalizedError, CustomStringConvertible {
    /// Phase `index` (0-based; shown 1-based) of `file` is wrong.
    case phase(file: String, index: Int, name: String?, reason: String)
    /// The curriculum's state file (which phases are finished) is unreadable.
    case state(file: String, reason: String)

    /// The message: at most 4 KB, control characters escaped.
    public var errorDescription: String? { ErrorText.bounded(text) }

    /// The same message, for string interpolation.
    public var description: String { ErrorText.bounded(text) }

    private var text: String {
        switch self {
        case .phase(let file, let index, let name, let reason):
            return "\(file): phase \(index + 1)\(name.map { " '\($0)'" } ?? ""): \(reason)"
        case .state(let file, let reason): return "\(file): \(reason)"
        }
    }
}
