import CNCurses
import Foundation
import Panels

/// Whether curses is active, read by the signal and exit handlers to restore the terminal.
nonisolated(unsafe) var cursesActive = false

/// Restores the terminal if curses is active; safe to call more than once.
func restoreTerminal() {
    if cursesActive {
        cursesActive = false
        TerminalModes.bracketedPasteOff.withUnsafeBytes { _ = write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        endwin()
    }
}

/// Terminal modes set by escape sequences curses does not manage, and the window-size signal.
enum TerminalModes {
    /// Bracketed paste: the terminal wraps pasted text in `ESC[200~` … `ESC[201~`.
    static let bracketedPasteOn = Array("\u{1b}[?2004h".utf8)
    static let bracketedPasteOff = Array("\u{1b}[?2004l".utf8)
    /// Key codes `define_key` gives the two paste markers (above curses' own codes).
    static let pasteStart = KEY_MAX + 101
    static let pasteEnd = KEY_MAX + 102

    /// The write end of the pipe the SIGWINCH handler signals; -1 until installed.
    nonisolated(unsafe) static var resizeWriteFD: Int32 = -1
    /// The handler curses installed for SIGWINCH, chained so its next read reports KEY_RESIZE.
    nonisolated(unsafe) static var cursesWinch: (@convention(c) (Int32) -> Void)?

    /// Installs the SIGWINCH handler (after curses installed its own) and returns the pipe's read
    /// end: the signal may land on any thread, so the event loop polls the pipe instead of
    /// relying on its poll being interrupted.
    static func watchResizes() -> Int32? {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        resizeWriteFD = fds[1]
        let previous = signal(SIGWINCH) { sig in
            var byte: UInt8 = 1
            _ = write(TerminalModes.resizeWriteFD, &byte, 1)
            TerminalModes.cursesWinch?(sig)
        }
        // SIG_DFL (0) and SIG_IGN (1) are not handlers to call.
        if let previous, unsafeBitCast(previous, to: Int.self) > 1 { cursesWinch = previous }
        return fds[0]
    }
}

/// The only code that talks to ncurses: it starts and ends the wide-character terminal mode,
/// draws a `ScreenBuffer` by writing only the cells that changed since the last frame, and
/// turns key codes and mouse reports into `InputEvent`s.
final class TerminalScreen {
    let window: OpaquePointer
    let depth: ColorDepth
    private var pairs: ColorPairs
    private var previous = ScreenBuffer(width: 0, height: 0)
    private var theme: Theme
    private var forceFull = true
    /// Pasted text read so far while inside a bracketed paste (it can span several reads).
    private var paste: String?
    /// The read end of the window-size pipe (see `TerminalModes.watchResizes`), polled by the loop.
    private(set) var resizeFD: Int32 = -1

    /// Enters curses mode (locale, raw keys, mouse, colours) and installs the restore handlers.
    init(theme: Theme, environment: [String: String]) throws {
        setlocale(LC_ALL, "")
        if let direct = ColorDepth.directTerm(environment: environment), Self.terminfoExists(direct) {
            setenv("TERM", direct, 1)
        }
        TerminalGuard.install()
        guard let w = initscr() else {
            throw WorkbenchError("cannot initialise the terminal (TERM=\(environment["TERM"] ?? "unset"))")
        }
        window = OpaquePointer(w)
        cursesActive = true
        raw()
        noecho()
        nonl()
        keypad(w, true)
        nodelay(w, true)
        set_escdelay(25)
        define_key("\u{1b}[200~", TerminalModes.pasteStart)
        define_key("\u{1b}[201~", TerminalModes.pasteEnd)
        TerminalModes.bracketedPasteOn.withUnsafeBytes { _ = write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        resizeFD = TerminalModes.watchResizes() ?? -1
        curs_set(0)
        mousemask(CursesConstants.allMouseEvents, nil)
        mouseinterval(0)
        var colors = 0
        if has_colors() {
            start_color()
            use_default_colors()
            colors = Int(tigetnum("colors"))
        }
        depth = ColorDepth.detect(environment: environment, colors: colors)
        let maxPairs = has_colors() ? Int(tigetnum("pairs")) : 0
        pairs = ColorPairs(depth: depth, maxPairs: min(max(maxPairs, 64), 32767))
        self.theme = theme
    }

    static func terminfoExists(_ name: String) -> Bool {
        guard let first = name.first else { return false }
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        let dirs = ["\(home)/.terminfo", "/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo", "/usr/lib/terminfo"]
        return dirs.contains { FileManager.default.fileExists(atPath: "\($0)/\(first)/\(name)") }
    }

    /// The terminal size in cells.
    var size: (width: Int, height: Int) {
        let w = UnsafeMutablePointer<WINDOW>(window)
        return (Int(getmaxx(w)), Int(getmaxy(w)))
    }

    /// Switches theme; the next frame is drawn in full.
    func setTheme(_ t: Theme) {
        theme = t
        pairs.reset()
        forceFull = true
    }

    /// Ends curses mode and restores the terminal.
    func shutdown() { restoreTerminal() }

    // MARK: Drawing

    /// Writes the cells that differ from the previous frame and refreshes; returns how many
    /// cells were written.
    @discardableResult
    func draw(_ frame: ScreenBuffer) -> Int {
        let w = UnsafeMutablePointer<WINDOW>(window)
        if frame.width != previous.width || frame.height != previous.height || forceFull {
            werase(w)
            previous = ScreenBuffer(width: frame.width, height: frame.height, fill: Cell("\u{1}", width: 1))
            forceFull = false
            clearok(w, true)
        }
        var written = 0
        var cchar = cchar_t()
        for y in 0..<frame.height {
            for x in 0..<frame.width {
                let i = y * frame.width + x
                let cell = frame.cells[i]
                guard cell.width != 0, cell != previous.cells[i] else { continue }
                // The last cell of the screen cannot take a wide character.
                if cell.width == 2 && x + 1 >= frame.width { continue }
                guard let pair = colorPair(cell.style) else {
                    pairs.reset()
                    forceFull = true
                    return draw(frame)
                }
                var attrs = attributes(cell.style)
                // Without colour, or with 8 colours where the selection tint maps to black, a
                // highlighted background is shown reversed instead.
                if depth == .none, cell.style.bg != .none, cell.style.bg != .role(.background) {
                    attrs |= CursesConstants.reverse
                }
                if depth == .ansi8, cell.style.bg == .role(.selection) { attrs |= CursesConstants.reverse }
                var wide: [wchar_t] = cell.symbol.unicodeScalars.prefix(Int(CCHARW_MAX)).map {
                    wchar_t(bitPattern: $0.value)
                }
                if wide.isEmpty { wide = [32] }
                wide.append(0)
                var ext = pair
                _ = setcchar(&cchar, wide, attrs, 0, &ext)
                mvwadd_wch(w, Int32(y), Int32(x), &cchar)
                written += 1
            }
        }
        previous = frame
        wnoutrefresh(w)
        doupdate()
        return written
    }

    private func attributes(_ s: Style) -> attr_t {
        var a: attr_t = 0
        if s.attributes.contains(.bold) { a |= CursesConstants.bold }
        if s.attributes.contains(.dim) { a |= CursesConstants.dim }
        if s.attributes.contains(.italic) { a |= CursesConstants.italic }
        if s.attributes.contains(.underline) { a |= CursesConstants.underline }
        if s.attributes.contains(.reverse) { a |= CursesConstants.reverse }
        return a
    }

    private func colorPair(_ s: Style) -> Int32? {
        pairs.pair(fg: theme.resolve(s.fg), bg: theme.resolve(s.bg == .none ? .role(.background) : s.bg))
    }

    // MARK: Input

    /// Clears the window-size pipe after a wake-up and makes curses take the terminal's size
    /// now (curses also reports KEY_RESIZE on its next read).
    func drainResizes() {
        var buf = [UInt8](repeating: 0, count: 16)
        while resizeFD >= 0, read(resizeFD, &buf, buf.count) > 0 {}
        var ws = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 else { return }
        if Int(ws.ws_col) != size.width || Int(ws.ws_row) != size.height {
            resizeterm(Int32(ws.ws_row), Int32(ws.ws_col))
        }
    }

    /// Reads every pending input event without blocking. A bracketed paste becomes one
    /// `.paste` event holding its text (Enter inside it is a line break, not a key).
    func readEvents() -> [TerminalInput] {
        let w = UnsafeMutablePointer<WINDOW>(window)
        var out: [TerminalInput] = []
        var pendingAlt = false
        while true {
            var ch: wint_t = 0
            let rc = wget_wch(w, &ch)
            if rc == ERR { break }
            if rc == KEY_CODE_YES {
                let code = Int32(ch)
                if code == KEY_RESIZE {
                    out.append(.resize)
                    continue
                }
                if code == TerminalModes.pasteStart {
                    paste = ""
                    pendingAlt = false
                    continue
                }
                if code == TerminalModes.pasteEnd {
                    if let text = paste { out.append(.input(.paste(text))) }
                    paste = nil
                    continue
                }
                if paste != nil { continue }  // a terminal sends no keys inside a paste
                if code == KEY_MOUSE {
                    var ev = MEVENT()
                    if getmouse(&ev) == OK, let m = Self.mouse(ev) { out.append(.input(.mouse(m))) }
                    continue
                }
                if var k = Self.functionKey(code) {
                    if pendingAlt {
                        k.modifiers.insert(.alt)
                        pendingAlt = false
                    }
                    out.append(.input(.key(k)))
                }
                continue
            }
            let v = UInt32(ch)
            if paste != nil {
                if v == 13 { paste?.append("\n") } else if let s = Unicode.Scalar(v) { paste?.unicodeScalars.append(s) }
                continue
            }
            if v == 27 {
                if pendingAlt { out.append(.input(.key(KeyEvent(.escape)))) }
                pendingAlt = true
                continue
            }
            guard var k = Self.characterKey(v) else { continue }
            if pendingAlt {
                k.modifiers.insert(.alt)
                pendingAlt = false
            }
            out.append(.input(.key(k)))
        }
        if pendingAlt { out.append(.input(.key(KeyEvent(.escape)))) }
        return out
    }

    static func characterKey(_ v: UInt32) -> KeyEvent? {
        switch v {
        case 13: return KeyEvent(.enter)
        case 9: return KeyEvent(.tab)
        case 127, 8: return KeyEvent(.backspace)
        case 0: return KeyEvent(.char(" "), .ctrl)
        case 1...26: return KeyEvent(.char(Character(Unicode.Scalar(v + 96)!)), .ctrl)
        case 28...31: return nil
        default:
            guard let s = Unicode.Scalar(v) else { return nil }
            return KeyEvent(.char(Character(s)))
        }
    }

    static func functionKey(_ code: Int32) -> KeyEvent? {
        let plain: [Int32: Key] = [
            KEY_UP: .up, KEY_DOWN: .down, KEY_LEFT: .left, KEY_RIGHT: .right, KEY_HOME: .home, KEY_END: .end,
            KEY_PPAGE: .pageUp, KEY_NPAGE: .pageDown, KEY_DC: .delete, KEY_IC: .insert, KEY_BTAB: .backTab,
            KEY_BACKSPACE: .backspace, KEY_ENTER: .enter
        ]
        if let key = plain[code] { return KeyEvent(key) }
        switch code {
        case KEY_SLEFT: return KeyEvent(.left, .shift)
        case KEY_SRIGHT: return KeyEvent(.right, .shift)
        case KEY_F0 + 1...KEY_F0 + 24: return KeyEvent(.function(Int(code - KEY_F0)))
        default:
            // Modified cursor keys have terminfo names like kRIT5 (ctrl) or kLFT3 (alt).
            guard let raw = keyname(code) else { return nil }
            return modifiedKey(String(cString: raw))
        }
    }

    /// Parses extended key names (`kRIT5` = ctrl-right, `kUP3` = alt-up, …).
    static func modifiedKey(_ name: String) -> KeyEvent? {
        let bases: [(String, Key)] = [
            ("kRIT", .right), ("kLFT", .left), ("kUP", .up), ("kDN", .down), ("kHOM", .home), ("kEND", .end),
            ("kDC", .delete), ("kNXT", .pageDown), ("kPRV", .pageUp)
        ]
        guard let (prefix, key) = bases.first(where: { name.hasPrefix($0.0) }),
            let n = Int(name.dropFirst(prefix.count))
        else { return nil }
        // xterm modifier code: 1 + (shift 1 | alt 2 | ctrl 4)
        let bits = n - 1
        var mods: Modifiers = []
        if bits & 1 != 0 { mods.insert(.shift) }
        if bits & 2 != 0 { mods.insert(.alt) }
        if bits & 4 != 0 { mods.insert(.ctrl) }
        return KeyEvent(key, mods)
    }

    static func mouse(_ ev: MEVENT) -> MouseEvent? {
        let b = ev.bstate
        let x = Int(ev.x)
        let y = Int(ev.y)
        if b & CursesConstants.wheelUp != 0 { return MouseEvent(x: x, y: y, action: .wheelUp) }
        if b & CursesConstants.wheelDown != 0 { return MouseEvent(x: x, y: y, action: .wheelDown) }
        for button in 1...3 {
            if b
                & (CursesConstants.mouse(button, CursesConstants.pressed)
                    | CursesConstants.mouse(button, CursesConstants.clicked)) != 0
            {
                return MouseEvent(x: x, y: y, action: .press(button: button))
            }
            if b & CursesConstants.mouse(button, CursesConstants.released) != 0 {
                return MouseEvent(x: x, y: y, action: .release)
            }
        }
        return nil
    }
}

/// What the terminal reported.
enum TerminalInput {
    case input(InputEvent)
    case resize
}

/// An error of the workbench driver, shown on stderr after the terminal is restored.
struct WorkbenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
