import Yams

/// One value of the training configuration as written, before it is typed: a YAML node or a
/// command-line flag's text, with the place it came from for error messages.
public indirect enum ConfigValue: Sendable, Equatable {
    case scalar(String, place: String)
    case list([ConfigValue], place: String)
    case map([(key: String, value: ConfigValue)], place: String)
    case null(place: String)

    public static func == (a: ConfigValue, b: ConfigValue) -> Bool {
        switch (a, b) {
        case (.scalar(let x, _), .scalar(let y, _)): return x == y
        case (.list(let x, _), .list(let y, _)): return x == y
        case (.map(let x, _), .map(let y, _)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.null, .null): return true
        default: return false
        }
    }

    /// Where the value came from: `file:line` or `--flag`.
    public var place: String {
        switch self {
        case .scalar(_, let p), .list(_, let p), .map(_, let p), .null(let p): return p
        }
    }

    /// Converts a composed YAML node, recording `file:line` of each value.
    init(node: Node, file: String) throws {
        let place = "\(file):\(node.mark?.line ?? 0)"
        switch node {
        case .scalar(let scalar):
            // `~`, `null` and an empty plain scalar are YAML nulls.
            if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                self = .null(place: place)
            } else {
                self = .scalar(scalar.string, place: place)
            }
        case .sequence(let sequence):
            self = .list(try sequence.map { try ConfigValue(node: $0, file: file) }, place: place)
        case .mapping(let mapping):
            var pairs: [(key: String, value: ConfigValue)] = []
            for (key, value) in mapping {
                guard let name = key.string else {
                    throw TrainingConfigError.unreadable(file: place, reason: "mapping keys must be strings")
                }
                pairs.append((name, try ConfigValue(node: value, file: file)))
            }
            self = .map(pairs, place: place)
        case .alias:
            throw TrainingConfigError.unreadable(file: place, reason: "YAML aliases are not supported")
        }
    }

    /// Parses a YAML document whose top level is a mapping.
    static func parseYAML(_ text: String, file: String) throws -> [(key: String, value: ConfigValue)] {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw TrainingConfigError.unreadable(file: file, reason: "not valid YAML: \(error)")
        }
        guard let node else { return [] }
        guard case .map(let pairs, _) = try ConfigValue(node: node, file: file) else {
            throw TrainingConfigError.unreadable(file: file, reason: "the top level must be a mapping of option names to values")
        }
        return pairs
    }

    func int(_ key: String) throws -> Int {
        if case .scalar(let text, _) = self, let value = Int(text.replacingOccurrences(of: "_", with: "")) { return value }
        throw TrainingConfigError.invalid(key: key, reason: "expected an integer at \(place), got \(summary)")
    }

    func double(_ key: String) throws -> Double {
        if case .scalar(let text, _) = self, let value = Double(text.replacingOccurrences(of: "_", with: "")) { return value }
        throw TrainingConfigError.invalid(key: key, reason: "expected a number at \(place), got \(summary)")
    }

    func bool(_ key: String) throws -> Bool {
        if case .scalar(let text, _) = self {
            switch text.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: break
            }
        }
        throw TrainingConfigError.invalid(key: key, reason: "expected true or false at \(place), got \(summary)")
    }

    func string(_ key: String) throws -> String {
        if case .scalar(let text, _) = self { return text }
        throw TrainingConfigError.invalid(key: key, reason: "expected a string at \(place), got \(summary)")
    }

    func map(_ key: String) throws -> [(key: String, value: ConfigValue)] {
        if case .map(let pairs, _) = self { return pairs }
        throw TrainingConfigError.invalid(key: key, reason: "expected a mapping at \(place), got \(summary)")
    }

    func list(_ key: String) throws -> [ConfigValue] {
        if case .list(let items, _) = self { return items }
        throw TrainingConfigError.invalid(key: key, reason: "expected a list at \(place), got \(summary)")
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    private var summary: String {
        switch self {
        case .scalar(let text, _): return "'\(text)'"
        case .list: return "a list"
        case .map: return "a mapping"
        case .null: return "null"
        }
    }
}
