import Foundation
import TestSupport
import Testing

/// The terminal driver end to end in tmux, on demo data: bracketed paste, a resize while the
/// loop sleeps, and Ctrl-C while an answer streams.
///
/// These tests extend the serialized `WorkbenchEndToEndTests` suite, so they share its tmux
/// socket one at a time.
extension WorkbenchEndToEndTests {
    /// A config folder and an empty train log (following it keeps the demo's made-up training
    /// out, so nothing wakes the loop while it is idle).
    static func driverFolder(_ tag: String) throws -> URL {
        let dir = try scratchFolder(tag)
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("cfg/lem"), withIntermediateDirectories: true)
        try Data().write(to: dir.appendingPathComponent("train-log.jsonl"))
        return dir
    }

    /// The command running the demo workbench with its config under `dir/cfg`.
    static func demoCommand(_ dir: URL, term: String = "xterm-256color", extraEnv: String = "") -> String {
        // The test runner may run with NO_COLOR set; these runs are about colour.
        "env -u NO_COLOR XDG_CONFIG_HOME=\(dir.path)/cfg TERM=\(term) \(extraEnv) \(lem!.path) workbench --demo-chat "
            + "--train-log \(dir.path)/train-log.jsonl"
    }

    /// Starts the demo workbench at `width`×`height` in a fresh session and driver folder, waits
    /// for the chat to open, runs `body`, then stops tmux and removes the folder.
    static func withDemoSession(
        _ tag: String, width: Int = 100, height: Int = 30, term: String = "xterm-256color", extraEnv: String = "",
        _ body: (Session, URL) throws -> Void
    ) throws {
        try withSession(driverFolder(tag)) { s, dir in
            try s.start(demoCommand(dir, term: term, extraEnv: extraEnv), width: width, height: height)
            s.expect("Ask something", "chat did not open")
            try body(s, dir)
        }
    }

    @Test(.tmuxAndLem)
    func aPastedTextIsOnePromptNotOneMessagePerLine() throws {
        try Self.withDemoSession("paste") { s, _ in
            let lines = (1...41).map { "pasted line \($0)" }.joined(separator: "\n")
            try s.run(["set-buffer", "-b", "lem-e2e", lines])
            try s.run(["paste-buffer", "-p", "-b", "lem-e2e", "-t", s.name])
            s.expect("pasted line 41", "the paste is not in the prompt")
            Thread.sleep(forTimeInterval: 0.5)
            var text = s.screen()
            #expect(!text.contains("▍You"), "a pasted line was sent as a message:\n\(text)")
            try s.keys("Enter")
            s.expect("Demo reply", timeout: 15, "the prompt was not answered")
            (_, text) = s.wait(for: "tok/s", timeout: 30)
            let you = text.components(separatedBy: "▍You").count - 1
            let answers = text.components(separatedBy: "▍Assistant").count - 1
            #expect(you <= 1 && answers == 1, "expected one prompt and one answer:\n\(text)")
            #expect(!text.contains("generating"), "an answer is still shown as generating:\n\(text)")
            try s.quit()
        }
    }

    @Test(.tmuxAndLem)
    func aResizeWhileIdleRedrawsAtTheNewSize() throws {
        try Self.withDemoSession("resize", width: 100, height: 30) { s, _ in
            try s.keys("M-3")
            s.expect("Benchmarks · baseline", "bench panel not shown")
            // Nothing animates and no key follows: only the resize can wake the loop.
            for (width, height) in [(64, 18), (130, 36)] {
                Thread.sleep(forTimeInterval: 1)
                try s.run(["resize-window", "-t", s.name, "-x", "\(width)", "-y", "\(height)"])
                let deadline = Date().addingTimeInterval(5)
                var text = ""
                var rows: [Substring] = []
                repeat {
                    Thread.sleep(forTimeInterval: 0.2)
                    text = s.screen()
                    rows = text.split(separator: "\n", omittingEmptySubsequences: false)
                } while Date() < deadline
                    && !(rows.count >= height && rows[height - 1].contains("prompts")
                        && rows[height - 2].hasPrefix("╰") && rows[height - 2].count == width)
                #expect(
                    rows.count >= height && rows[0].hasPrefix(" 1 Chat"), "no tab bar at \(width)×\(height):\n\(text)")
                #expect(
                    rows.count >= height && rows[height - 1].contains("prompts"),
                    "no footer on the last row at \(width)×\(height):\n\(text)")
                #expect(
                    rows.count >= height && rows[height - 2].hasPrefix("╰") && rows[height - 2].count == width,
                    "the panel is not redrawn to \(width) columns:\n\(text)")
            }
            try s.quit()
        }
    }

    @Test(.tmuxAndLem)
    func anEightColourTerminalNeverDrawsTextBlack() throws {
        try Self.withDemoSession("ansi8", term: "xterm") { s, _ in
            for panel in ["M-1", "M-3", "M-4"] {
                try s.keys(panel)
                Thread.sleep(forTimeInterval: 0.5)
                let styled = try s.run(["capture-pane", "-p", "-e", "-t", s.name])
                // SGR 30 is a black foreground: invisible on the dark screens most terminals have.
                let black = try NSRegularExpression(pattern: "\u{1b}\\[(?:[0-9;]*;)?30(?:;[0-9;]*)?m")
                let hits = black.numberOfMatches(in: styled, range: NSRange(styled.startIndex..., in: styled))
                #expect(hits == 0, "black text on \(panel):\n\(styled.replacingOccurrences(of: "\u{1b}", with: "⎋"))")
            }
            try s.quit()
        }
    }

    @Test(.tmuxAndLem)
    func underNoColorTheAttentionMapIsShaded() throws {
        try Self.withDemoSession("nocolor", extraEnv: "NO_COLOR=1") { s, _ in
            try s.keys("M-4")
            // Shade characters carry the weights in the map, the head grid and both legends; the
            // panel may be caught half drawn, so wait for the whole of it.
            func shades(_ text: String) -> Int { text.filter { "░▒▓█".contains($0) }.count }
            let (ok, text) = s.wait { $0.contains("Layer 0 · head 0") && shades($0) >= 20 }
            #expect(ok, "no shaded heat map under NO_COLOR (\(shades(text)) shade cells):\n\(text)")
            try s.quit()
        }
    }

    @Test(.tmuxAndLem)
    func ctrlTSaysWhichThemeIsOnAndTheNextStartKeepsIt() throws {
        try Self.withSession(Self.driverFolder("theme")) { s, dir in
            try s.startTwice(Self.demoCommand(dir), pause: 2, width: 100, height: 30)
            s.expect("Ask something", "chat did not open")
            try s.keys("C-t")
            s.expect("theme light (2/4) · remembered in", "no notice saying which theme is on")
            let saved = (try? String(contentsOf: dir.appendingPathComponent("cfg/lem/theme"), encoding: .utf8)) ?? ""
            #expect(saved == "name = light\n", "theme file: \(saved)")
            try s.quit()
            // The second start opens in the light theme: its own white background (xterm 231).
            Thread.sleep(forTimeInterval: 2.5)
            let (ok, _) = s.wait(for: "Ask something")
            let styled = try s.run(["capture-pane", "-p", "-e", "-t", s.name])
            #expect(
                ok && styled.contains("48;5;231"), "the second start is not in the light theme:\n\(styled.prefix(600))")
            try s.keys("C-q")
        }
    }

    @Test(.tmuxAndLem)
    func ctrlCWhileAnAnswerStreamsAsksAndNamesIt() throws {
        try Self.withDemoSession("ctrlc") { s, _ in
            try s.keys("Tell me a story.", "Enter")
            s.expect("generating", "no answer streaming")
            try s.keys("C-c")
            let (ok, text) = s.wait(for: "Quit anyway?")
            #expect(
                ok && text.contains("Still running: an answer in Chat"),
                "Ctrl-C did not ask, or did not say what runs:\n\(text)")
            #expect(!text.contains("LEM-EXIT"), "Ctrl-C quit without asking:\n\(text)")
            // The quit key again confirms.
            try s.quit(key: "C-c")
        }
    }
}
