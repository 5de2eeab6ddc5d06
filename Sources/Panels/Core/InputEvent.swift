/// A key on the keyboard, independent of the terminal's encoding.
public enum Key: Hashable, Sendable {
    case char(Character)
    case enter, escape, backspace, delete, tab, backTab, insert
    case up, down, left, right, home, end, pageUp, pageDown
    case function(Int)
}

/// Modifier keys held with a key.
public struct Modifiers: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let ctrl = Modifiers(rawValue: 1)
    public static let alt = Modifiers(rawValue: 2)
    public static let shift = Modifiers(rawValue: 4)
}

/// A key press with its modifiers; `name` is the spelling used in key map files (`ctrl-p`).
public struct KeyEvent: Hashable, Sendable, CustomStringConvertible {
    public var key: Key
    public var modifiers: Modifiers

    /// Creates a key event.
    public init(_ key: Key, _ modifiers: Modifiers = []) {
        self.key = key
        self.modifiers = modifiers
    }

    /// A printable character without modifiers.
    public static func char(_ c: Character) -> KeyEvent { KeyEvent(.char(c)) }
    /// A Ctrl+letter chord.
    public static func ctrl(_ c: Character) -> KeyEvent { KeyEvent(.char(c), .ctrl) }

    static let namedKeys: [(String, Key)] = [
        ("enter", .enter), ("esc", .escape), ("backspace", .backspace), ("delete", .delete),
        ("tab", .tab), ("backtab", .backTab), ("insert", .insert), ("up", .up), ("down", .down),
        ("left", .left), ("right", .right), ("home", .home), ("end", .end), ("pgup", .pageUp),
        ("pgdn", .pageDown), ("space", .char(" "))
    ]

    /// The key map spelling: modifiers (`ctrl-`, `alt-`, `shift-`) then the key name.
    public var name: String {
        var prefix = ""
        if modifiers.contains(.ctrl) { prefix += "ctrl-" }
        if modifiers.contains(.alt) { prefix += "alt-" }
        if modifiers.contains(.shift) { prefix += "shift-" }
        switch key {
        case .char(" "): return prefix + "space"
        case .char(let c): return prefix + String(c)
        case .function(let n): return prefix + "f\(n)"
        default:
            return prefix + (Self.namedKeys.first { $0.1 == key }?.0 ?? "?")
        }
    }

    public var description: String { name }

    /// Parses a key map spelling such as `q`, `?`, `ctrl-p`, `alt-enter`, `shift-tab`, `f1`, `pgdn`;
    /// nil for an unknown name.
    public init?(name raw: String) {
        var rest = Substring(raw.trimmingCharacters(in: " \t").lowercasedIfNamed())
        var mods: Modifiers = []
        while true {
            if rest.hasPrefix("ctrl-"), rest.count > 5 {
                mods.insert(.ctrl)
                rest = rest.dropFirst(5)
            } else if rest.hasPrefix("alt-"), rest.count > 4 {
                mods.insert(.alt)
                rest = rest.dropFirst(4)
            } else if rest.hasPrefix("shift-"), rest.count > 6 {
                mods.insert(.shift)
                rest = rest.dropFirst(6)
            } else {
                break
            }
        }
        if rest.count == 1, let c = rest.first {
            let lower = mods.contains(.ctrl) ? Character(c.lowercased()) : c
            self.init(.char(lower), mods)
            return
        }
        if rest == "shift-tab" || (rest == "tab" && mods.contains(.shift)) {
            self.init(.backTab, mods.subtracting(.shift))
            return
        }
        if let named = Self.namedKeys.first(where: { $0.0 == rest.lowercased() }) {
            self.init(named.1, mods)
            return
        }
        if rest.lowercased().hasPrefix("f"), let n = Int(rest.dropFirst()), (1...24).contains(n) {
            self.init(.function(n), mods)
            return
        }
        return nil
    }
}

extension String {
    /// Lower-cases multi-character key names (`Ctrl-P` → `ctrl-p`) but keeps single characters,
    /// so `Q` and `q` stay distinct keys.
    fileprivate func lowercasedIfNamed() -> String {
        if count == 1 { return self }
        guard let dash = lastIndex(of: "-"), dash != index(before: endIndex) else { return lowercased() }
        let head = self[..<dash].lowercased()
        let tail = String(self[index(after: dash)...])
        return head + "-" + (tail.count == 1 ? tail : tail.lowercased())
    }

    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

/// What the mouse did.
public enum MouseAction: Hashable, Sendable {
    case press(button: Int)
    case release
    case wheelUp
    case wheelDown
}

/// A mouse event at a screen cell.
public struct MouseEvent: Hashable, Sendable {
    public var x: Int
    public var y: Int
    public var action: MouseAction

    /// Creates a mouse event.
    public init(x: Int, y: Int, action: MouseAction) {
        self.x = x
        self.y = y
        self.action = action
    }
}

/// Input delivered to the focused panel.
public enum InputEvent: Hashable, Sendable {
    case key(KeyEvent)
    case mouse(MouseEvent)
    /// Text pasted in one piece (the terminal's bracketed paste): it lands in the text input
    /// being typed in as text, so its line breaks never act as Enter.
    case paste(String)
}

/// What an input handler did with an event, telling the loop whether to redraw or stop.
public enum EventResult: Hashable, Sendable {
    /// Not for this handler: offer it to the next one.
    case ignored
    /// Consumed; nothing visible changed.
    case handled
    /// Consumed and the screen must be redrawn.
    case redraw
    /// The application should end.
    case quit
}
