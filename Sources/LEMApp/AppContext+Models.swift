import Foundation
import LEMCore
import LEMFormats

extension AppContext {
    /// The Hugging Face Hub cache at `paths.huggingFaceCache`.
    public var hubCache: HubCache { HubCache(root: paths.huggingFaceCache) }

    /// The model a `--model` argument (or a picker) names: an existing file or folder, else a
    /// repository id in the Hugging Face cache (`ORG/NAME` → its snapshot at `revision`, by
    /// default `refs/main`; `ORG/NAME/FILE.gguf`). A spec that is neither is returned as the
    /// path it names, so opening it reports the missing file.
    public func resolveModel(_ spec: String, revision: String? = nil) throws -> URL {
        let local = paths.resolve(spec)
        if FileManager.default.fileExists(atPath: local.path) { return local }
        if let cached = try hubCache.resolve(spec, revision: revision) { return cached }
        let parts = spec.split(separator: "/", omittingEmptySubsequences: false)
        let looksLikeRepo =
            (parts.count == 2 && HubCache.isRepoID(spec))
            || (parts.count == 3 && spec.lowercased().hasSuffix(".gguf")
                && HubCache.isRepoID(parts[0..<2].joined(separator: "/")))
        if looksLikeRepo {
            throw AppError(
                "no model at \(paths.short(local)) and no '\(spec)' in the Hugging Face cache "
                    + "\(paths.short(paths.huggingFaceCache)) (lem pull \(spec))")
        }
        return local
    }

    /// A training config's `model:` value with a repository id in the Hugging Face cache replaced
    /// by its snapshot path (mlx_lm recipes name models `ORG/NAME`); anything else unchanged, for
    /// the trainer to report.
    public func cachedModelPath(_ spec: String) -> String {
        let local = paths.resolve((spec as NSString).expandingTildeInPath)
        if FileManager.default.fileExists(atPath: local.path) { return spec }
        return ((try? hubCache.resolve(spec)) ?? nil)?.path ?? spec
    }

    /// The model catalog the pickers use: the models folder, the Hugging Face cache and the
    /// adapter folders under `adapterRoots` (default: `paths.adapterRoots`).
    public func modelCatalog(adapterRoots: [URL]? = nil) -> ModelCatalog {
        ModelCatalog(
            modelsDirectory: paths.models, hubCache: hubCache, adapterRoots: adapterRoots ?? paths.adapterRoots)
    }
}
