/// A drawing surface of braille dots: each cell holds a 2×4 grid of dots, so a W×H cell area has
/// 2W×4H points. Each cell takes the colour of the last series drawn into it.
struct BrailleCanvas: Widget {
    let columns: Int
    let rows: Int
    var dots: [UInt8]  // (rows, columns) dot bits, Unicode braille order
    var colors: [CellColor]  // (rows, columns)

    /// Creates an empty canvas of `columns`×`rows` cells.
    init(columns: Int, rows: Int) {
        self.columns = max(0, columns)
        self.rows = max(0, rows)
        dots = Array(repeating: 0, count: self.columns * self.rows)
        colors = Array(repeating: .none, count: self.columns * self.rows)
    }

    /// Width and height in dots.
    var dotWidth: Int { columns * 2 }
    var dotHeight: Int { rows * 4 }

    /// Bit for the dot at (dx, dy) inside a cell: braille numbering 1-4-2-5-3-6-7-8.
    static let bits: [[UInt8]] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]

    /// Sets the dot at (px, py) (origin top-left); points outside are ignored.
    mutating func set(_ px: Int, _ py: Int, _ color: CellColor) {
        guard px >= 0, py >= 0, px < dotWidth, py < dotHeight else { return }
        let i = (py / 4) * columns + px / 2
        dots[i] |= Self.bits[py % 4][px % 2]
        colors[i] = color
    }

    /// Draws a straight line between two dot positions (Bresenham).
    mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: CellColor) {
        var x = x0
        var y = y0
        let dx = abs(x1 - x0)
        let dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1
        let sy = y0 < y1 ? 1 : -1
        var err = dx + dy
        var guardSteps = dx - dy + 2
        while guardSteps > 0 {
            set(x, y, color)
            if x == x1 && y == y1 { break }
            let e2 = 2 * err
            if e2 >= dy {
                err += dy
                x += sx
            }
            if e2 <= dx {
                err += dx
                y += sy
            }
            guardSteps -= 1
        }
    }

    /// Draws a polyline through points given in dot coordinates (NaN points break the line).
    mutating func polyline(_ points: [(Double, Double)], _ color: CellColor) {
        var prev: (Int, Int)? = nil
        for (x, y) in points {
            guard x.isFinite, y.isFinite, abs(x) < 1e7, abs(y) < 1e7 else {
                prev = nil
                continue
            }
            let p = (Int(x.rounded()), Int(y.rounded()))
            if let q = prev { line(q.0, q.1, p.0, p.1, color) } else { set(p.0, p.1, color) }
            prev = p
        }
    }

    func render(into buffer: inout ScreenBuffer, area: Rect) {
        for r in 0..<min(rows, area.height) {
            for c in 0..<min(columns, area.width) {
                let d = dots[r * columns + c]
                guard d != 0, let scalar = Unicode.Scalar(0x2800 + UInt32(d)) else { continue }
                let old = buffer[area.x + c, area.y + r]?.style ?? .plain
                buffer.set(
                    area.x + c, area.y + r,
                    Cell(String(Character(scalar)), style: Style(fg: colors[r * columns + c], bg: old.bg), width: 1))
            }
        }
    }
}
