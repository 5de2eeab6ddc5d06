/// Key bindings as data: action names (`chat.send`) bound to keys (`enter`).
///
/// The built-in table comes from `keys/default.keys`; a user file overrides only the actions it
/// names. An action's context (the part before the dot) says where it applies: `global` keys work
/// everywhere the focused panel does not claim the key.
public struct KeyMap: Hashable, Sendable {
    /// Keys bound to each action, in file order.
    public private(set) var bindings: [String: [KeyEvent]]
    var byContext: [String: [KeyEvent: String]] = [:]

    /// Creates a key map from explicit bindings.
    public init(bindings: [String: [KeyEvent]]) {
        self.bindings = bindings
        reindex()
    }

    /// The built-in bindings.
    public static var builtin: KeyMap {
        // The built-in text is part of the program; a parse failure is a programming error caught by tests.
        let parsed = (try? parse(BuiltinConfig.keys, source: "keys/default.keys", known: nil)) ?? []
        return KeyMap(bindings: Dictionary(parsed.map { ($0.action, $0.keys) }, uniquingKeysWith: { $1 }))
    }

    /// Parses key map text into (action, keys) pairs. With `known`, an action outside it is an
    /// error; a key name that does not parse is always an error. Errors name the file and line.
    public static func parse(_ text: String, source: String, known: Set<String>?) throws -> [(
        action: String, keys: [KeyEvent]
    )] {
        var out: [(String, [KeyEvent])] = []
        try ConfigLine.forEach(in: text, source: source, expected: "context.action = key, key") { line in
            let (n, action) = (line.number, line.key)
            guard action.contains("."), known?.contains(action) ?? true else {
                throw ConfigError(source: source, line: n, "unknown action '\(action)'")
            }
            let names = splitKeyList(line.value)
            var keys: [KeyEvent] = []
            for name in names {
                guard let k = KeyEvent(name: name) else {
                    throw ConfigError(source: source, line: n, "unknown key name '\(name)' for '\(action)'")
                }
                keys.append(k)
            }
            out.append((action, keys))
        }
        return out
    }

    /// Splits `a, b, ,` into key names; a lone `,` entry (written `,,`) names the comma key.
    static func splitKeyList(_ s: String) -> [String] {
        var parts: [String] = []
        var current = ""
        for ch in s {
            if ch == ",", !current.trimmed.isEmpty {
                parts.append(current.trimmed)
                current = ""
            } else {
                current.append(ch)
            }
        }
        if !current.trimmed.isEmpty { parts.append(current.trimmed) }
        return parts
    }

    /// This key map with the actions named in `text` rebound; unknown actions and keys are errors.
    public func overriding(with text: String, source: String) throws -> KeyMap {
        var next = self
        for (action, keys) in try Self.parse(text, source: source, known: Set(bindings.keys)) {
            next.bindings[action] = keys
        }
        next.reindex()
        return next
    }

    mutating func reindex() {
        byContext = [:]
        for (action, keys) in bindings.sorted(by: { $0.key < $1.key }) {
            guard let dot = action.firstIndex(of: ".") else { continue }
            let context = String(action[..<dot])
            let name = String(action[action.index(after: dot)...])
            for k in keys { byContext[context, default: [:]][k] = name }
        }
    }

    /// Keys that text inputs keep for editing (`TextInputState`): a global action bound to one
    /// of them does nothing while text is typed.
    static let editingKeys: [KeyEvent] = ["ctrl-a", "ctrl-e", "ctrl-u", "ctrl-k", "ctrl-w", "ctrl-j"].compactMap {
        KeyEvent(name: $0)
    }

    /// Bindings that cannot all do what help says: a key bound to two actions of one context
    /// (only one of them runs), a global key a panel binds too (the panel's action runs there),
    /// and a global key a text input edits with. One sentence each, naming the key and actions;
    /// the built-in table has none.
    public func conflicts() -> [String] {
        var out: [String] = []
        var owners: [String: [KeyEvent: [String]]] = [:]
        for (action, keys) in bindings.sorted(by: { $0.key < $1.key }) {
            guard let dot = action.firstIndex(of: ".") else { continue }
            for k in keys { owners[String(action[..<dot]), default: [:]][k, default: []].append(action) }
        }
        for map in owners.sorted(by: { $0.key < $1.key }).map(\.value) {
            for (k, actions) in map.sorted(by: { $0.key.name < $1.key.name }) where actions.count > 1 {
                out.append("\(k.name) is bound to \(actions.joined(separator: " and ")): only \(actions.last!) runs")
            }
        }
        for (k, globals) in (owners["global"] ?? [:]).sorted(by: { $0.key.name < $1.key.name }) {
            for (context, map) in owners.sorted(by: { $0.key < $1.key }) where context != "global" {
                if let local = map[k]?.last {
                    out.append("\(k.name) is bound to \(globals.last!) and \(local): in \(context) it does \(local)")
                }
            }
            if Self.editingKeys.contains(k) {
                out.append(
                    "\(k.name) is bound to \(globals.last!) but edits text in input boxes: there it does not run")
            }
        }
        return out
    }

    /// The action (without its context prefix) bound to `key` in `context`, if any.
    public func action(for key: KeyEvent, in context: String) -> String? { byContext[context]?[key] }

    /// The spelling of the first key bound to `context.action`, for footers and help ("" if unbound).
    public func keyName(_ action: String) -> String { bindings[action]?.first?.name ?? "" }

    /// A footer hint for an action: its first key and a label. With `whileTyping`, a key that a
    /// text input would swallow (a plain character) is skipped in favour of a chord.
    public func hint(_ action: String, _ label: String, whileTyping: Bool = false) -> KeyHint {
        guard whileTyping, let all = bindings[action] else { return KeyHint(keyName(action), label) }
        let usable = all.first { k in
            if case .char = k.key { return !k.modifiers.isEmpty }
            return true
        }
        return KeyHint(usable?.name ?? keyName(action), label)
    }
}
