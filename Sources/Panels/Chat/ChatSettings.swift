import LEMCore

/// Something the chat can be run on: an installed model or an adapter folder.
public struct ChatChoice: Hashable, Sendable {
    /// The name shown in pickers.
    public var name: String
    /// The model folder / `.gguf` file, or the adapter folder or file.
    public var path: String

    /// Creates a choice.
    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }
}

/// Everything the settings side panel edits, sent as one intent when it closes.
public struct ChatSettings: Hashable, Sendable {
    public var modelPath: String?
    public var adapterPath: String?
    /// The model of the second answer in the split view (nil: the same model).
    public var compareModelPath: String?
    /// The adapter of the second answer in the split view (nil: none).
    public var compareAdapterPath: String?
    public var sampler: SamplingSettings
    public var systemPrompt: String
    public var kernelMode: KernelMode
    /// A remote model typed in the form (`URL [model] [key-env VAR]`) to save and chat with.
    public var addRemote: String?

    /// Creates settings.
    public init(
        modelPath: String? = nil, adapterPath: String? = nil, compareModelPath: String? = nil,
        compareAdapterPath: String? = nil,
        sampler: SamplingSettings = .chat, systemPrompt: String = "", kernelMode: KernelMode = .none,
        addRemote: String? = nil
    ) {
        self.modelPath = modelPath
        self.adapterPath = adapterPath
        self.compareModelPath = compareModelPath
        self.compareAdapterPath = compareAdapterPath
        self.sampler = sampler
        self.systemPrompt = systemPrompt
        self.kernelMode = kernelMode
        self.addRemote = addRemote
    }
}

extension ChatViewModel {
    /// The settings currently in effect.
    public var settings: ChatSettings {
        ChatSettings(
            modelPath: modelPath, adapterPath: adapterPath, compareModelPath: compareModelPath,
            compareAdapterPath: compareAdapterPath,
            sampler: sampler, systemPrompt: systemPrompt, kernelMode: kernelMode)
    }

    /// The picker name of a model path (its folder name when it is not in the list).
    public func modelName(_ path: String?) -> String {
        guard let path else { return "same" }
        return availableModels.first { $0.path == path }?.name ?? String(path.split(separator: "/").last ?? "")
    }

    /// The picker name of an adapter path.
    public func adapterName(_ path: String?) -> String {
        guard let path else { return "none" }
        return availableAdapters.first { $0.path == path }?.name ?? String(path.split(separator: "/").last ?? "")
    }
}
