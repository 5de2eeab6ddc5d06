import Foundation

/// Bradley–Terry strengths by maximum likelihood: P(i beats j) = 1 / (1 + e^(θj − θi)).
///
/// Input is a win matrix `wins[i][j]` = how often i beat j (a tie adds ½ to both directions).
/// The log-likelihood Σ wins[i][j] · log σ(θi − θj) is concave; it is maximised by Newton's method
/// with θ of the last model held at 0 and steps halved until the likelihood does not fall, then θ
/// is shifted to mean 0. A finite maximum exists only when the "beat" graph (i → j when
/// wins[i][j] > 0) is strongly connected (Zermelo 1929, Ford 1957); otherwise — a model that
/// wins or loses everything, a model never compared — every model is given `epsilon` wins over
/// every other model before the fit, and the result says so.
public enum BradleyTerry {
    /// The pseudo-wins added between every ordered pair when no finite maximum exists.
    public static let epsilon = 0.01

    /// A fitted set of strengths.
    public struct Fit: Sendable, Equatable {
        /// Log-strengths, mean 0, one per model of the matrix.
        public var theta: [Double]
        /// Whether `epsilon` pseudo-wins were added because no finite maximum existed.
        public var regularised: Bool
    }

    /// Fits the strengths of a square win matrix (k × k, non-negative, diagonal ignored).
    public static func fit(wins input: [[Double]]) -> Fit {
        let k = input.count
        guard k > 1 else { return Fit(theta: Array(repeating: 0, count: k), regularised: false) }
        var wins = input
        let regularised = !hasFiniteMaximum(wins)
        if regularised {
            for i in 0..<k { for j in 0..<k where i != j { wins[i][j] += epsilon } }
        }
        var theta = [Double](repeating: 0, count: k)
        var current = logLikelihood(wins, theta)
        for _ in 0..<200 {
            let step = newtonStep(wins, theta)
            var t = 1.0
            var moved = false
            while t > 1e-12 {
                let candidate = zip(theta, step).map { $0 + t * $1 }
                let value = logLikelihood(wins, candidate)
                if value >= current {
                    theta = candidate
                    current = value
                    moved = true
                    break
                }
                t /= 2
            }
            let size = step.map { abs($0) * t }.max() ?? 0
            if !moved || size < 1e-13 { break }
        }
        let mean = theta.reduce(0, +) / Double(k)
        return Fit(theta: theta.map { $0 - mean }, regularised: regularised)
    }

    /// Whether the maximum likelihood is finite: every model reaches every other through wins.
    public static func hasFiniteMaximum(_ wins: [[Double]]) -> Bool {
        let k = wins.count
        for start in 0..<k {
            var seen = [Bool](repeating: false, count: k)
            seen[start] = true
            var stack = [start]
            while let i = stack.popLast() {
                for j in 0..<k where !seen[j] && wins[i][j] > 0 {
                    seen[j] = true
                    stack.append(j)
                }
            }
            if seen.contains(false) { return false }
        }
        return true
    }

    /// Σ wins[i][j] · log σ(θi − θj), with log σ computed without overflow.
    static func logLikelihood(_ wins: [[Double]], _ theta: [Double]) -> Double {
        var sum = 0.0
        for i in theta.indices {
            for j in theta.indices where i != j && wins[i][j] > 0 {
                let d = theta[i] - theta[j]
                // log σ(d) = −softplus(−d)
                sum -= wins[i][j] * (d > 0 ? log1p(exp(-d)) : -d + log1p(exp(d)))
            }
        }
        return sum
    }

    /// The Newton direction with θ of the last model fixed: solves H Δ = g over the others, where
    /// g_i = W_i − Σ_j n_ij σ(θi − θj) and H is the n_ij σ(1 − σ)-weighted graph Laplacian.
    static func newtonStep(_ wins: [[Double]], _ theta: [Double]) -> [Double] {
        let k = theta.count
        let m = k - 1
        var h = [[Double]](repeating: [Double](repeating: 0, count: m), count: m)  // (k−1, k−1)
        var g = [Double](repeating: 0, count: m)  // (k−1)
        for i in 0..<k {
            for j in 0..<k where i != j {
                let n = wins[i][j] + wins[j][i]
                guard n > 0 else { continue }
                let s = 1 / (1 + exp(theta[j] - theta[i]))
                let curvature = n * s * (1 - s)
                guard i < m else { continue }
                g[i] += wins[i][j] - n * s
                h[i][i] += curvature
                if j < m { h[i][j] -= curvature }
            }
        }
        return solve(h, g) + [0]
    }

    /// Solves a small dense system by Gaussian elimination with partial pivoting; a singular
    /// system (a model with no comparisons) leaves that coordinate unmoved.
    static func solve(_ matrix: [[Double]], _ rhs: [Double]) -> [Double] {
        var a = matrix
        var b = rhs
        let n = b.count
        for col in 0..<n {
            let pivot = (col..<n).max { abs(a[$0][col]) < abs(a[$1][col]) } ?? col
            a.swapAt(col, pivot)
            b.swapAt(col, pivot)
            guard abs(a[col][col]) > 1e-300 else { continue }
            for row in (col + 1)..<n {
                let f = a[row][col] / a[col][col]
                guard f != 0 else { continue }
                for c in col..<n { a[row][c] -= f * a[col][c] }
                b[row] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            guard abs(a[row][row]) > 1e-300 else { continue }
            var sum = b[row]
            for c in (row + 1)..<n { sum -= a[row][c] * x[c] }
            x[row] = sum / a[row][row]
        }
        return x
    }
}
