import Foundation

/// The models installed in a directory or in the Hugging Face cache, described for `lem models`
/// and the model pickers.
///
/// A model is a `.gguf` file or a sub-directory holding `config.json`; in the Hugging Face cache,
/// the latest snapshot of each repository (`HubCache`), named `ORG/NAME` (`ORG/NAME/FILE.gguf`
/// when a snapshot holds GGUF files). Each is opened (headers
/// only: tensors stay mapped, nothing is decoded) to report its architecture, parameter count,
/// size on disk and quantization; one that fails to open is listed with its error instead.
public enum ModelInventory {
    /// One installed model.
    public struct Entry: Sendable, Equatable {
        /// File name without `.gguf`, or the directory's name.
        public var name: String
        public var url: URL
        public var format: ModelFiles.Format?
        /// `model_type` (`llama`, `gemma3_text`, `qwen2`, ...), nil when it could not be opened.
        public var architecture: String?
        /// Logical elements of every tensor (quantized ones counted unpacked).
        public var parameterCount: Int
        /// Bytes on disk of the model's files.
        public var fileSize: Int
        /// How the weights are stored: GGUF file type (`Q4_K_M`), MLX bits and group (`mlx4g64`),
        /// or the dominant dtype (`bf16`); plus the mix of tensor encodings by size.
        public var quantization: String
        /// Why the model could not be opened, nil when it could.
        public var error: String?
        /// Whether the model sits in the Hugging Face cache (named by its repository id).
        public var inHubCache: Bool = false
    }

    /// Lists the models in `directory`, sorted by name; throws only when the directory is unreadable.
    public static func list(_ directory: URL) throws -> [Entry] {
        let fm = FileManager.default
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw FormatError(directory, "cannot list models: \(error.localizedDescription)")
        }
        var entries: [Entry] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let url = directory.appendingPathComponent(name)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                guard fm.fileExists(atPath: url.appendingPathComponent("config.json").path) else { continue }
                entries.append(describe(url, name: name))
            } else if url.pathExtension.lowercased() == "gguf" {
                entries.append(describe(url, name: String(name.dropLast(5))))
            }
        }
        return entries
    }

    /// The models in the Hugging Face cache, latest snapshot per repository, sorted by name;
    /// an absent or unreadable cache lists nothing.
    public static func list(hubCache: HubCache) -> [Entry] {
        hubCache.snapshots().flatMap { snap in
            HubCache.models(in: snap).map { url in
                let name = url == snap.url ? snap.repo : "\(snap.repo)/\(url.lastPathComponent)"
                var entry = describe(url, name: name)
                entry.inHubCache = true
                return entry
            }
        }
    }

    /// Opens one model and summarizes it (never throws: failures go into `error`).
    public static func describe(_ url: URL, name: String? = nil) -> Entry {
        let label = name ?? url.deletingPathExtension().lastPathComponent
        let size = diskSize(url)
        do {
            let m = try ModelFiles.open(url)
            return Entry(
                name: label, url: url, format: m.format, architecture: m.config.modelType,
                parameterCount: parameterCount(m), fileSize: size, quantization: quantization(m), error: nil)
        } catch {
            return Entry(
                name: label, url: url, format: nil, architecture: nil, parameterCount: 0, fileSize: size,
                quantization: "?", error: "\(error)")
        }
    }

    /// Elements of every tensor, logical (unpacked) shapes.
    public static func parameterCount(_ m: ModelFiles) -> Int { m.tensors.values.reduce(0) { $0 + $1.elementCount } }

    /// A short description of how `m`'s weights are stored.
    public static func quantization(_ m: ModelFiles) -> String {
        var bytesByEncoding: [String: Int] = [:]
        for t in m.tensors.values { bytesByEncoding[t.encoding, default: 0] += t.storedBytes }
        let total = max(1, bytesByEncoding.values.reduce(0, +))
        let mix = bytesByEncoding.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            .map { "\($0.key) \(Int((Double($0.value) * 100 / Double(total)).rounded()))%" }
            .joined(separator: ", ")
        var head: String
        switch m.format {
        case .gguf:
            head = m.gguf?.int("general.file_type").flatMap { fileTypeNames[$0] } ?? "GGUF"
        case .mlxQuantized:
            head = m.config.quantization.map { "mlx\($0.bits)g\($0.groupSize)" } ?? "mlx"
        case .safetensors:
            head = bytesByEncoding.max { $0.value < $1.value }?.key ?? "?"
        }
        return bytesByEncoding.count > 1 ? "\(head) (\(mix))" : head
    }

    /// llama.cpp's `general.file_type` (`llama_ftype`) names.
    static let fileTypeNames: [Int: String] = [
        0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
        12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 32: "BF16"
    ]

    /// Bytes of a file, or of every regular file under a directory; symbolic links (a Hugging
    /// Face snapshot's links to its blobs) count as the file they point to.
    static func diskSize(_ url: URL) -> Int {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDir) else { return 0 }
        if !isDir.boolValue {
            return (try? fm.attributesOfItem(atPath: url.resolvingSymlinksInPath().path)[.size] as? Int) ?? 0
        }
        var total = 0
        for name in (try? fm.contentsOfDirectory(atPath: url.path)) ?? [] {
            let attrs = try? fm.attributesOfItem(
                atPath: url.appendingPathComponent(name).resolvingSymlinksInPath().path)
            if attrs?[.type] as? FileAttributeType == .typeRegular { total += attrs?[.size] as? Int ?? 0 }
        }
        return total
    }
}
