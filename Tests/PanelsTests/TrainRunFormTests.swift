import Testing

@testable import Panels

@Suite struct TrainRunFormTests {
    static func panel() -> TrainPanel {
        var m = PanelFixtures.train()
        m.availableModels = [
            ChatChoice(name: "smollm2", path: "/m/smollm2.gguf"), ChatChoice(name: "gemma3", path: "/m/gemma3")
        ]
        m.isRunning = false
        m.setAdapterRoot("/lem/adapters")
        return TrainPanel(model: m)
    }

    @Test func formStartsARunWithTypedValues() {
        var p = Self.panel()
        _ = press(&p, [.char("n")])
        #expect(p.form != nil)
        assertSnapshot(renderPanel(p, width: 80, height: 20), "train-form")
        // config (blank), model → gemma3, data folder "data", iters 20
        var keys: [KeyEvent] = [
            KeyEvent(.down), KeyEvent(.right), KeyEvent(.down), KeyEvent(.enter), .char("d"), .char("a"), .char("t"),
            .char("a"), KeyEvent(.enter)
        ]
        keys += [
            KeyEvent(.down), KeyEvent(.enter), KeyEvent(.char("u"), .ctrl), .char("2"), .char("0"), KeyEvent(.enter)
        ]
        keys += Array(repeating: KeyEvent(.down), count: 10) + [KeyEvent(.enter)]
        let (_, intents) = press(&p, keys)
        #expect(p.form == nil)
        // What was typed or picked wins; the rest are defaults a YAML file may override. The
        // adapter folder follows the model, under the adapters root.
        #expect(
            intents == [
                .train(
                    .start(
                        TrainRunRequest(
                            values: ["model": "/m/gemma3", "data": "data", "iters": "20"],
                            defaults: [
                                "learning_rate": "1e-5", "lora_rank": "8", "num_layers": "16", "batch_size": "4",
                                "max_seq_length": "2048",
                                "steps_per_report": "1", "steps_per_eval": "25", "save_every": "25",
                                "adapter_path": "/lem/adapters/gemma3-lora"
                            ])))
            ])
    }

    @Test func aYAMLConfigsValuesReplaceTheDefaultsAndTypedRowsStillWin() {
        var p = Self.panel()
        _ = press(&p, [.char("n")])
        // Type iters first, then the config path: the form asks for the file's values.
        var keys: [KeyEvent] =
            Array(repeating: KeyEvent(.down), count: 3) + [
                KeyEvent(.enter), KeyEvent(.char("u"), .ctrl), .char("7"), KeyEvent(.enter)
            ]
        keys +=
            Array(repeating: KeyEvent(.up), count: 3) + [KeyEvent(.enter)] + "r.yaml".map { KeyEvent.char($0) } + [
                KeyEvent(.enter)
            ]
        let (_, intents) = press(&p, keys)
        #expect(intents == [.train(.readConfig("r.yaml"))])
        p.showConfig(
            path: "r.yaml",
            values: [
                "iters": "120", "num_layers": "4", "data": "/recipes/data", "adapter_path": "/recipes/out",
                "model": "/m/gemma3"
            ], problem: nil)
        let request = p.formRequest
        #expect(request?.configPath == "r.yaml")
        #expect(request?.values == ["iters": "7"])
        #expect(request?.defaults["num_layers"] == "4" && request?.defaults["adapter_path"] == "/recipes/out")
        #expect(p.form?["model"] == "/m/gemma3" && p.form?["data"] == "/recipes/data")
        assertSnapshot(renderPanel(p, width: 80, height: 22), "train-form-config")
        // A file that cannot be read says so under the form.
        p.showConfig(path: "r.yaml", values: [:], problem: "r.yaml:3: unknown key 'iterz'")
        #expect(
            renderPanel(p, width: 80, height: 22).lines.contains {
                $0.contains("cannot use r.yaml: r.yaml:3: unknown key")
            })
    }

    @Test func formReopensWithTheLastRunAndYAMLPath() {
        var p = Self.panel()
        p.model.lastRequest = TrainRunRequest(configPath: "lora.yaml", values: ["model": "/elsewhere/m", "iters": "5"])
        p.openForm()
        // The last run's typed values come back as typed; fields it left blank get the form's defaults.
        #expect(
            p.formRequest
                == TrainRunRequest(
                    configPath: "lora.yaml", values: ["model": "/elsewhere/m", "iters": "5"],
                    defaults: [
                        "learning_rate": "1e-5", "lora_rank": "8", "num_layers": "16", "batch_size": "4",
                        "max_seq_length": "2048",
                        "steps_per_report": "1", "steps_per_eval": "25", "save_every": "25",
                        "adapter_path": "/lem/adapters/m-lora"
                    ]))
        #expect(p.form?.fields[1].kind == .choice(["/elsewhere/m", "/m/smollm2.gguf", "/m/gemma3"]))
        let (_, intents) = press(&p, [KeyEvent(.escape)])
        #expect(intents.isEmpty && p.form == nil)
        for (w, h) in PanelSnapshotTests.tinySizes {
            p.openForm()
            _ = renderPanel(p, width: w, height: h)
        }
    }

    @Test func checkpointsAreSelectedAndOpenedInChat() {
        var p = Self.panel()
        p.model.apply([.saved(step: 50, path: "adapters/0000050_adapters.safetensors")])
        // The newest checkpoint is selected first; [ goes back.
        var (_, intents) = press(&p, [.char("c")])
        #expect(intents == [.chat(.useAdapter("adapters/0000050_adapters.safetensors", model: nil))])
        (_, intents) = press(&p, [.char("["), .char("["), .char("c")])
        #expect(intents == [.chat(.useAdapter("adapters/100.safetensors", model: nil))])
        assertSnapshot(renderPanel(p, width: 80, height: 12), "train-checkpoint")
        // Resume needs a finished local run; stop needs a running one.
        (_, intents) = press(&p, [.char("r"), .char("x")])
        #expect(intents.isEmpty)
        p.model.adapterFolder = "/tmp/adapters"
        p.model.isLocalRun = true
        (_, intents) = press(&p, [.char("r")])
        #expect(intents == [.train(.resume)])
        p.model.isRunning = true
        #expect(p.isBusy)
        (_, intents) = press(&p, [.char("x"), .char("n")])
        #expect(intents == [.train(.stop)] && p.form == nil, "no new run while one is running")
    }

    @Test func workbenchSwitchesToChatForACheckpointAndNoticesLastOneKey() {
        var wb = Workbench()
        wb.train = Self.panel()
        wb.selected = .train
        let screen = Rect(x: 0, y: 0, width: 100, height: 30)
        var intents: [WorkbenchIntent] = []
        _ = wb.handle(.key(.char("c")), screen: screen) { intents.append($0) }
        #expect(wb.selected == .chat && intents == [.chat(.useAdapter("adapters/100.safetensors", model: nil))])
        wb.notice = "loaded"
        _ = wb.handle(.key(KeyEvent(.pageUp)), screen: screen) { _ in }
        #expect(wb.notice == nil && wb.chat.scrollBack == 10, "the key that clears a notice still does its job")
    }
}
