import Foundation
import TestSupport
import Testing

/// End-to-end runs of the real `lem workbench` in tmux on real data: the Bench panel over the LEM
/// results imported into a temporary store (table, filter, detail, jump to Chat, the judge run
/// from the panel) and the Attention panel on the real engine.
///
/// These tests extend the serialized `WorkbenchEndToEndTests` suite, so they share its tmux
/// socket one at a time. Every step waits for text with a timeout; nothing sleeps for a result.
extension WorkbenchEndToEndTests {
    /// Runs `lem` to completion (not under tmux) and returns its exit status and output.
    static func runLem(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = lem!
        p.arguments = args
        let out = FileManager.default.temporaryDirectory.appendingPathComponent(
            "lem-e2e-\(getpid())-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: out.path, contents: nil) else {
            return (-1, "cannot create \(out.path)")
        }
        defer { try? FileManager.default.removeItem(at: out) }
        let handle = try FileHandle(forWritingTo: out)
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try handle.close()
        return (p.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "")
    }

    /// A temporary folder with the shared LEM results imported into `lem.sqlite`.
    static func importedStore(_ tag: String) throws -> URL {
        let dir = try scratchFolder(tag)
        let (status, output) = try runLem([
            "bench", "import", TestPaths.sharedLEM!.path, "--db", dir.appendingPathComponent("lem.sqlite").path
        ])
        #expect(status == 0 && output.contains("imported"), "lem bench import failed (\(status)):\n\(output)")
        return dir
    }

    /// Waits until `pattern` (a regular expression) matches the pane and `also` holds for it (a
    /// capture can fall between the status line's update and the rows' redraw); returns the
    /// first capture group.
    static func waitMatch(
        _ s: Session, _ pattern: String, timeout: Double = 10,
        also: (String) -> Bool = { _ in true }
    ) -> (String?, String) {
        let regex = try! NSRegularExpression(pattern: pattern)
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = s.screen()
            let range = NSRange(last.startIndex..., in: last)
            if let m = regex.firstMatch(in: last, range: range), also(last) {
                let g = m.numberOfRanges > 1 ? m.range(at: 1) : m.range
                return (Range(g, in: last).map { String(last[$0]) } ?? "", last)
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return (nil, last)
    }

    /// Opens the workbench on `dir/lem.sqlite` and switches to the Bench panel's summary.
    static func openBench(_ s: Session, _ dir: URL, extra: String = "") throws -> (Bool, String) {
        try s.start(workbenchCommand(dir, extra), width: 170, height: 34)
        var (ok, text) = s.wait(for: "Type a prompt", timeout: 30)
        guard ok else { return (false, text) }
        try s.keys("M-3")
        (ok, text) = s.wait(for: "Benchmarks · baseline", timeout: 30)
        guard ok else { return (false, text) }
        // The store is read in the background: wait for its table, not just the frame.
        return s.wait(for: "200 prompts", timeout: 60)
    }

    @Test(.tmuxAndLem, .lemResultsAndSmolLM2)
    func benchPanelShowsThePaperTableFiltersOpensADetailAndJumpsToChat() throws {
        try Self.withSession(Self.importedStore("bench")) { s, dir in
            var (ok, text) = try Self.openBench(s, dir)
            #expect(ok, "the bench panel did not show the store:\n\(text)")
            for run in ["base_pt", "instruction_tuned", "abliterated", "lem_ethics", "lem_ethics_allen"] {
                #expect(text.contains(run), "run \(run) missing from the summary:\n\(text)")
            }
            // Benchmarks head their dimensions' columns, whole at this width.
            for column in ["gsm8k", "accuracy", "truthfulqa", "truthfulness", "informativeness", "toxigen", "awareness"]
            {
                #expect(text.contains(column), "column \(column) missing:\n\(text)")
            }
            // The baseline row has plain means; the others carry deltas against it, in percentage
            // points for GSM8K's accuracy.
            #expect(
                text.contains("★ base_pt") && text.contains("2.0%")
                    && text.range(of: #"instruction_tuned +34\.0% \+32\.0pp"#, options: .regularExpression) != nil,
                "no deltas against the baseline:\n\(text)")
            #expect(!text.contains("1600"), "a relative change of a percentage:\n\(text)")

            try s.keys("Tab")
            s.expect("200/200 · sort id", "the prompt browser did not open")
            try s.keys("/")
            try s.keys("bench:gsm8k")
            try s.keys("Enter")
            func rows(_ screen: String) -> [Substring] {
                screen.split(separator: "\n").dropFirst(3).filter { $0.hasPrefix("│") && !$0.contains("filter:") }
            }
            func onlyGSM8K(_ screen: String) -> Bool {
                let shown = rows(screen)
                return !shown.isEmpty
                    && shown.allSatisfy {
                        !$0.contains("do_not_answ") && !$0.contains("truthfulqa") && !$0.contains("toxigen")
                    }
            }
            let (shown, filtered) = Self.waitMatch(s, #"filter: bench:gsm8k · (\d+)/200"#, also: onlyGSM8K)
            let count = shown.flatMap { Int($0) } ?? 0
            #expect(count > 0 && count < 200, "the filter did not narrow the list:\n\(filtered)")
            #expect(onlyGSM8K(filtered), "rows of other benchmarks after the filter:\n\(filtered)")

            try s.keys("Enter")
            (ok, text) = s.wait(for: "Esc back")
            #expect(
                ok && text.contains("gsm8k · ") && text.contains("Prompt") && text.contains("base_pt"),
                "no detail view:\n\(text)")
            // The detail view shows the prompt's text under its heading.
            let lines = text.split(separator: "\n").map(String.init)
            let promptLine = lines.firstIndex { $0.contains("│ Prompt") }.flatMap { i in
                i + 1 < lines.count ? lines[i + 1] : nil
            }
            let words = promptLine?.trimmingCharacters(in: CharacterSet(charactersIn: "│ ")).split(separator: " ") ?? []
            #expect(!words.isEmpty, "cannot read the prompt in the detail view:\n\(text)")

            try s.keys("M-c")
            (ok, text) = s.wait(for: "prompt from the benchmark: Enter sends it (temperature 0.3, 512 tokens)")
            #expect(ok && text.contains("Chat · "), "the prompt did not reach Chat:\n\(text)")
            #expect(
                text.range(of: #"temp\s+0\.30"#, options: .regularExpression) != nil,
                "the benchmark's temperature is not set:\n\(text)")
            let input =
                text.split(separator: "\n").drop { !$0.contains("─ Prompt ") }.dropFirst().first.map(String.init) ?? ""
            #expect(input.contains { $0.isLetter || $0.isNumber }, "the chat input is empty:\n\(text)")
            try s.quit(status: "")
        }
    }

    @Test(.tmuxAndLem, .lemResultsAndSmolLM2)
    func judgeRunsFromTheBenchPanelStopsAndResumes() throws {
        try Self.withSession(Self.importedStore("judge")) { s, dir in
            var (ok, text) = try Self.openBench(s, dir, extra: "--model \(TestPaths.smolLM2!.path)")
            #expect(ok, "the bench panel did not show the store:\n\(text)")
            try s.keys("J")
            (ok, text) = s.wait(for: "Start judging")
            #expect(
                ok && text.contains("SmolLM2-135M-Instruct.Q4_1.gguf"),
                "no judge form with the workbench's model:\n\(text)"
            )
            // Rubric: truthfulqa; answers of: base_pt; 200 tokens per verdict (a pass of 50 then
            // takes long enough to be stopped: verdicts are decoded eight at a time, and with
            // fewer tokens the whole pass ended before the first progress line was read); start.
            try s.keys("Down", "Down", "Down", "Right", "Down", "Right", "Down", "Enter")
            for _ in 0..<3 { try s.keys("BSpace") }
            try s.keys("200", "Enter", "Down", "Down", "Enter")
            let (total, started) = Self.waitMatch(s, #"judging (\d+) answers with local:"#, timeout: 120)
            #expect(total == "50", "the pass did not start on 50 truthfulqa answers of base_pt:\n\(started)")
            // Some answer was judged (which one first depends on the verdicts' lengths).
            let (judged, progress) = Self.waitMatch(s, #"\[\d+/50\] truthfulqa base_pt (TRUTHQA_\d+)"#, timeout: 240)
            #expect(judged != nil, "no judge progress:\n\(progress)")
            try s.keys("x")
            s.expect("stopped", timeout: 240, "the pass did not stop")

            // Starting again resumes: the answers judged before the stop are skipped.
            try s.keys("J")
            (ok, text) = s.wait(for: "Start judging")
            #expect(
                ok && text.contains("‹ truthfulqa ›") && text.contains("‹ base_pt ›"),
                "the form lost its choices:\n\(text)"
            )
            try s.keys("Enter")
            let (left, resumed) = Self.waitMatch(s, #"judging (\d+) answers with local:"#, timeout: 60)
            let remaining = left.flatMap { Int($0) } ?? 50
            #expect(remaining <= 49 && remaining > 0, "the second pass did not skip the judged answers:\n\(resumed)")
            try s.keys("x")
            s.expect("stopped", timeout: 240, "the second pass did not stop")

            // The verdicts are in the browser: the answer judged first shows the judge's rows.
            try s.keys("Tab", "/")
            try s.keys("bench:truthfulqa \(judged ?? "TRUTHQA_001")")
            try s.keys("Enter", "Enter")
            (ok, text) = s.wait(for: "Esc back", timeout: 30)
            // The scores sit under the answers: page down until the judge's rows show.
            for _ in 0..<10 where !text.contains("judge/truthfulness") {
                try s.keys("NPage")
                (ok, text) = s.wait(for: "judge/truthfulness", timeout: 1)
            }
            #expect(ok, "the judge's scores are not in the detail view:\n\(text)")
            try s.quit(status: "")
        }
    }

    @Test(
        .tmuxAndLem,
        .enabled(if: TestPaths.smolLM2 != nil, "SmolLM2 not installed: run Scripts/setup.sh"))
    func attentionPanelAnalysesATypedPromptOnTheRealEngine() throws {
        try Self.withSession(Self.scratchFolder("attn")) { s, dir in
            try s.start(Self.workbenchCommand(dir, "--model \(TestPaths.smolLM2!.path)"), width: 130, height: 40)
            s.expect("Type a prompt", timeout: 30, "the workbench did not open")
            try s.keys("M-4")
            s.expect("Heads · ", "the attention panel did not open")
            try s.keys("p")
            try s.keys("The cat sat on the mat")
            try s.keys("Enter")
            // SmolLM2 has 30 layers × 9 heads; the prompt is a handful of tokens.
            let (tokens, analysed) = Self.waitMatch(s, #"([1-9]\d*) tokens"#, timeout: 120)
            let t = tokens.flatMap { Int($0) } ?? 0
            #expect(t >= 6 && t <= 12, "no token map for the prompt:\n\(analysed)")
            // The token count can show before the grid's last row is drawn: wait for it.
            let (reachesLast, lastText) = s.wait(for: "L29", timeout: 60)
            #expect(reachesLast, "the grid does not reach the last layer:\n\(lastText)")
            let (gridValue, grid) = Self.waitMatch(s, #"L0 H0: (\S+)"#)
            #expect(gridValue != nil && gridValue != "—", "no statistic under the grid cursor:\n\(grid)")
            let readout = #"q\d+ '[^']*' → k(\d+) '[^']*' = (\d\.\d{4})"#
            let (k0, map) = Self.waitMatch(s, readout)
            #expect(k0 != nil && map.contains("cat"), "no readable heatmap:\n\(map)")

            // Move the grid cursor down a layer, then the map cursor one key across.
            try s.keys("Down")
            s.expect("L1 H0: ", "the grid cursor did not move")
            let start = k0.flatMap { Int($0) } ?? 0
            try s.keys("Tab", start == 0 ? "Right" : "Left")
            let (k1, after) = Self.waitMatch(
                s, readout.replacingOccurrences(of: "k(\\d+)", with: "k(\(start == 0 ? 1 : start - 1))"))
            #expect(k1 != nil, "the map cursor did not move from k\(start):\n\(after)")
            let values = after.matches(of: #/= (\d\.\d{4})/#).compactMap { Double($0.1) }
            #expect(
                !values.isEmpty && values.allSatisfy { $0 >= 0 && $0 <= 1 }, "weights are not probabilities:\n\(after)")
            try s.quit(status: "")
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Enabled where the shared LEM results (`../shared/lem`) and SmolLM2 are installed.
    static var lemResultsAndSmolLM2: Self {
        .enabled(
            if: TestPaths.sharedLEM != nil && TestPaths.smolLM2 != nil,
            "needs ../shared/lem (the LEM results) and SmolLM2 (run Scripts/setup.sh)")
    }
}
