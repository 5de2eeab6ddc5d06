/// A colour role: what a colour means, resolved to an actual colour by the active theme.
///
/// The raw value is the name used in theme files (`border.focus = #5fafff`).
public enum Role: String, CaseIterable, Hashable, Sendable {
    case text, textDim = "text.dim", background
    case border, borderFocus = "border.focus", title, titleFocus = "title.focus"
    case selection, selectionText = "selection.text", cursor
    case footerKey = "footer.key", footerText = "footer.text", footerBackground = "footer.background"
    case tabActive = "tab.active", tabInactive = "tab.inactive"
    case accent, error, warning, success, info
    case chatUser = "chat.user", chatAssistant = "chat.assistant", chatSystem = "chat.system"
    case heading, code, codeBackground = "code.background", bold
    case diverge
    case lossTrain = "loss.train", lossSmooth = "loss.smooth", lossVal = "loss.val", lossBest = "loss.best"
    case learningRate = "lr", axis, progress, progressEmpty = "progress.empty"
    case tableHeader = "table.header", deltaUp = "delta.up", deltaDown = "delta.down"
    case highlight
    case heatLow = "heat.low", heatMid = "heat.mid", heatHigh = "heat.high"
    case modalBackground = "modal.background"
}

/// A cell colour: nothing (the terminal default), a themed role, a point on the heat scale
/// (0 = `heat.low`, 255 = `heat.high`, through `heat.mid`), or a literal 24-bit colour.
public enum CellColor: Hashable, Sendable {
    case none
    case role(Role)
    case heat(UInt8)
    case rgb(UInt32)

    /// A heat-scale colour for `value` in 0...1 (clamped; NaN maps to the low end).
    public static func heat(fraction value: Double) -> CellColor {
        guard value.isFinite else { return .heat(0) }
        return .heat(UInt8((min(1, max(0, value)) * 255).rounded()))
    }

    var snapshotName: String {
        switch self {
        case .none: return "-"
        case .role(let r): return r.rawValue
        case .heat(let h): return "heat\(h)"
        case .rgb(let v): return "#" + String(v, radix: 16)
        }
    }
}

/// Text attributes a terminal can draw.
public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = TextAttributes(rawValue: 1)
    public static let dim = TextAttributes(rawValue: 2)
    public static let italic = TextAttributes(rawValue: 4)
    public static let underline = TextAttributes(rawValue: 8)
    public static let reverse = TextAttributes(rawValue: 16)

    var snapshotName: String {
        var parts: [String] = []
        if contains(.bold) { parts.append("bold") }
        if contains(.dim) { parts.append("dim") }
        if contains(.italic) { parts.append("italic") }
        if contains(.underline) { parts.append("underline") }
        if contains(.reverse) { parts.append("reverse") }
        return parts.joined(separator: "+")
    }
}

/// The look of one cell: foreground and background colour and attributes.
public struct Style: Hashable, Sendable {
    public var fg: CellColor
    public var bg: CellColor
    public var attributes: TextAttributes

    /// Creates a style; everything defaults to the terminal's plain look.
    public init(fg: CellColor = .none, bg: CellColor = .none, attributes: TextAttributes = []) {
        self.fg = fg
        self.bg = bg
        self.attributes = attributes
    }

    /// The plain style.
    public static let plain = Style()

    /// A style with the foreground colour of `role`.
    public static func role(_ role: Role, _ attributes: TextAttributes = []) -> Style {
        Style(fg: .role(role), attributes: attributes)
    }

    /// This style with `other`'s non-default colours and attributes laid on top.
    public func patched(with other: Style) -> Style {
        Style(
            fg: other.fg == .none ? fg : other.fg,
            bg: other.bg == .none ? bg : other.bg,
            attributes: attributes.union(other.attributes))
    }

    /// This style with the given attributes added.
    public func adding(_ a: TextAttributes) -> Style {
        var s = self
        s.attributes.formUnion(a)
        return s
    }

    /// This style with the given background.
    public func withBackground(_ c: CellColor) -> Style {
        var s = self
        s.bg = c
        return s
    }

    /// A compact description used in snapshot files: `fg/bg/attrs`, `-` for defaults.
    public var snapshotName: String {
        var s = fg.snapshotName
        if bg != .none || !attributes.isEmpty { s += "/" + bg.snapshotName }
        if !attributes.isEmpty { s += "/" + attributes.snapshotName }
        return s
    }
}
