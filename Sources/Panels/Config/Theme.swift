/// A 24-bit colour.
public struct RGB: Hashable, Sendable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    /// Creates a colour from components.
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// Creates a colour from `0xRRGGBB`.
    public init(hex: UInt32) { self.init(UInt8((hex >> 16) & 0xFF), UInt8((hex >> 8) & 0xFF), UInt8(hex & 0xFF)) }

    /// Parses `#rrggbb`; nil otherwise.
    public init?(parsing s: String) {
        guard s.count == 7, s.first == "#", let v = UInt32(s.dropFirst(), radix: 16) else { return nil }
        self.init(hex: v)
    }

    /// Linear interpolation between two colours, `t` in 0...1.
    public static func mix(_ a: RGB, _ b: RGB, _ t: Double) -> RGB {
        func m(_ x: UInt8, _ y: UInt8) -> UInt8 {
            UInt8((Double(x) + (Double(y) - Double(x)) * min(1, max(0, t))).rounded())
        }
        return RGB(m(a.r, b.r), m(a.g, b.g), m(a.b, b.b))
    }
}

/// A bad line in a theme or key map file: the message names the file, the line and the problem.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var description: String

    /// Creates an error reading `source:line: message`.
    public init(source: String, line: Int, _ message: String) { description = "\(source):\(line): \(message)" }
}

/// One `key = value` line of a theme or key map file, with its 1-based line number.
struct ConfigLine {
    var number: Int
    var key: String
    var value: String

    /// Calls `body` with each assignment of `text` in order, skipping blank lines and `# `
    /// comments; a line without `=` is an error naming `source`, the line and `expected`.
    static func forEach(
        in text: String, source: String, expected: String, _ body: (ConfigLine) throws -> Void
    ) throws {
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmed
            if line.isEmpty || line.hasPrefix("# ") || line == "#" { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw ConfigError(source: source, line: n + 1, "expected `\(expected)`, got '\(line)'")
            }
            try body(ConfigLine(number: n + 1, key: line[..<eq].trimmed, value: line[line.index(after: eq)...].trimmed))
        }
    }
}

/// Colours by role. A theme file names roles (`border.focus = #5fafff`); whatever it does not
/// name comes from the theme it is laid over (the built-in dark theme at the bottom).
public struct Theme: Hashable, Sendable {
    public var name: String
    /// The colour of each role; nil means the terminal's default colour.
    public var colors: [Role: RGB?]

    /// Creates a theme from explicit colours.
    public init(name: String, colors: [Role: RGB?]) {
        self.name = name
        self.colors = colors
    }

    /// The colour for a role (nil: the terminal default).
    public func color(_ role: Role) -> RGB? { colors[role] ?? nil }

    /// The heat-scale colour at `level` (0...255): low → mid → high.
    public func heat(_ level: UInt8) -> RGB {
        let low = color(.heatLow) ?? RGB(0, 0, 0)
        let high = color(.heatHigh) ?? RGB(255, 255, 255)
        let t = Double(level) / 255
        guard let mid = color(.heatMid) else { return RGB.mix(low, high, t) }
        return t < 0.5 ? RGB.mix(low, mid, t * 2) : RGB.mix(mid, high, (t - 0.5) * 2)
    }

    /// The concrete colour of a cell colour (nil: the terminal default).
    public func resolve(_ c: CellColor) -> RGB? {
        switch c {
        case .none: return nil
        case .role(let r): return color(r)
        case .heat(let h): return heat(h)
        case .rgb(let v): return RGB(hex: v)
        }
    }

    /// Parses theme text into role assignments; errors name `source`, the line and the bad role or value.
    public static func parse(_ text: String, source: String) throws -> [Role: RGB?] {
        var out: [Role: RGB?] = [:]
        try ConfigLine.forEach(in: text, source: source, expected: "role = #rrggbb") { line in
            let (n, key, value) = (line.number, line.key, line.value)
            if key == "name" { return }
            guard let role = Role(rawValue: key) else {
                throw ConfigError(source: source, line: n, "unknown colour role '\(key)'")
            }
            if value == "default" {
                out[role] = .some(nil)
                return
            }
            guard let rgb = RGB(parsing: value) else {
                throw ConfigError(
                    source: source, line: n, "colour for '\(key)' must be #rrggbb or default, got '\(value)'")
            }
            out[role] = rgb
        }
        return out
    }

    /// This theme with the roles named in `text` replaced.
    public func overriding(with text: String, source: String, name: String? = nil) throws -> Theme {
        var t = self
        for (role, c) in try Self.parse(text, source: source) { t.colors[role] = c }
        if let name { t.name = name }
        return t
    }

    /// The built-in theme names, default first.
    public static var builtinNames: [String] { BuiltinConfig.themes.map(\.name) }

    /// A built-in theme by name (laid over the dark theme), or nil for an unknown name.
    public static func builtin(_ name: String) -> Theme? {
        guard
            let base = try? Theme(name: "dark", colors: [:]).overriding(
                with: BuiltinConfig.themes[0].text, source: "dark.theme"),
            let entry = BuiltinConfig.themes.first(where: { $0.name == name })
        else { return nil }
        return try? base.overriding(with: entry.text, source: "\(name).theme", name: name)
    }

    /// The default theme.
    public static var dark: Theme { builtin("dark")! }
}

extension StringProtocol {
    /// The text without surrounding spaces and tabs.
    var trimmed: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
