/// Short, unique stand-ins for names that do not fit a column header, explained by a legend
/// line (`DNA do_not_answer · inform. informativeness`).
///
/// A name that fits is kept. A name of several words (`_`, `-`, `.` or space between them) is
/// shortened to its initials (`do_not_answer` → `DNA`), a single word to its first six letters
/// and a full stop (`informativeness` → `inform.`, never a cut word that reads as a typo); a
/// clash with another short form gets a number.
struct Abbreviations: Hashable, Sendable {
    /// The short form of every name given (the name itself when it fits).
    private(set) var short: [String: String] = [:]
    /// The names that were shortened, in the order given.
    private(set) var shortened: [String] = []

    /// Short forms of `names` at most `width` columns wide.
    init(_ names: [String], width: Int) {
        var used = Set<String>()
        for name in names where short[name] == nil && DisplayWidth.width(of: name) <= width {
            short[name] = name
            used.insert(name)
        }
        for name in names where short[name] == nil {
            let base = Self.shorten(name, width: max(1, width))
            var candidate = base
            var n = 2
            while used.contains(candidate) {
                let suffix = "\(n)"
                candidate = DisplayWidth.truncate(base, to: max(1, width - suffix.count), ellipsis: "") + suffix
                n += 1
            }
            short[name] = candidate
            used.insert(candidate)
            shortened.append(name)
        }
    }

    /// The short form of `name` (the name itself when it was not given).
    subscript(name: String) -> String { short[name] ?? name }

    /// Whether any name was shortened.
    var isEmpty: Bool { shortened.isEmpty }

    /// `short name` pairs for the legend, e.g. `["DNA do_not_answer", "inform. informativeness"]`.
    var legend: [String] { shortened.map { "\(short[$0] ?? $0) \($0)" } }

    /// The initials of a name of several words, else its first letters.
    static func shorten(_ name: String, width: Int) -> String {
        let words = name.split(whereSeparator: { "_-. ".contains($0) })
        if words.count > 1 {
            let initials = String(words.compactMap(\.first)).uppercased()
            return DisplayWidth.truncate(initials, to: width, ellipsis: "")
        }
        guard width >= 2 else { return DisplayWidth.truncate(name, to: width, ellipsis: "") }
        return DisplayWidth.truncate(name, to: min(width - 1, 6), ellipsis: "") + "."
    }
}
