/// One screen of the workbench (Chat, Train, Bench, Attention): it draws itself, publishes its
/// key hints and help, and turns input into state changes and intents.
public protocol Panel {
    /// The tab title.
    var title: String { get }
    /// The key map context of this panel's actions (`chat` for `chat.send`).
    var keyContext: String { get }
    /// Whether plain character keys go to a text input (so single-character global keys do not fire).
    var capturesText: Bool { get }
    /// The work this panel shows that is still running, one short phrase each ("an answer in
    /// Chat"); quitting asks first and names it.
    var runningWork: [String] { get }
    /// Whether the panel animates and wants timer ticks.
    var isAnimating: Bool { get }

    /// The footer hints for the current state.
    func hints(keys: KeyMap) -> [KeyHint]
    /// The lines of this panel's help overlay.
    func helpLines(keys: KeyMap) -> [StyledLine]
    /// Draws the panel into `area`.
    func render(into buffer: inout ScreenBuffer, area: Rect, focused: Bool)
    /// Handles input given the area the panel occupies; emits intents through `emit`.
    mutating func handle(_ event: InputEvent, area: Rect, keys: KeyMap, emit: (WorkbenchIntent) -> Void) -> EventResult
    /// Advances animations; returns whether anything changed.
    mutating func tick() -> Bool
}

extension Panel {
    public var capturesText: Bool { false }
    public var runningWork: [String] { [] }
    /// Whether work this panel shows is running.
    public var isBusy: Bool { !runningWork.isEmpty }
    public var isAnimating: Bool { false }
    public mutating func tick() -> Bool { false }
}

/// Builds help lines from (action, description) pairs using the bound keys; only keys that
/// `works` accepts are listed ("—" when none of an action's keys works here).
func helpTable(_ keys: KeyMap, _ entries: [(String, String)], works: (KeyEvent) -> Bool = { _ in true }) -> [StyledLine]
{
    let names = entries.map { entry -> String in
        let usable = (keys.bindings[entry.0] ?? []).filter(works).map(\.name)
        return usable.isEmpty ? "—" : usable.joined(separator: " ")
    }
    let column = min(24, (names.map { DisplayWidth.width(of: $0) }.max() ?? 0) + 2)
    return zip(entries, names).map { entry, keyNames in
        let text = entry.1
        var l = StyledLine()
        l.append(DisplayWidth.pad(keyNames, to: column), .role(.footerKey, .bold))
        l.append(text, .role(.text))
        return l
    }
}
