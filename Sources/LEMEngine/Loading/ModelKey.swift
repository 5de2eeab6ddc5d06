import Foundation

/// Which weights a loaded model is: a checkpoint (`.gguf` file or model folder), an optional
/// adapter (folder or checkpoint file) and the strength it is applied with.
public struct ModelKey: Hashable, Sendable, CustomStringConvertible {
    /// The checkpoint's standardized path.
    public var model: String
    /// The adapter's standardized path, nil for the base model.
    public var adapter: String?
    /// Multiplier of the adapter's own scale (1 = as trained).
    public var scale: Float

    /// A key for `model` with an optional `adapter`.
    public init(model: URL, adapter: URL? = nil, scale: Float = 1) {
        self.model = model.standardizedFileURL.path
        self.adapter = adapter?.standardizedFileURL.path
        self.scale = adapter == nil ? 1 : scale
    }

    /// A key from paths.
    public init(model: String, adapter: String? = nil, scale: Float = 1) {
        self.init(model: URL(fileURLWithPath: model), adapter: adapter.map { URL(fileURLWithPath: $0) }, scale: scale)
    }

    public var modelURL: URL { URL(fileURLWithPath: model) }
    public var adapterURL: URL? { adapter.map { URL(fileURLWithPath: $0) } }

    /// `model.gguf`, or `model.gguf + run/adapters` with an adapter (`×0.5` when scaled).
    public var title: String {
        let m = modelURL.lastPathComponent
        guard let adapterURL else { return m }
        let a = adapterURL.deletingLastPathComponent().lastPathComponent + "/" + adapterURL.lastPathComponent
        return m + " + " + a + (scale == 1 ? "" : " ×\(scale)")
    }

    /// The name results are stored under: the file or folder name without `.gguf`, plus
    /// `+<adapter folder>`.
    public var storedName: String {
        var name = modelURL.lastPathComponent
        if name.hasSuffix(".gguf") { name = String(name.dropLast(5)) }
        if let adapterURL { name += "+" + adapterURL.lastPathComponent }
        return name
    }

    public var description: String { title }
}
