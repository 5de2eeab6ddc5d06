/// The new-run form of the Train panel and the checkpoint selection.
extension TrainPanel {
    /// The form's fields, in mlx_lm config keys, with their labels.
    static let formKeys: [(key: String, label: String)] = [
        ("config", "YAML config"), ("model", "model"), ("data", "data folder"), ("iters", "iters"),
        ("learning_rate", "learning rate"), ("lora_rank", "LoRA rank"), ("num_layers", "layers"),
        ("batch_size", "batch size"), ("max_seq_length", "max seq len"), ("adapter_path", "adapter path"),
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

    /// Opens the form with the last run's values (or defaults).
    public mutating func openForm() {
        let last = model.lastRequest
        var fields: [FormField] = []
        let defaults = ["iters": "100", "learning_rate": "1e-5", "lora_rank": "8", "num_layers": "16", "batch_size": "4",
                        "max_seq_length": "2048", "adapter_path": "adapters"]
        for (key, label) in Self.formKeys {
            let value = key == "config" ? (last?.configPath ?? "") : (last?.values[key] ?? defaults[key] ?? "")
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
        form = FormState(fields: fields)
    }

    /// The request the form describes (blank fields are left out).
    public var formRequest: TrainRunRequest? {
        guard let f = form else { return nil }
        var values: [String: String] = [:]
        for (key, _) in Self.formKeys where key != "config" {
            let v = f[key].trimmed
            if !v.isEmpty { values[key] = v }
        }
        let config = f["config"].trimmed
        return TrainRunRequest(configPath: config.isEmpty ? nil : config, values: values)
    }

    mutating func handleForm(_ k: KeyEvent, emit: (WorkbenchIntent) -> Void) -> EventResult {
        guard var f = form else { return .ignored }
        let outcome = f.handle(k)
        form = f
        switch outcome {
        case .ignored: return .ignored
        case .moved, .changed: return .redraw
        case .close: form = nil
        case .activated:
            if let r = formRequest { emit(.train(.start(r))) }
            form = nil
            selectedCheckpoint = nil
        }
        return .redraw
    }

    func renderForm(_ f: FormState, into buffer: inout ScreenBuffer, area: Rect, focused: Bool) {
        let box = area.centered(width: min(72, area.width - 2), height: min(area.height - 2, f.fields.count + 4))
        guard box.width >= 12, box.height >= 3 else { return }
        let block = Block(title: "New training run", rightTitle: "blank = YAML / default", focused: true, background: .role(.modalBackground))
        block.render(into: &buffer, area: box)
        let inner = block.inner(box).inset(horizontal: 1, vertical: 0)
        let (rows, footer) = inner.splitBottom(inner.height > f.fields.count ? 1 : 0)
        Form(f, focused: focused, labelWidth: 15).render(into: &buffer, area: rows)
        if !footer.isEmpty {
            buffer.put("Form values override the YAML file; runs in this process.", x: footer.x, y: footer.y, style: .role(.textDim), maxX: footer.maxX)
        }
    }
}
