/// How many colours the terminal can show, and how to map a 24-bit colour onto them.
public enum ColorDepth: String, Hashable, Sendable {
    /// No colour (NO_COLOR, or a monochrome terminal): attributes only.
    case none
    /// The eight ANSI colours.
    case ansi8
    /// The xterm 256-colour palette.
    case xterm256
    /// Direct 24-bit colour.
    case truecolor

    /// The nearest xterm-256 index: the 6×6×6 cube (16–231) or the grey ramp (232–255).
    public static func xterm256(_ c: RGB) -> Int {
        let levels = [0, 95, 135, 175, 215, 255]
        func nearestLevel(_ v: UInt8) -> Int {
            var best = 0
            for i in 1..<6 where abs(levels[i] - Int(v)) < abs(levels[best] - Int(v)) { best = i }
            return best
        }
        let ri = nearestLevel(c.r)
        let gi = nearestLevel(c.g)
        let bi = nearestLevel(c.b)
        let cube = RGB(UInt8(levels[ri]), UInt8(levels[gi]), UInt8(levels[bi]))
        let avg = (Int(c.r) + Int(c.g) + Int(c.b)) / 3
        let greyIndex = min(23, max(0, (avg - 8 + 5) / 10))
        let greyLevel = 8 + 10 * greyIndex
        let grey = RGB(UInt8(greyLevel), UInt8(greyLevel), UInt8(greyLevel))
        return distance(c, grey) < distance(c, cube) ? 232 + greyIndex : 16 + 36 * ri + 6 * gi + bi
    }

    /// The nearest of the eight ANSI colours (0 black, 1 red, 2 green, 3 yellow, 4 blue,
    /// 5 magenta, 6 cyan, 7 white), judged by hue so dim colours keep their character.
    public static func ansi8(_ c: RGB) -> Int {
        let r = Int(c.r)
        let g = Int(c.g)
        let b = Int(c.b)
        let maxC = max(r, g, b)
        let minC = min(r, g, b)
        if maxC < 100 { return 0 }  // dark tints (backgrounds) read best as black
        if maxC - minC < 40 { return maxC < 140 ? 0 : 7 }  // greys: dark ones read as black
        let t = (maxC + minC) / 2
        return (r > t ? 1 : 0) | (g > t ? 2 : 0) | (b > t ? 4 : 0)
    }

    /// The ANSI colour of a foreground over `background` (nil: the terminal's own background,
    /// taken to be dark); nil means the terminal's default foreground. A foreground that would
    /// come out as its background — grey or dim text as black on a dark screen — degrades to
    /// the default colour there (black only over a light background), so it never disappears.
    public static func ansi8Foreground(_ foreground: RGB, on background: RGB?) -> Int? {
        let c = ansi8(foreground)
        let under = background.map(ansi8) ?? 0
        guard c == under else { return c }
        return under == 0 ? nil : 0
    }

    /// The RGB value of an xterm-256 index (for tests and previews).
    public static func rgbOfXterm256(_ i: Int) -> RGB {
        if i >= 232 {
            let v = UInt8(8 + 10 * (i - 232))
            return RGB(v, v, v)
        }
        if i >= 16 {
            let levels: [UInt8] = [0, 95, 135, 175, 215, 255]
            let n = i - 16
            return RGB(levels[n / 36], levels[(n / 6) % 6], levels[n % 6])
        }
        return RGB(0, 0, 0)
    }

    static func distance(_ a: RGB, _ b: RGB) -> Int {
        let dr = Int(a.r) - Int(b.r)
        let dg = Int(a.g) - Int(b.g)
        let db = Int(a.b) - Int(b.b)
        return 3 * dr * dr + 4 * dg * dg + 2 * db * db
    }

    /// Chooses the depth from the environment and the terminal's colour count: `NO_COLOR` set
    /// (to anything) disables colour; a direct-colour terminal description (2^24 colours) gives
    /// truecolor; otherwise 256 or 8 by `colors`.
    public static func detect(environment: [String: String], colors: Int) -> ColorDepth {
        if environment["NO_COLOR"] != nil || colors < 8 { return .none }
        if colors >= 0x1000000 { return .truecolor }
        return colors >= 256 ? .xterm256 : .ansi8
    }

    /// The direct-colour terminal description to use instead of `TERM` when `COLORTERM` promises
    /// 24-bit colour (`xterm-256color` → `xterm-direct`), or nil to keep `TERM`.
    public static func directTerm(environment: [String: String]) -> String? {
        let ct = (environment["COLORTERM"] ?? "").lowercased()
        guard environment["NO_COLOR"] == nil, ct == "truecolor" || ct == "24bit",
            let term = environment["TERM"], !term.hasSuffix("-direct")
        else { return nil }
        if term.hasPrefix("xterm") { return "xterm-direct" }
        if term.hasPrefix("tmux") { return "tmux-direct" }
        return nil
    }
}
