import CNCurses

/// ncurses constants defined by function-like macros, which Swift cannot import; the values
/// follow curses.h for NCURSES_MOUSE_VERSION 2 and NCURSES_ATTR_SHIFT 8 (ncurses 6).
enum CursesConstants {
    // attr_t bits: NCURSES_BITS(mask, shift) = mask << (shift + 8)
    static let bold: attr_t = 1 << (13 + 8)
    static let dim: attr_t = 1 << (12 + 8)
    static let underline: attr_t = 1 << (9 + 8)
    static let reverse: attr_t = 1 << (10 + 8)
    static let italic: attr_t = 1 << (23 + 8)

    // Mouse masks: NCURSES_MOUSE_MASK(b, m) = m << ((b - 1) * 5)
    static func mouse(_ button: Int, _ mask: mmask_t) -> mmask_t { mask << mmask_t((button - 1) * 5) }
    static let released: mmask_t = 0o1
    static let pressed: mmask_t = 0o2
    static let clicked: mmask_t = 0o4
    static let allMouseEvents: mmask_t = mouse(6, 0o10) - 1
    static let wheelUp = mouse(4, pressed)
    static let wheelDown = mouse(5, pressed)
}
