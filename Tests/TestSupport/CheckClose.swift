import Foundation

/// The result of comparing two float sequences element by element.
///
/// `maxAbs` and `maxRel` are the largest differences found and `index` is where the largest
/// absolute one was, so a failing test can say exactly which logit or gradient went wrong.
public struct Closeness: CustomStringConvertible, Sendable {
    public var maxAbs: Double
    public var maxRel: Double
    public var index: Int
    public var actual: Double
    public var expected: Double
    public var countMismatch: Bool

    public var description: String {
        if countMismatch { return "length mismatch" }
        return String(
            format: "max |diff| %.3g at [%d] (actual %.6g, expected %.6g), max rel %.3g",
            maxAbs, index, actual, expected, maxRel)
    }
}

/// Compares `actual` against `expected` and reports the largest absolute and relative differences.
///
/// Relative difference is `|a - e| / max(|e|, 1e-6)`; NaN anywhere counts as an infinite difference.
public func compare<A: Collection, E: Collection>(_ actual: A, _ expected: E) -> Closeness
where A.Element: BinaryFloatingPoint, E.Element: BinaryFloatingPoint {
    var result = Closeness(
        maxAbs: 0, maxRel: 0, index: -1, actual: 0, expected: 0, countMismatch: actual.count != expected.count)
    if result.countMismatch { return result }
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        let av = Double(a)
        let ev = Double(e)
        let diff = (av.isNaN || ev.isNaN) ? Double.infinity : abs(av - ev)
        let rel = diff / max(abs(ev), 1e-6)
        if diff > result.maxAbs || result.index < 0 {
            result.maxAbs = diff
            result.index = i
            result.actual = av
            result.expected = ev
        }
        result.maxRel = max(result.maxRel, rel)
    }
    return result
}

/// Returns nil when every element of `actual` is within `tol` (absolute) of `expected`, else a
/// message naming `label`, the largest difference and its index.
///
/// Use as `#expect(checkClose(out, ref, tol: 1e-4, label: "logits") == nil)` or with
/// `if let m = checkClose(...) { Issue.record(m) }` so the failure text shows where it went wrong.
public func checkClose<A: Collection, E: Collection>(
    _ actual: A, _ expected: E, tol: Double, label: String
) -> String? where A.Element: BinaryFloatingPoint, E.Element: BinaryFloatingPoint {
    let c = compare(actual, expected)
    if c.countMismatch { return "\(label): \(actual.count) values, expected \(expected.count)" }
    if c.maxAbs <= tol { return nil }
    return "\(label): \(c) exceeds tol \(tol)"
}
