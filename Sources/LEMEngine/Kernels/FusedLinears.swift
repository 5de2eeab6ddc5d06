import CLEMKernels
import Foundation
import LEMFormats

/// Linear layers that read the same input (q/k/v, gate/up), run for one token as a single pool
/// run: the input is quantized once and the rows of all matrices are handed out from one chunk
/// counter, so the pool wakes once instead of once per layer.
///
/// Each row's dot product is the same kernel call the unfused `Linear` makes, so the fused result
/// equals calling the layers one by one bit for bit; biases and adapters are then applied per
/// layer exactly as `Linear.callAsFunction` does. Several tokens (a prefill) go through the
/// layers one by one.
public final class FusedLinears: @unchecked Sendable {
    /// The layers, in output order.
    public let layers: [Linear]
    /// (count) the C descriptors, allocated once so a decode step allocates nothing.
    private let matrices: UnsafeMutablePointer<lem_matrix>
    /// (count) pointers to `matrices`, the form `lem_matvec_multi` takes.
    private let pointers: UnsafeMutablePointer<UnsafePointer<lem_matrix>?>
    /// Whether any layer needs the 8-bit activation.
    private let quantizes: Bool
    /// The layers' options, in the C kernels' form.
    private let options: lem_options
    /// Keeps the mapped bytes of every layer alive.
    private let owners: [AnyObject]

    /// Groups `layers` (2 to 8, same input width and options, each with a C kernel); nil
    /// otherwise, and the caller keeps calling them one by one.
    public init?(_ layers: [Linear]) {
        guard (2...8).contains(layers.count), let first = layers.first else { return nil }
        var kernels: [MatrixKernel] = []
        for layer in layers {
            guard let kernel = layer.kernel, layer.inFeatures == first.inFeatures, layer.options == first.options else {
                return nil
            }
            kernels.append(kernel)
        }
        self.layers = layers
        options = first.options.kernel
        matrices = .allocate(capacity: kernels.count)
        pointers = .allocate(capacity: kernels.count)
        for (i, kernel) in kernels.enumerated() {
            (matrices + i).initialize(to: kernel.matrix)
            pointers[i] = UnsafePointer(matrices + i)
        }
        quantizes = kernels.contains { $0.quantizesActivation }
        owners = kernels.map(\.owner)
    }

    deinit {
        matrices.deinitialize(count: layers.count)
        matrices.deallocate()
        pointers.deallocate()
    }

    /// `out_i = layer_i(x)` for `tokens` rows; `outs` gives one output per layer, in order.
    ///
    /// `tile` is the matmul scratch (`(matmulTileRows, in)`), which also holds the quantized
    /// activations. The layers' options choose the kernels. `decode`: the rows are independent
    /// single-token steps, all layers and rows in one pool run (`lem_matvec_batch`), each row as
    /// one token alone computes it; otherwise several rows (a prefill) go through the layers one by one.
    public func callAsFunction(
        _ x: UnsafePointer<Float>,  // (T, in)
        tokens: Int,
        tile: UnsafeMutablePointer<Float>,  // (matmulTileRows, in)
        outs: UnsafePointer<UnsafeMutablePointer<Float>?>,  // (count) each (T, out_i)
        decode: Bool = false
    ) {
        guard tokens == 1 || decode else {
            for (i, layer) in layers.enumerated() { layer(x, tokens: tokens, tile: tile, out: outs[i]!) }
            return
        }
        let count = layers.count
        let options = self.options
        if tokens == 1 {
            Kernels.withActivation(
                x, columns: layers[0].inFeatures, quantize: quantizes, options: options, scratch: tile
            ) { act in
                lem_matvec_multi(pointers, Int32(count), act, outs, options)
            }
        } else {
            Kernels.withActivations(
                x, count: tokens, columns: layers[0].inFeatures, quantize: quantizes, options: options, scratch: tile
            ) { acts in
                lem_matvec_batch(pointers, Int32(count), acts, Int32(tokens), outs, options)
            }
        }
        withExtendedLifetime(owners) {}
        for (i, layer) in layers.enumerated() {
            let out = outs[i]!
            if let bias = layer.bias {
                let width = bias.count
                for t in 0..<tokens {
                    for o in 0..<width { out[t * width + o] += bias[o] }
                }
            }
            if let adapter = layer.adapter { adapter.apply(x, tokens: tokens, bias: layer.bias, out: out) }
        }
    }

    /// The two-layer form (gate/up): `a = layers[0](x)`, `b = layers[1](x)`.
    public func callAsFunction(
        _ x: UnsafePointer<Float>, tokens: Int, tile: UnsafeMutablePointer<Float>,
        _ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, decode: Bool = false
    ) {
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: 2) { outs in
            outs[0] = a
            outs[1] = b
            self(x, tokens: tokens, tile: tile, outs: UnsafePointer(outs.baseAddress!), decode: decode)
        }
    }

    /// The three-layer form (q/k/v).
    public func callAsFunction(
        _ x: UnsafePointer<Float>, tokens: Int, tile: UnsafeMutablePointer<Float>,
        _ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        decode: Bool = false
    ) {
        withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: 3) { outs in
            outs[0] = a
            outs[1] = b
            outs[2] = c
            self(x, tokens: tokens, tile: tile, outs: UnsafePointer(outs.baseAddress!), decode: decode)
        }
    }
}
