/// Rows `first ..< first + count` of another tensor as a `[count, columns]` matrix, without a copy.
///
/// A mixture-of-experts layer stores all its experts' matrices in one `[E, out, in]` tensor; expert
/// `e` is the row range `e·out ..< (e + 1)·out`, which the kernels read in place.
public struct RowSliceTensor: WeightTensor, QuantizedRows {
    /// The tensor the rows belong to.
    public let base: any WeightTensor
    /// The first row of the slice in `base`'s logical rows.
    public let first: Int
    public let name: String
    public let shape: [Int]

    /// Rows `first ..< first + count` of `base`, named `name`; the range must lie inside `base`.
    public init(_ base: any WeightTensor, first: Int, count: Int, name: String) {
        precondition(first >= 0 && count >= 0 && first + count <= base.rows, "RowSliceTensor: rows out of range")
        self.base = base
        self.first = first
        self.name = name
        shape = [count, base.columns]
    }

    public var encoding: String { base.encoding }
    public var storedBytes: Int { base.rows == 0 ? 0 : base.storedBytes / base.rows * rows }

    public func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        base.decodeRow(first + row, into: out)
    }

    /// The base's stored rows from `first` on, when the base has unpermuted stored rows.
    public var rawRows: RawRows? {
        guard let raw = (base as? any QuantizedRows)?.rawRows, raw.permutedHeads == nil, rows > 0 else { return nil }
        switch raw.format {
        case .float, .ggml:
            return RawRows(
                format: raw.format, rows: rows, columns: raw.columns, base: raw.base + first * raw.rowBytes,
                rowBytes: raw.rowBytes, owner: raw.owner)
        case .mlx:
            return nil
        }
    }
}
