/// How many terminal columns text occupies, computed from Unicode properties.
///
/// East Asian Wide and Fullwidth characters and emoji with emoji presentation take two columns;
/// combining marks, format characters and variation selectors take none. A grapheme cluster is as
/// wide as its first spacing scalar, or two columns when an emoji variation selector (U+FE0F)
/// asks for emoji presentation.
public enum DisplayWidth {
    /// East Asian Wide (W) and Fullwidth (F) ranges outside the emoji blocks (UAX #11, Unicode 15).
    static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0...0x23F0,
        0x23F3...0x23F3, 0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F...0x267F,
        0x2693...0x2693, 0x26A1...0x26A1, 0x26AA...0x26AB, 0x26BD...0x26BE, 0x26C4...0x26C5,
        0x26CE...0x26CE, 0x26D4...0x26D4, 0x26EA...0x26EA, 0x26F2...0x26F3, 0x26F5...0x26F5,
        0x26FA...0x26FA, 0x26FD...0x26FD, 0x2705...0x2705, 0x270A...0x270B, 0x2728...0x2728,
        0x274C...0x274C, 0x274E...0x274E, 0x2753...0x2755, 0x2757...0x2757, 0x2795...0x2797,
        0x27B0...0x27B0, 0x27BF...0x27BF, 0x2B1B...0x2B1C, 0x2B50...0x2B50, 0x2B55...0x2B55,
        0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
        0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
        0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x16FE4, 0x17000...0x18CFF, 0x1B000...0x1B2FF,
        0x1F004...0x1F004, 0x1F0CF...0x1F0CF, 0x1F18E...0x1F18E, 0x1F191...0x1F19A,
        0x1F200...0x1F251, 0x1F300...0x1F64F, 0x1F680...0x1F6FF, 0x1F900...0x1F9FF,
        0x1FA70...0x1FAFF, 0x20000...0x2FFFD, 0x30000...0x3FFFD
    ]

    /// The width of a single scalar: 0, 1 or 2 columns (control characters count as 0).
    public static func width(of scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x7F { return v >= 0x20 ? 1 : 0 }
        if v < 0xA0 { return 0 }
        if v < 0x300 { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format, .control, .surrogate:
            return 0
        default: break
        }
        if (0x1160...0x11FF).contains(v) { return 0 }  // Hangul medial vowels and final consonants
        if v < 0x1100 { return 1 }
        if isWide(v) { return 2 }
        // Emoji-presentation scalars outside the tables above (e.g. regional indicators).
        if v >= 0x1F000, scalar.properties.isEmojiPresentation { return 2 }
        return 1
    }

    static func isWide(_ v: UInt32) -> Bool {
        var lo = 0
        var hi = wideRanges.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let r = wideRanges[mid]
            if v < r.lowerBound { hi = mid - 1 } else if v > r.upperBound { lo = mid + 1 } else { return true }
        }
        return false
    }

    /// The width of one grapheme cluster (user-perceived character): 0, 1 or 2.
    public static func width(of character: Character) -> Int {
        let scalars = character.unicodeScalars
        if scalars.count == 1, let s = scalars.first { return width(of: s) }
        var base = 0
        var sawBase = false
        for s in scalars {
            if s.value == 0xFE0F, sawBase, s != scalars.first { return 2 }  // emoji presentation requested
            if !sawBase {
                let w = width(of: s)
                if w > 0 {
                    base = w
                    sawBase = true
                }
            }
        }
        return base
    }

    /// The width of a string: the sum of its grapheme clusters' widths.
    public static func width(of string: some StringProtocol) -> Int {
        var total = 0
        for ch in string {
            if ch.isASCII {
                total += (ch.asciiValue! >= 0x20 && ch.asciiValue! < 0x7F) ? 1 : 0
            } else {
                total += width(of: ch)
            }
        }
        return total
    }

    /// The longest prefix of `string` that fits in `columns`, with `ellipsis` appended when cut.
    public static func truncate(_ string: String, to columns: Int, ellipsis: String = "…") -> String {
        guard columns > 0 else { return "" }
        if width(of: string) <= columns { return string }
        let budget = columns - width(of: ellipsis)
        guard budget >= 0 else { return "" }
        var out = ""
        var used = 0
        for ch in string {
            let w = width(of: ch)
            if used + w > budget { break }
            out.append(ch)
            used += w
        }
        return out + ellipsis
    }

    /// `string` padded with spaces (or cut) to exactly `columns` columns.
    public static func pad(_ string: String, to columns: Int, alignRight: Bool = false) -> String {
        let cut = truncate(string, to: columns)
        let w = width(of: cut)
        let fill = String(repeating: " ", count: max(0, columns - w))
        return alignRight ? fill + cut : cut + fill
    }
}
