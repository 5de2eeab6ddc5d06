import CNCurses
import Panels

/// Allocates ncurses colour pairs on demand for (foreground, background) colours at the
/// terminal's colour depth, so any theme colour and heat level can be shown.
struct ColorPairs {
    let depth: ColorDepth
    let maxPairs: Int
    private var pairs: [Int64: Int32] = [:]

    init(depth: ColorDepth, maxPairs: Int) {
        self.depth = depth
        self.maxPairs = maxPairs
    }

    /// The terminal colour number for an RGB colour at this depth (-1: the default colour).
    func colorNumber(_ c: RGB?) -> Int32 {
        guard let c else { return -1 }
        switch depth {
        case .none: return -1
        case .ansi8: return Int32(ColorDepth.ansi8(c))
        case .xterm256: return Int32(ColorDepth.xterm256(c))
        case .truecolor:
            // Direct-colour terminals treat 0-7 as the ANSI palette; nudge those to 8.
            let v = Int32(c.r) << 16 | Int32(c.g) << 8 | Int32(c.b)
            return v < 8 ? 8 : v
        }
    }

    /// The pair for the two colours, allocating it; nil when the table is full (the caller
    /// then resets and redraws everything).
    mutating func pair(fg: RGB?, bg: RGB?) -> Int32? {
        guard depth != .none else { return 0 }
        var f = colorNumber(fg)
        let b = colorNumber(bg)
        // Eight colours: a foreground never takes its background's colour (dim text on a dark
        // screen would be drawn black); it falls back to the default foreground.
        if depth == .ansi8, let fg { f = ColorDepth.ansi8Foreground(fg, on: bg).map(Int32.init) ?? -1 }
        if f == -1 && b == -1 { return 0 }
        let key = Int64(f) << 32 | Int64(UInt32(bitPattern: b))
        if let p = pairs[key] { return p }
        let next = Int32(pairs.count + 1)
        guard Int(next) < maxPairs else { return nil }
        guard init_extended_pair(next, f, b) != ERR else { return 0 }
        pairs[key] = next
        return next
    }

    /// Forgets all pairs (after a theme change or when the table is full).
    mutating func reset() { pairs.removeAll() }
}
