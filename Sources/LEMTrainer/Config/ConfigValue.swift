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
        var walk = YAMLWalk()
        try self.init(node: node, file: file, walk: &walk)
    }

    /// What a conversion has seen: the node count (a backstop to `preflight`'s alias check).
    struct YAMLWalk {
        var nodes = 0
    }

    /// The most nodes a config document may have (mlx_lm configs have under a hundred).
    static let maxNodes = 10_000
    /// The most bytes a config document may have.
    static let maxBytes = 1 << 20
    /// The deepest nesting of flow lists and maps (`[[[...]]]`) accepted.
    static let maxFlowDepth = 64

    private init(node: Node, file: String, walk: inout YAMLWalk) throws {
        let place = "\(file):\(node.mark?.line ?? 0)"
        walk.nodes += 1
        guard walk.nodes <= Self.maxNodes else {
            throw TrainingConfigError.unreadable(file: place, reason: "more than \(Self.maxNodes) values in one config")
        }
        switch node {
        case .scalar(let scalar):
            // `~`, `null` and an empty plain scalar are YAML nulls.
            if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                self = .null(place: place)
            } else {
                self = .scalar(scalar.string, place: place)
            }
        case .sequence(let sequence):
            self = .list(try sequence.map { try ConfigValue(node: $0, file: file, walk: &walk) }, place: place)
        case .mapping(let mapping):
            var pairs: [(key: String, value: ConfigValue)] = []
            for (key, value) in mapping {
                guard let name = key.string else {
                    throw TrainingConfigError.unreadable(file: place, reason: "mapping keys must be strings")
                }
                pairs.append((name, try ConfigValue(node: value, file: file, walk: &walk)))
            }
            self = .map(pairs, place: place)
        case .alias:
            throw TrainingConfigError.unreadable(file: place, reason: "YAML aliases are not supported")
        }
    }

    /// Parses a YAML document whose top level is a mapping. Aliases are refused (a "billion
    /// laughs" document expands exponentially); size and flow nesting are bounded before the
    /// YAML parser, which recurses once per level, sees the text.
    public static func parseYAML(_ text: String, file: String) throws -> [(key: String, value: ConfigValue)] {
        guard text.utf8.count <= maxBytes else {
            throw TrainingConfigError.unreadable(
                file: file, reason: "\(text.utf8.count) bytes, more than a config may have (\(maxBytes))")
        }
        if let (line, reason) = preflight(text) {
            throw TrainingConfigError.unreadable(file: "\(file):\(line)", reason: reason)
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw TrainingConfigError.unreadable(file: file, reason: "not valid YAML: \(error)")
        }
        guard let node else { return [] }
        guard case .map(let pairs, _) = try ConfigValue(node: node, file: file) else {
            throw TrainingConfigError.unreadable(
                file: file, reason: "the top level must be a mapping of option names to values")
        }
        return pairs
    }

    /// The first line with an alias (`*name` where a value starts) or with `[`/`{` nested past
    /// `maxFlowDepth`, outside quotes and comments, and why. Checked on the text because Yams
    /// hands aliases back as copies of the anchored node, indistinguishable once composed.
    /// Brackets inside plain scalars are counted too, which only makes the check stricter.
    static func preflight(_ text: String) -> (line: Int, reason: String)? {
        var depth = 0
        var line = 1
        var quote: UInt8? = nil
        var comment = false
        var previous: UInt8 = 0x20
        var lastToken: UInt8 = 0x0A  // the last byte that was not a space
        for byte in text.utf8 {
            defer {
                previous = byte
                if byte != 0x20 && byte != 0x09 { lastToken = byte }
            }
            if byte == 0x0A {
                line += 1
                comment = false
                continue
            }
            if comment { continue }
            if let q = quote {
                if byte == q && !(q == 0x22 && previous == 0x5C) { quote = nil }
                continue
            }
            switch byte {
            case 0x22, 0x27: quote = byte
            case 0x23 where previous == 0x20 || previous == 0x09 || previous == 0x0A: comment = true
            case 0x2A where [0x0A, 0x3A, 0x2D, 0x5B, 0x7B, 0x2C, 0x3F].contains(lastToken):
                return (line, "YAML aliases (*name) are not supported")
            case 0x5B, 0x7B:
                depth += 1
                if depth > maxFlowDepth { return (line, "lists or maps nested deeper than \(maxFlowDepth)") }
            case 0x5D, 0x7D: depth = max(0, depth - 1)
            default: break
            }
        }
        return nil
    }

    func int(_ key: String) throws -> Int {
        if case .scalar(let text, _) = self, let value = Int(text.replacingOccurrences(of: "_", with: "")) {
            return value
        }
        throw TrainingConfigError.invalid(key: key, reason: "expected an integer at \(place), got \(summary)")
    }

    func double(_ key: String) throws -> Double {
        if case .scalar(let text, _) = self, let value = Double(text.replacingOccurrences(of: "_", with: "")) {
            return value
        }
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
