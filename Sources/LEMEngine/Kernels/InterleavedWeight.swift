import CLEMKernels
import Foundation
import LEMFormats

/// Owns a row-interleaved copy of a matrix (`lem_x8_pack`) and keeps the original mapping alive
/// for the rows the copy does not hold.
final class InterleavedStorage: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    let original: AnyObject

    init(byteCount: Int, original: AnyObject) {
        bytes = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        self.original = original
    }

    deinit { bytes.deallocate() }
}

extension MatrixKernel {
    /// This matrix with a row-interleaved copy for decode (Q4_0, Q4_1, Q5_0, Q8_0, MLX 4-bit; see
    /// Sources/CLEMKernels/dot_x8.c), or nil when its format has none or it has fewer than 8 rows.
    ///
    /// The copy has the stored size (bytes are moved, not re-quantized). Matvecs, row decoding
    /// and prefill tiles read it from then on; with `releaseOriginal` the pages of the stored rows
    /// it replaces are handed back to the kernel (a file mapping re-reads them if anything still
    /// touches them), so resident memory stays ≈ the file size instead of twice it.
    func interleaved(releaseOriginal: Bool) -> MatrixKernel? {
        var m = matrix
        let byteCount = withUnsafePointer(to: &m) { lem_x8_bytes($0) }
        guard byteCount > 0 else { return nil }
        let storage = InterleavedStorage(byteCount: byteCount, original: owner)
        let packed = storage.bytes.assumingMemoryBound(to: UInt8.self)
        // MappedFile is a read-only private mapping: its pages can simply be dropped.
        let release: Int32 = releaseOriginal ? (owner is MappedFile ? 2 : 1) : 0
        withUnsafePointer(to: &m) { lem_x8_pack($0, packed, release) }
        let rows = Int(m.rows) / 8 * 8
        m.x8 = UnsafePointer(packed)
        m.x8_rows = Int32(rows)
        return MatrixKernel(matrix: m, owner: storage, quantizesActivation: quantizesActivation)
    }
}

/// A weight whose matvecs read a row-interleaved copy (`MatrixKernel.interleaved`).
///
/// Everything else sees the original tensor: its name, shape and encoding, and (as
/// `QuantizedRows`) its stored rows for readers of the file layout. Its rows decode from the copy
/// through the C kernels, bit for bit the values of the stored rows.
public struct InterleavedWeight: WeightTensor, QuantizedRows {
    /// The tensor as loaded.
    public let original: any WeightTensor
    /// The kernel over the interleaved copy.
    public let kernel: MatrixKernel

    /// Interleaves `weight` when its format has a layout; otherwise returns it unchanged.
    /// `WeightLoader` calls it for the models whose options ask for it
    /// (`EngineOptions.interleaveWeights`, with the AVX2 kernels that read the copy).
    public static func wrapping(_ weight: any WeightTensor) -> any WeightTensor {
        guard weight.shape.count == 2, !(weight is InterleavedWeight),
            let kernel = MatrixKernel(weight)?.interleaved(releaseOriginal: true)
        else { return weight }
        return InterleavedWeight(original: weight, kernel: kernel)
    }

    public var name: String { original.name }
    public var shape: [Int] { original.shape }
    public var encoding: String { original.encoding }
    public var storedBytes: Int { original.storedBytes }
    public var rawRows: RawRows? { (original as? any QuantizedRows)?.rawRows }

    public func decodeRow(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        kernel.decodeRow(row, into: out)
    }
}
