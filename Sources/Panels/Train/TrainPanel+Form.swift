/// The new-run form of the Train panel and the checkpoint selection.
///
/// What a run uses, in order: the rows the user typed or picked, then the YAML config (its
/// values replace the form's defaults on screen as soon as its path is entered), then the
/// defaults shown.
extension TrainPanel {
    /// The form's fields, in mlx_lm config keys, with their labels.
    static let formKeys: [(key: String, label: String)] = [
        ("config", "YAML config"), ("model", "model"), ("data", "data folder"), ("iters", "iters"),
        ("learning_rate", "learning rate"), ("lora_rank", "LoRA rank"), ("num_layers", "layers"),
        ("batch_size", "batch size"), ("max_seq_length", "max seq len"), ("steps_per_report", "report every"),
        ("steps_per_eval", "validate every"), ("save_every", "save every"), ("adapter_path", "adapter path")
    ]

    /// The form's defaults: a short run that reports every iteration (a point per step on the
    /// chart from the first), validates and saves four times.
    static let formDefaults = [
        "iters": "100", "learning_rate": "1e-5", "lora_rank": "8", "num_layers": "16", "batch_size": "4",
        "max_seq_length": "2048", "steps_per_report": "1", "steps_per_eval": "25", "save_every": "25"
    ]

    /// The selected checkpoint, defaulting to the newest.
    var checkpointIndex: Int? {
        guard !model.checkpoints.isEmpty else { return nil }
        return min(selectedCheckpoint ?? model.checkpoints.count - 1, model.checkpoints.count - 1)
    }

    /// The train loss nearest to `step` (to place a checkpoint marker on the curve).
    func nearestLoss(_ step: Int) -> Double {
        model.trainLoss.min { abs($0.step - step) < abs($1.step - step) }?.value ?? model.trainLoss.last?.value ?? 0
    }

    /// The default adapter folder for `modelPath`: `<adapters root>/<model name>-lora`.
    func defaultAdapterPath(for modelPath: String) -> String {
        var name = String(modelPath.split(separator: "/").last ?? "run")
        for ext in [".gguf", ".safetensors"] where name.hasSuffix(ext) { name = String(name.dropLast(ext.count)) }
        let root = model.adapterRoot ?? "adapters"
        return (root.hasSuffix("/") ? root : root + "/") + name + "-lora"
    }

    /// Opens the form with the last run's values (or defaults).
    public mutating func openForm() {
        let last = model.lastRequest
        var fields: [FormField] = []
        for (key, label) in Self.formKeys {
            let value =
                key == "config"
                ? (last?.configPath ?? "") : (last?.values[key] ?? last?.defaults[key] ?? Self.formDefaults[key] ?? "")
            if key == "model", !model.availableModels.isEmpty || chatModelPath != nil {
                // Default: the last run's model, else the one Chat has loaded, else the first installed.
                let chosen = value.isEmpty ? (chatModelPath ?? model.availableModels[0].path) : value
                let names = model.availableModels.map(\.path)
                fields.append(FormField(key, label, chosen, .choice(names.contains(chosen) ? names : [chosen] + names)))
            } else {
                fields.append(FormField(key, label, value))
            }
        }
        fields.append(FormField("start", "start training", "", .action))
        var state = FormState(fields: fields)
        if state["adapter_path"].isEmpty { state["adapter_path"] = defaultAdapterPath(for: state["model"]) }
        form = state
        formTyped = Set(last?.values.keys.map { $0 } ?? [])
        if last?.configPath != nil { formTyped.insert("config") }
        formNote = nil
    }

    /// Shows the values of the YAML config at `path` in the open form: they replace the rows the
    /// user has not typed in (a typed row still wins); `problem` says why the file cannot be read.
    public mutating func showConfig(path: String, values: [String: String], problem: String?) {
        guard var f = form, f["config"].trimmed == path else { return }
        formNote = problem.map { "cannot use \(path): \($0)" }
        for (key, value) in values where !formTyped.contains(key) {
            guard let i = f.fields.firstIndex(where: { $0.key == key }) else { continue }
            if case .choice(let options) = f.fields[i].kind, !options.contains(value) {
                f.fields[i].kind = .choice([value] + options)
            }
            f.fields[i].value = value
        }
        if values["adapter_path"] == nil, !formTyped.contains("adapter_path") {
            f["adapter_path"] = defaultAdapterPath(for: f["model"])
        }
        fromConfig = Set(values.keys)
        form = f
    }

    /// The request the form describes: typed rows as values, the rest (blank ones left out) as
    /// defaults the YAML file can override.
    public var formRequest: TrainRunRequest? {
        guard let f = form else { return nil }
        var values: [String: String] = [:]
        var defaults: [String: String] = [:]
        for (key, _) in Self.formKeys where key != "config" {
            let v = f[key].trimmed
            guard !v.isEmpty else { continue }
            if formTyped.contains(key) { values[key] = v } else { defaults[key] = v }
        }
        let config = f["config"].trimmed
        return TrainRunRequest(configPath: config.isEmpty ? nil : config, values: values, defaults: defaults)
    }

    mutating func handleForm(_ k: KeyEvent, emit: (WorkbenchIntent) -> Void) -> EventResult {
        guard var f = form else { return .ignored }
        let outcome = f.handle(k)
        form = f
        switch outcome {
        case .ignored: return .ignored
        case .moved: return .redraw
        case .changed(let key):
            formTyped.insert(key)
            if key == "config" {
                let path = f["config"].trimmed
                formNote = nil
                fromConfig = []
                if !path.isEmpty { emit(.train(.readConfig(path))) }
            } else if key == "model", !formTyped.contains("adapter_path"), !fromConfig.contains("adapter_path") {
                f["adapter_path"] = defaultAdapterPath(for: f["model"])
                form = f
            }
            return .redraw
        case .close: form = nil
        case .activated:
            if let r = formRequest { emit(.train(.start(r))) }
            form = nil
            selectedCheckpoint = nil
        }
        return .redraw
    }

    func renderForm(_ f: FormState, into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        let box = area.centered(width: min(76, area.width - 2), height: min(area.height - 2, f.fields.count + 4))
        guard box.width >= 12, box.height >= 3 else { return }
        let block = Block(
            title: "New training run", rightTitle: fromConfig.isEmpty ? "" : "· = from the YAML file", focused: true,
            background: .role(.modalBackground))
        block.render(into: &buffer, area: box)
        let inner = block.inner(box).inset(horizontal: 1, vertical: 0)
        let (rows, footer) = inner.splitBottom(inner.height > f.fields.count ? 1 : 0)
        // Rows whose value came from the YAML file are marked, so it is clear what the run uses.
        var shown = f
        for i in shown.fields.indices
        where fromConfig.contains(shown.fields[i].key) && !formTyped.contains(shown.fields[i].key) {
            shown.fields[i].label = "· " + shown.fields[i].label
        }
        Form(shown, focused: focused, labelWidth: 17).render(into: &buffer, area: rows)
        if !footer.isEmpty {
            let text = formNote ?? "Typed rows win over the YAML file, the file over the defaults."
            buffer.put(
                text, x: footer.x, y: footer.y, style: .role(formNote == nil ? .textDim : .error), maxX: footer.maxX)
        }
    }
}
