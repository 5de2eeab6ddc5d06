import Foundation
import LEMFormats

/// The adapter modules a `WeightLoader` has attached while a model was built.
final class AdapterClaims {
    var paths: Set<String> = []
}

extension WeightLoader {
    /// Creates a loader that attaches `adapter`'s modules (scale multiplied by `strength`) to the
    /// linear layers it builds, for a model run with `options`.
    public init(
        tensors: [String: any WeightTensor], source: String, adapter: InferenceAdapter?, strength: Float = 1,
        options: EngineOptions = EngineOptions()
    ) {
        self.init(tensors: tensors, source: source, options: options)
        if let adapter { self.adapter = (adapter, strength) }
    }

    /// The adapter term for the linear layer `prefix` over `weight`, nil when not adapted.
    ///
    /// A module whose shape disagrees with the layer is an error naming the adapter file and key.
    func linearAdapter(_ prefix: String, weight: any WeightTensor) throws -> LinearAdapter? {
        guard let attached = adapter, let module = attached.adapter.modules[prefix] else { return nil }
        let adapter = attached.adapter
        guard module.inputs == weight.columns, module.outputs == weight.rows else {
            throw FormatError(
                adapter.weightsFile, tensor: module.key,
                "adapts \(prefix) as (in \(module.inputs), out \(module.outputs)) but the model's layer is [out \(weight.rows), in \(weight.columns)] (\(source))"
            )
        }
        adapterClaims.paths.insert(prefix)
        return LinearAdapter(module: module, weight: weight, strength: attached.strength)
    }

    /// Throws when the adapter has modules no linear layer of the model claimed (a different
    /// architecture, more layers, or an adapted module this engine does not run).
    public func checkAdapterFullyUsed() throws {
        guard let adapter = adapter?.adapter else { return }
        let unused = adapter.modules.filter { !adapterClaims.paths.contains($0.key) }.values.map(\.key).sorted()
        if let first = unused.first {
            let more = unused.count > 1 ? " (and \(unused.count - 1) more)" : ""
            throw FormatError(
                adapter.weightsFile, tensor: first, "adapts a module the model \(source) does not have\(more)")
        }
    }
}
