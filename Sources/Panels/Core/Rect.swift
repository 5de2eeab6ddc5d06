/// A rectangle of terminal cells: origin column/row and size, never negative.
public struct Rect: Hashable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    /// Creates a rectangle; negative sizes are clamped to zero.
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public var isEmpty: Bool { width == 0 || height == 0 }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var area: Int { width * height }
    public var description: String { "(\(x),\(y) \(width)x\(height))" }

    /// Whether the cell at column `cx`, row `cy` lies inside.
    public func contains(x cx: Int, y cy: Int) -> Bool {
        cx >= x && cx < maxX && cy >= y && cy < maxY
    }

    /// The rectangle shrunk by `n` cells on every side (a border's inside).
    public func inset(_ n: Int) -> Rect { inset(horizontal: n, vertical: n) }

    /// The rectangle shrunk by separate horizontal and vertical margins.
    public func inset(horizontal h: Int, vertical v: Int) -> Rect {
        Rect(x: x + h, y: y + v, width: width - 2 * h, height: height - 2 * v)
    }

    /// The overlap of two rectangles (empty when they do not meet).
    public func intersection(_ o: Rect) -> Rect {
        let x0 = max(x, o.x)
        let y0 = max(y, o.y)
        let x1 = min(maxX, o.maxX)
        let y1 = min(maxY, o.maxY)
        return Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// A rectangle of the given size centred inside this one, clamped to fit.
    public func centered(width w: Int, height h: Int) -> Rect {
        let cw = min(w, width)
        let ch = min(h, height)
        return Rect(x: x + (width - cw) / 2, y: y + (height - ch) / 2, width: cw, height: ch)
    }

    /// The top `n` rows, and the remaining rows below.
    public func splitTop(_ n: Int) -> (Rect, Rect) {
        let k = min(max(0, n), height)
        return (Rect(x: x, y: y, width: width, height: k), Rect(x: x, y: y + k, width: width, height: height - k))
    }

    /// The bottom `n` rows, and the remaining rows above.
    public func splitBottom(_ n: Int) -> (rest: Rect, bottom: Rect) {
        let k = min(max(0, n), height)
        return (Rect(x: x, y: y, width: width, height: height - k), Rect(x: x, y: maxY - k, width: width, height: k))
    }

    /// The left `n` columns, and the remaining columns to the right.
    public func splitLeft(_ n: Int) -> (Rect, Rect) {
        let k = min(max(0, n), width)
        return (Rect(x: x, y: y, width: k, height: height), Rect(x: x + k, y: y, width: width - k, height: height))
    }

    /// The right `n` columns, and the remaining columns to the left.
    public func splitRight(_ n: Int) -> (rest: Rect, right: Rect) {
        let k = min(max(0, n), width)
        return (Rect(x: x, y: y, width: width - k, height: height), Rect(x: maxX - k, y: y, width: k, height: height))
    }
}
