import Foundation
import LEMCore
import LEMFormats

/// A computed prompt saved to disk in mlx-lm's prompt-cache format, so that mlx-lm loads ours
/// and we load theirs (`mlx_lm/models/cache.py`, `save_prompt_cache` / `load_prompt_cache`, 0.32).
///
/// The file is safetensors. Tensors are the flattened list of each layer's cache `state`:
/// `"i.0"` keys and `"i.1"` values, (1, K, N, D) in position order; a full-attention layer is a
/// `KVCache` with `"i.2"` its offset, a sliding layer a `RotatingKVCache` with `"i.2"` offset,
/// `"i.3"` keep (0), `"i.4"` max_size (the window) and `"i.5"` its write index — each an int32
/// 0-d array. The string metadata is the flattened `[metadata, class names, scalars]`: `"0.KEY"`
/// user metadata, `"1.i"` class names, `"2.0"` = "" then `"2.j.0"`/`"2.j.1"` naming each scalar
/// tensor and its type (`scalar`). Our identity rides in user metadata under `lem.*`: format,
/// producer, the tokens, weights/adapter/tokenizer/template fingerprints, RoPE settings.
/// Legend: K key/value heads, N positions held, D head dim.
public enum PromptCacheFile {
    /// The version of our `lem.*` keys.
    public static let formatVersion = "1"

    /// What a file holds.
    public struct Contents: Sendable {
        /// The computed state; its tokens are -1 when the file does not record them (mlx-lm's).
        public let snapshot: KVSnapshot
        /// The user metadata (`lem.*` and whatever the producer added, e.g. mlx-lm's `model`).
        public let metadata: [String: String]
        /// Whether the token ids are recorded (`lem.tokens`).
        public var tokensKnown: Bool { metadata["lem.tokens"] != nil }
        /// Bytes of the file.
        public let fileBytes: Int
    }

    /// The identity keys checked on load, with what a difference means to a person.
    static let identityKeys: [(key: String, what: String)] = [
        ("lem.weights_sha256", "model weights"), ("lem.adapter", "adapter"), ("lem.adapter_sha256", "adapter weights"),
        ("lem.adapter_scale", "adapter scale"), ("lem.tokenizer_sha256", "tokenizer"),
        ("lem.rope", "RoPE settings")
    ]

    /// The element types a cache can be written in: f32 keeps the state exactly; f16 and bf16
    /// (mlx-lm writes a model's cache in its own dtype, usually one of these) halve the file and
    /// round every key and value, so a continuation is close to, not equal to, a fresh prefill.
    public static let storableTypes: [SafetensorsDType] = [.f32, .f16, .bf16]

    /// Writes `snapshot` (of a model shaped by `config`) to `url` atomically, keys and values as
    /// `dtype` (one of `storableTypes`), with `identity` (`LoadedModel.promptCacheIdentity`) and
    /// `extra` user metadata.
    public static func write(
        _ snapshot: KVSnapshot, config: ModelConfig, identity: [String: String], extra: [String: String] = [:],
        dtype: SafetensorsDType = .f32, to url: URL
    ) throws {
        guard storableTypes.contains(dtype) else {
            throw FormatError(
                url,
                "prompt cache: cannot store keys and values as \(dtype.rawValue) (expected F32, F16 or BF16)")
        }
        guard snapshot.layers.count == config.numHiddenLayers else {
            throw FormatError(
                url, "prompt cache: \(snapshot.layers.count) layers for a model of \(config.numHiddenLayers)")
        }
        let heads = config.numKeyValueHeads
        let dim = config.headDim
        var metadata = extra.merging(identity) { $1 }
        metadata["lem.format"] = formatVersion
        metadata["lem.tokens"] = "[" + snapshot.tokens.map(String.init).joined(separator: ",") + "]"
        var writer = SafetensorsWriter()
        var scalars: [String] = []
        for (i, layer) in snapshot.layers.enumerated() {
            let held = layer.keys.count / max(1, heads * dim)
            if layer.window > 0, layer.first > 0, held < layer.window {
                throw FormatError(
                    url,
                    "prompt cache: layer \(i) holds \(held) positions, fewer than its window of \(layer.window) "
                        + "(mlx-lm could not continue it)")
            }
            let shape = [1, heads, held, dim]
            try writer.add("\(i).0", shape: shape, floats: headMajor(layer.keys, heads: heads, dim: dim), as: dtype)
            try writer.add("\(i).1", shape: shape, floats: headMajor(layer.values, heads: heads, dim: dim), as: dtype)
            var ints = [snapshot.count]
            if layer.window > 0 { ints += [0, layer.window, held] }  // offset, keep, max_size, _idx
            for (j, value) in ints.enumerated() {
                let name = "\(i).\(j + 2)"
                try writer.add(name, shape: [], integers: [value], as: .i32)
                scalars.append(name)
            }
        }
        var header: [String: String] = [:]
        for (key, value) in metadata { header["0.\(key)"] = value }
        for (i, layer) in snapshot.layers.enumerated() {
            header["1.\(i)"] = layer.window > 0 ? "RotatingKVCache" : "KVCache"
        }
        header["2.0"] = ""
        for (j, name) in scalars.enumerated() {
            header["2.\(j + 1).0"] = name
            header["2.\(j + 1).1"] = "scalar"
        }
        writer.metadata = header
        try writer.write(to: url)
    }

    /// Reads `url` for a model shaped by `config`; errors name the file and what does not fit
    /// (layer count, heads, head dim, a cache class against the layer's attention, the window).
    public static func read(_ url: URL, config: ModelConfig) throws -> Contents {
        let file = try SafetensorsFile(url: url)
        var user: [String: String] = [:]
        var classes: [Int: String] = [:]
        for (key, value) in file.metadata {
            if key.hasPrefix("0.") {
                user[String(key.dropFirst(2))] = value
            } else if key.hasPrefix("1."), let i = Int(key.dropFirst(2)) {
                classes[i] = value
            }
        }
        let layerCount = config.numHiddenLayers
        guard classes.count == layerCount, classes.keys.allSatisfy({ (0..<layerCount).contains($0) }) else {
            throw FormatError(
                url, "prompt cache: \(classes.count) layer caches for a model of \(layerCount) layers (metadata '1.i')")
        }
        let heads = config.numKeyValueHeads
        let dim = config.headDim
        var layers: [KVSnapshot.Layer] = []
        var count: Int?
        for i in 0..<layerCount {
            let window = config.window(layer: i) ?? 0
            let kind = classes[i] ?? ""
            func integer(_ j: Int) throws -> Int {
                let tensor = try file.tensor("\(i).\(j)")
                guard tensor.elementCount == 1, !tensor.dtype.isFloat || tensor.dtype == .f32 else {
                    throw FormatError(url, "prompt cache: tensor '\(i).\(j)' is not a scalar")
                }
                let value = tensor.decodeAll()[0]
                guard value.isFinite, value >= 0, value < 1e9 else {
                    throw FormatError(url, "prompt cache: tensor '\(i).\(j)' = \(value) is not a position count")
                }
                return Int(value)
            }
            let offset = try integer(2)
            var order: (index: Int, keep: Int)?
            switch kind {
            case "KVCache":
                guard window == 0 else {
                    throw FormatError(
                        url, "prompt cache: layer \(i) is a KVCache but the model's layer \(i) is sliding")
                }
            case "RotatingKVCache":
                guard window > 0 else {
                    throw FormatError(
                        url,
                        "prompt cache: layer \(i) is a RotatingKVCache but the model's layer \(i) is full attention")
                }
                let keep = try integer(3)
                let maxSize = try integer(4)
                let index = try integer(5)
                guard maxSize == window else {
                    throw FormatError(
                        url, "prompt cache: layer \(i) has max_size \(maxSize), the model's window is \(window)")
                }
                guard keep == 0 || offset <= maxSize else {
                    throw FormatError(url, "prompt cache: layer \(i) keeps \(keep) first positions past its window")
                }
                order = (index, keep)
            default:
                throw FormatError(
                    url, "prompt cache: layer \(i) has cache class '\(kind)'; expected KVCache or RotatingKVCache")
            }
            let keys = try file.tensor("\(i).0")
            let values = try file.tensor("\(i).1")
            guard keys.shape.count == 4, keys.shape[0] == 1, keys.shape[1] == heads, keys.shape[3] == dim,
                values.shape == keys.shape, keys.dtype.isFloat, values.dtype.isFloat
            else {
                throw FormatError(
                    url,
                    "prompt cache: layer \(i) keys/values have shape \(keys.shape)/\(values.shape); expected "
                        + "[1, \(heads), N, \(dim)] floats")
            }
            let rows = temporalRows(buffer: keys.shape[2], offset: offset, order: order)
            let first = offset - rows.count
            guard first >= 0 else {
                throw FormatError(url, "prompt cache: layer \(i) holds \(rows.count) positions of \(offset)")
            }
            if let count, count != offset {
                throw FormatError(url, "prompt cache: layer \(i) has offset \(offset), layer 0 has \(count)")
            }
            count = offset
            layers.append(
                KVSnapshot.Layer(
                    window: window, first: first, keys: positionMajor(keys, rows: rows, heads: heads, dim: dim),
                    values: positionMajor(values, rows: rows, heads: heads, dim: dim)))
        }
        let total = count ?? 0
        var tokens = [Int](repeating: -1, count: total)
        if let text = user["lem.tokens"] {
            let parsed = (try? JSONValue.parse(text))?.array?.compactMap { $0.int } ?? []
            guard parsed.count == total else {
                throw FormatError(url, "prompt cache: lem.tokens holds \(parsed.count) ids for \(total) positions")
            }
            tokens = parsed
        }
        let snapshot = KVSnapshot(tokens: tokens, layers: layers, kvDim: heads * dim)
        guard snapshot.canRestore(length: total) else {
            throw FormatError(url, "prompt cache: a sliding layer no longer holds the positions a continuation needs")
        }
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int) ?? 0
        return Contents(snapshot: snapshot, metadata: user, fileBytes: bytes)
    }

    /// Refuses `contents` for a model whose identity differs, naming what differs; a file
    /// without our identity (mlx-lm's) passes on its shapes alone, which `read` checked.
    public static func check(_ contents: Contents, against identity: [String: String], url: URL) throws {
        let differing = differences(contents.metadata, identity: identity)
        guard differing.isEmpty else {
            let what = differing.map { entry in
                "\(entry.what) (file: \(contents.metadata[entry.key] ?? "none"), model: \(identity[entry.key] ?? "none"))"
            }
            throw FormatError(
                url, "prompt cache was made for another model: differs in " + what.joined(separator: "; "))
        }
    }

    /// The identity keys where a file's user `metadata` and `identity` differ (none for a file
    /// without our identity, which `check` accepts on its shapes).
    public static func differences(_ metadata: [String: String], identity: [String: String]) -> [(
        key: String, what: String
    )] {
        guard metadata["lem.format"] != nil else { return [] }
        return identityKeys.filter { metadata[$0.key] != identity[$0.key] }
    }

    /// A file's user metadata (mlx-lm stores it as the second element of its metadata tuple,
    /// `0.<key>` in the flattened header), read from the header alone.
    public static func userMetadata(_ url: URL) throws -> [String: String] {
        let header = try SafetensorsFile(url: url)
        var user: [String: String] = [:]
        for (key, value) in header.metadata where key.hasPrefix("0.") { user[String(key.dropFirst(2))] = value }
        return user
    }

    /// (N, K, D) rows → (K, N, D).
    static func headMajor(_ rows: [Float], heads: Int, dim: Int) -> [Float] {
        let n = rows.count / max(1, heads * dim)
        var out = [Float](repeating: 0, count: rows.count)
        for p in 0..<n {
            for h in 0..<heads {
                for d in 0..<dim { out[(h * n + p) * dim + d] = rows[(p * heads + h) * dim + d] }
            }
        }
        return out
    }

    /// The buffer rows of a (1, K, S, D) tensor at `rows`, as (N, K, D) position-major floats.
    static func positionMajor(_ tensor: SafetensorsTensor, rows: [Int], heads: Int, dim: Int) -> [Float] {
        let all = tensor.decodeAll()
        let s = tensor.shape[2]
        var out = [Float](repeating: 0, count: rows.count * heads * dim)
        for (p, row) in rows.enumerated() {
            for h in 0..<heads {
                for d in 0..<dim { out[(p * heads + h) * dim + d] = all[(h * s + row) * dim + d] }
            }
        }
        return out
    }

    /// The buffer rows of a rotating cache in position order (mlx-lm's `_temporal_order`, after
    /// which it holds the last positions before `offset`); all rows up to `offset` otherwise.
    static func temporalRows(buffer: Int, offset: Int, order: (index: Int, keep: Int)?) -> [Int] {
        guard let order else { return Array(0..<min(offset, buffer)) }
        let index = min(order.index, buffer)
        if index == buffer { return Array(0..<min(buffer, offset)) }
        if index < offset {
            let keep = min(order.keep, index)
            return Array(0..<keep) + Array(index..<buffer) + Array(keep..<index)
        }
        return Array(0..<index)
    }
}
