import Foundation
import LEMEngine
import LEMFormats

/// What `ModelFuser.fuse` wrote.
public struct FuseResult: Sendable {
    /// The model folder written.
    public var output: URL
    /// Linear layers whose weights now include the adapter.
    public var fusedModules: Int
    /// Tensors written (an MLX-quantized layer counts as one).
    public var tensorCount: Int
    /// Safetensors files written.
    public var shards: Int
    /// How weights were stored: e.g. "f32 (dequantized GGUF base)".
    public var weightFormat: String
    /// The tokenizer files written.
    public var tokenizerFiles: [String]
}

/// Merges a LoRA/DoRA adapter into its base model and writes a standalone Hugging Face model
/// folder (`model.safetensors` or shards + index, `config.json`, tokenizer files) that loads in
/// this engine, in transformers and (for safetensors bases) in mlx_lm — what `lem fuse` does.
///
/// - f32/f16/bf16 safetensors base: untouched tensors are copied byte for byte, fused layers
///   stored in the base tensor's dtype.
/// - MLX-quantized base: with `dequantize`, every weight becomes f32 and `quantization` leaves
///   config.json; without, untouched layers are copied and fused layers re-quantized with the
///   base's bits and group size (`MLXAffineQuantizer`).
/// - GGUF base: always written dequantized as f32 safetensors (GGUF quantization is not
///   re-encoded); config.json is generated from the GGUF metadata and the tokenizer is kept as
///   a tensor-free `tokenizer.gguf` (our engine reads it; transformers via `gguf_file=`).
///
/// The folder is built under a temporary name beside `output` and renamed into place at the end.
public enum ModelFuser {
    /// Tokenizer and generation files copied from a directory base when present.
    static let tokenizerFiles = [
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "vocab.json",
        "merges.txt", "added_tokens.json", "chat_template.jinja", "chat_template.json", "generation_config.json"
    ]

    /// Fuses `adapterFolder` into the model at `model` and writes the result to `output`, which
    /// must not exist yet. `adapterScale` multiplies the adapter's own scale.
    public static func fuse(
        model: URL, adapterFolder: URL, output: URL, dequantize: Bool = false, adapterScale: Float = 1,
        shardBytes: Int = 2 << 30
    ) throws -> FuseResult {
        let files = try ModelFiles.open(model)
        let adapter = try InferenceAdapter(folder: adapterFolder)
        // Building the adapted model checks every adapter module's name and shape against it.
        _ = try ModelFactory.makeModel(files, adapter: adapter, adapterScale: adapterScale)
        if FileManager.default.fileExists(atPath: output.path) {
            throw FormatError(output, "already exists; choose a new --save-path or remove it first")
        }
        let parent = output.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let temp = parent.appendingPathComponent(".\(output.lastPathComponent).tmp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: false)
        do {
            var result = try write(
                files: files, adapter: adapter, strength: adapterScale, dequantize: dequantize,
                into: temp, shardBytes: shardBytes)
            result.tokenizerFiles = try writeTokenizer(files: files, into: temp)
            try writeConfig(files: files, quantizedOutput: result.weightFormat.hasPrefix("mlx"), into: temp)
            guard rename(temp.path, output.path) == 0 else {
                throw FormatError(output, "cannot move the fused model into place: \(String(cString: strerror(errno)))")
            }
            result.output = output
            return result
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw error
        }
    }

    /// One output tensor: its name, dtype, shape and a producer of its bytes.
    struct Entry {
        var name: String
        var dtype: SafetensorsDType
        var shape: [Int]
        var make: () throws -> [UInt8]
        var byteCount: Int { shape.reduce(1, *) * dtype.size }
    }

    /// Plans every output tensor, then writes them in shards of at most `shardBytes`.
    static func write(
        files: ModelFiles, adapter: InferenceAdapter, strength: Float, dequantize: Bool, into dir: URL,
        shardBytes: Int
    ) throws -> FuseResult {
        var entries: [Entry] = []
        var fused = 0
        var keptQuantized = false
        for name in files.tensors.keys.sorted() {
            let tensor = files.tensors[name]!
            let path = name.hasSuffix(".weight") ? String(name.dropLast(".weight".count)) : nil
            let module = path.flatMap { adapter.modules[$0] }
            if module != nil { fused += 1 }
            if let q = tensor as? MLXQuantizedTensor, !dequantize {
                keptQuantized = true
                let base = String(name.dropLast(".weight".count))
                if let module {
                    let quantizer = MLXAffineQuantizer(bits: q.bits, groupSize: q.groupSize, scaleType: q.scales.dtype)
                    let groups = q.columns / q.groupSize
                    // One quantization shared by the three entries.
                    let cache = QuantizedCache {
                        quantizer.quantize(
                            module.fusedWeight(base: q, strength: strength), rows: q.rows, columns: q.columns)
                    }
                    entries.append(Entry(name: name, dtype: .u32, shape: q.packed.shape) { try cache.value().packed })
                    entries.append(
                        Entry(name: base + ".scales", dtype: q.scales.dtype, shape: [q.rows, groups]) {
                            try encode(cache.value().scales, as: q.scales.dtype)
                        })
                    entries.append(
                        Entry(name: base + ".biases", dtype: q.biases.dtype, shape: [q.rows, groups]) {
                            try encode(cache.value().biases, as: q.biases.dtype)
                        })
                } else {
                    for (partName, part) in [
                        (name, q.packed), (base + ".scales", q.scales), (base + ".biases", q.biases)
                    ] {
                        entries.append(
                            Entry(name: partName, dtype: part.dtype, shape: part.shape) { Array(part.rawBytes) })
                    }
                }
                continue
            }
            let stored = tensor as? SafetensorsTensor
            let dtype: SafetensorsDType =
                stored.map { [.f32, .f16, .bf16].contains($0.dtype) ? $0.dtype : .f32 } ?? .f32
            if let module {
                entries.append(
                    Entry(name: name, dtype: dtype, shape: tensor.shape) {
                        try encode(module.fusedWeight(base: tensor, strength: strength), as: dtype)
                    })
            } else if let stored, stored.dtype == dtype {
                entries.append(Entry(name: name, dtype: dtype, shape: tensor.shape) { Array(stored.rawBytes) })
            } else {
                entries.append(
                    Entry(name: name, dtype: dtype, shape: tensor.shape) { try encode(tensor.decodeAll(), as: dtype) })
            }
        }
        let shards = try writeShards(
            entries, into: dir, shardBytes: shardBytes, metadata: ["format": keptQuantized ? "mlx" : "pt"])
        let format: String
        switch files.format {
        case .gguf: format = "f32 (dequantized GGUF base)"
        default:
            if keptQuantized {
                format = "mlx (untouched layers copied, fused layers re-quantized)"
            } else if files.tensors.values.contains(where: { $0 is MLXQuantizedTensor }) {
                format = "f32 (dequantized MLX base)"
            } else {
                format = "base dtypes (\(Set(entries.map(\.dtype.rawValue)).sorted().joined(separator: ", ")))"
            }
        }
        return FuseResult(
            output: dir, fusedModules: fused, tensorCount: files.tensors.count, shards: shards,
            weightFormat: format, tokenizerFiles: [])
    }

    /// Writes `model.safetensors`, or `model-0000i-of-0000n.safetensors` + the index when the
    /// tensors exceed `shardBytes`; returns the number of files.
    static func writeShards(_ entries: [Entry], into dir: URL, shardBytes: Int, metadata: [String: String]) throws
        -> Int
    {
        var groups: [[Entry]] = [[]]
        var size = 0
        for e in entries {
            if size > 0 && size + e.byteCount > shardBytes {
                groups.append([])
                size = 0
            }
            groups[groups.count - 1].append(e)
            size += e.byteCount
        }
        var weightMap: [String: String] = [:]
        for (i, group) in groups.enumerated() {
            func five(_ n: Int) -> String { String(repeating: "0", count: max(0, 5 - String(n).count)) + String(n) }
            let file =
                groups.count == 1 ? "model.safetensors" : "model-\(five(i + 1))-of-\(five(groups.count)).safetensors"
            var writer = SafetensorsWriter(metadata: metadata)
            for e in group {
                try writer.add(e.name, dtype: e.dtype, shape: e.shape, bytes: try e.make())
                weightMap[e.name] = file
            }
            try writer.write(to: dir.appendingPathComponent(file))
        }
        if groups.count > 1 {
            let total = entries.reduce(0) { $0 + $1.byteCount }
            try writeJSON(
                ["metadata": ["total_size": total], "weight_map": weightMap],
                to: dir.appendingPathComponent("model.safetensors.index.json"))
        }
        return groups.count
    }

    /// f32 values encoded little-endian as `dtype` (f32, f16 or bf16).
    static func encode(_ values: [Float], as dtype: SafetensorsDType) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * dtype.size)
        switch dtype {
        case .f32:
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        case .f16:
            for v in values {
                withUnsafeBytes(of: HalfFloat.floatToF16(v).littleEndian) { bytes.append(contentsOf: $0) }
            }
        case .bf16:
            for v in values {
                withUnsafeBytes(of: HalfFloat.floatToBF16(v).littleEndian) { bytes.append(contentsOf: $0) }
            }
        default:
            throw FormatError("cannot store fused weights as \(dtype.rawValue)")
        }
        return bytes
    }

    /// Serialises `object` with sorted keys and writes it atomically.
    static func writeJSON(_ object: Any, to url: URL) throws {
        let data = try JSONSerialization.data(
            withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        do { try data.write(to: url, options: .atomic) } catch {
            throw FormatError(url, "cannot write: \(error.localizedDescription)")
        }
    }
}

/// Computes a value once on first use (the three tensors of a re-quantized layer share one
/// quantization).
final class QuantizedCache {
    private var stored: (packed: [UInt8], scales: [Float], biases: [Float])?
    private let compute: () -> (packed: [UInt8], scales: [Float], biases: [Float])

    init(_ compute: @escaping () -> (packed: [UInt8], scales: [Float], biases: [Float])) { self.compute = compute }

    func value() throws -> (packed: [UInt8], scales: [Float], biases: [Float]) {
        if let stored { return stored }
        let v = compute()
        stored = v
        return v
    }
}
