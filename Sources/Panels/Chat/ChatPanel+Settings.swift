import LEMCore

/// The settings side panel: model and adapter pickers, the split view's second configuration,
/// sampler settings, kernel mode and system prompt, applied together when the panel closes.
extension ChatPanel {
    var settingsHints: [KeyHint] {
        if settingsForm.editor != nil {
            let multiline =
                settingsForm.fields.indices.contains(settingsForm.selected)
                && settingsForm.fields[settingsForm.selected].kind == .multilineText
            return [KeyHint("Enter", "keep")] + (multiline ? [KeyHint("Alt-Enter", "new line")] : []) + [
                KeyHint("Esc", "undo")
            ]
        }
        return [
            KeyHint("↑↓", "field"), KeyHint("←→", "choose"), KeyHint("Enter", "edit"), KeyHint("Esc", "apply & close")
        ]
    }

    /// Opens the settings form on the current values.
    public mutating func openSettings() {
        let m = model
        let models = m.availableModels.map(\.name)
        let adapters = ["none"] + m.availableAdapters.map(\.name)
        let s = m.sampler
        settingsForm = FormState(fields: [
            FormField(
                "model", "model", m.modelName(m.modelPath),
                .choice(models.isEmpty ? [m.modelName(m.modelPath)] : models)),
            FormField("adapter", "adapter", m.adapterName(m.adapterPath), .choice(adapters)),
            FormField("compare-model", "B model", m.modelName(m.compareModelPath), .choice(["same"] + models)),
            FormField("compare-adapter", "B adapter", m.adapterName(m.compareAdapterPath), .choice(adapters)),
            FormField("temperature", "temp", Fmt.fixed(s.temperature, 2)),
            FormField("top-p", "top-p", Fmt.fixed(s.topP, 2)),
            FormField("top-k", "top-k", "\(s.topK)"),
            FormField("max-tokens", "max tok", "\(s.maxTokens)"),
            FormField("seed", "seed", s.seed.map { "\($0)" } ?? "random"),
            FormField("kernel", "kernel", m.kernelMode.rawValue, .choice(KernelMode.allCases.map(\.rawValue))),
            FormField("system", "system", m.systemPrompt, .multilineText),
            FormField("remote", "add remote", ""),
            FormField("apply", "apply and close", "", .action)
        ])
        settingsError = nil
        focus = .settings
    }

    /// The settings the form describes, or why they are invalid.
    public func settingsFromForm() -> Result<ChatSettings, SettingsProblem> {
        let f = settingsForm
        var out = model.settings
        func path(_ name: String, in list: [ChatChoice]) -> String? { list.first { $0.name == name }?.path }
        if let p = path(f["model"], in: model.availableModels) { out.modelPath = p }
        out.adapterPath =
            f["adapter"] == "none" ? nil : path(f["adapter"], in: model.availableAdapters) ?? model.adapterPath
        out.compareModelPath = f["compare-model"] == "same" ? nil : path(f["compare-model"], in: model.availableModels)
        out.compareAdapterPath =
            f["compare-adapter"] == "none" ? nil : path(f["compare-adapter"], in: model.availableAdapters)
        guard let t = Double(f["temperature"]), t >= 0 else {
            return .failure(SettingsProblem("temperature must be a number ≥ 0"))
        }
        guard let p = Double(f["top-p"]), p > 0, p <= 1 else {
            return .failure(SettingsProblem("top-p must be in (0, 1]"))
        }
        guard let k = Int(f["top-k"]), k >= 0 else {
            return .failure(SettingsProblem("top-k must be a whole number ≥ 0"))
        }
        guard let n = Int(f["max-tokens"]), n > 0 else {
            return .failure(SettingsProblem("max tokens must be a whole number > 0"))
        }
        let seedText = f["seed"].trimmed
        var seed: UInt64? = nil
        if !seedText.isEmpty, seedText != "random" {
            guard let v = UInt64(seedText) else {
                return .failure(SettingsProblem("seed must be a whole number ≥ 0 or 'random'"))
            }
            seed = v
        }
        out.sampler.temperature = t
        out.sampler.topP = p
        out.sampler.topK = k
        out.sampler.maxTokens = n
        out.sampler.seed = seed
        out.kernelMode = KernelMode(rawValue: f["kernel"]) ?? model.kernelMode
        out.systemPrompt = f["system"]
        let remote = f["remote"].trimmed
        out.addRemote = remote.isEmpty ? nil : remote
        return .success(out)
    }

    mutating func closeSettings(emit: (WorkbenchIntent) -> Void) -> EventResult {
        switch settingsFromForm() {
        case .failure(let problem):
            settingsError = problem.message
        case .success(let settings):
            settingsError = nil
            focus = .input
            if settings != model.settings { emit(.chat(.applySettings(settings))) }
        }
        return .redraw
    }

    mutating func handleSettings(_ k: KeyEvent, keys: KeyMap, emit: (WorkbenchIntent) -> Void) -> EventResult {
        if settingsForm.editor == nil, keys.action(for: k, in: keyContext) == "settings" {
            return closeSettings(emit: emit)
        }
        switch settingsForm.handle(k) {
        case .ignored: return .ignored
        case .moved, .changed:
            settingsError = nil
            return .redraw
        case .activated, .close: return closeSettings(emit: emit)
        }
    }

    func renderSettings(into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        let block = Block(title: "Settings", rightTitle: "Esc applies", focused: focused)
        block.render(into: &buffer, area: area)
        var inner = block.inner(area).inset(horizontal: 1, vertical: 0)
        guard !inner.isEmpty else { return }
        if let e = settingsError, inner.height > 2 {
            let lines = StyledLine(e, .role(.error)).wrapped(to: inner.width)
            for (i, l) in lines.prefix(2).enumerated() {
                buffer.put(l, x: inner.x, y: inner.maxY - min(2, lines.count) + i, maxX: inner.maxX)
            }
            inner.height -= min(2, lines.count)
        }
        Form(settingsForm, focused: focused, labelWidth: 11).render(into: &buffer, area: inner)
    }
}

/// Why the settings form cannot be applied.
public struct SettingsProblem: Error, Hashable, Sendable {
    public var message: String
    /// Creates a problem.
    public init(_ message: String) { self.message = message }
}
