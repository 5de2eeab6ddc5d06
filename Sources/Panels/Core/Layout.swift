/// Splits a rectangle into rows or columns by size constraints, like a flex box.
///
/// Fixed and percentage parts are served first (shrunk proportionally when they do not fit);
/// `min` parts get at least their minimum; the remainder is shared between `fill` parts by weight.
enum Layout {
    /// The direction in which a rectangle is cut.
    enum Direction: Sendable { case horizontal, vertical }

    /// How much of the available length one part wants.
    enum Constraint: Hashable, Sendable {
        case fixed(Int)
        case percent(Int)
        case min(Int)
        case fill(Int)
    }

    /// Cuts `area` into parts along `direction`, one per constraint, covering the whole length.
    static func split(_ area: Rect, _ direction: Direction, _ constraints: [Constraint]) -> [Rect] {
        let total = direction == .horizontal ? area.width : area.height
        let lengths = distribute(total, constraints)
        var out: [Rect] = []
        var offset = 0
        for n in lengths {
            switch direction {
            case .horizontal: out.append(Rect(x: area.x + offset, y: area.y, width: n, height: area.height))
            case .vertical: out.append(Rect(x: area.x, y: area.y + offset, width: area.width, height: n))
            }
            offset += n
        }
        return out
    }

    /// The lengths of the parts: they sum to `total` when any part can grow, never exceed it.
    static func distribute(_ total: Int, _ constraints: [Constraint]) -> [Int] {
        guard total > 0, !constraints.isEmpty else { return Array(repeating: 0, count: constraints.count) }
        var lengths = constraints.map { c -> Int in
            switch c {
            case .fixed(let n): return max(0, n)
            case .percent(let p): return max(0, total * p / 100)
            case .min(let n): return max(0, n)
            case .fill: return 0
            }
        }
        let used = lengths.reduce(0, +)
        if used > total {
            // Shrink every part proportionally, then hand out the rounding loss from the front.
            var scaled = lengths.map { $0 * total / used }
            var left = total - scaled.reduce(0, +)
            var i = 0
            while left > 0 {
                if lengths[i] > scaled[i] {
                    scaled[i] += 1
                    left -= 1
                }
                i = (i + 1) % scaled.count
            }
            return scaled
        }
        var spare = total - used
        let fillWeights = constraints.map { c -> Int in
            if case .fill(let w) = c { return max(1, w) }
            if case .min = c { return 1 }
            return 0
        }
        let weightSum = fillWeights.reduce(0, +)
        if weightSum > 0 {
            let shareable = spare
            for i in lengths.indices where fillWeights[i] > 0 {
                let share = shareable * fillWeights[i] / weightSum
                lengths[i] += share
                spare -= share
            }
            var i = lengths.count - 1
            while spare > 0 {
                if fillWeights[i] > 0 {
                    lengths[i] += 1
                    spare -= 1
                }
                i = i == 0 ? lengths.count - 1 : i - 1
            }
        }
        return lengths
    }
}
