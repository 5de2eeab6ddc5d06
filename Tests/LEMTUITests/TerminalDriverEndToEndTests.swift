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
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lem-e2e-\(tag)-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("cfg/lem"), withIntermediateDirectories: true)
        try Data().write(to: dir.appendingPathComponent("train-log.jsonl"))
        return dir
    }

    /// Starts the demo workbench in the session at `width`×`height`.
    static func openDemo(
        _ s: Session, _ dir: URL, width: Int = 100, height: Int = 30, term: String = "xterm-256color",
        extraEnv: String = ""
    ) throws {
        // The test runner may run with NO_COLOR set; these runs are about colour.
        let command =
            "env -u NO_COLOR XDG_CONFIG_HOME=\(dir.path)/cfg TERM=\(term) \(extraEnv) \(lem!.path) workbench --demo-chat "
            + "--train-log \(dir.path)/train-log.jsonl; echo LEM-EXIT-$?; sleep 30"
        try s.run(["new-session", "-d", "-s", s.name, "-x", "\(width)", "-y", "\(height)", command])
    }

    @Test(
        .enabled(if: tmux != nil, "tmux is not installed"),
        .enabled(if: lem != nil, "the lem binary is not built: run swift build"))
    func aPastedTextIsOnePromptNotOneMessagePerLine() throws {
        let s = Session(tmux: Self.tmux!)
        let dir = try Self.driverFolder("paste")
        defer {
            _ = try? s.run(["kill-server"])
            try? FileManager.default.removeItem(at: dir)
        }
        try Self.openDemo(s, dir)
        var (ok, text) = s.wait(for: "Ask something")
        #expect(ok, "chat did not open:\n\(text)")
        let lines = (1...41).map { "pasted line \($0)" }.joined(separator: "\n")
        try s.run(["set-buffer", "-b", "lem-e2e", lines])
        try s.run(["paste-buffer", "-p", "-b", "lem-e2e", "-t", s.name])
        (ok, text) = s.wait(for: "pasted line 41")
        #expect(ok, "the paste is not in the prompt:\n\(text)")
        Thread.sleep(forTimeInterval: 0.5)
        text = s.screen()
        #expect(!text.contains("▍You"), "a pasted line was sent as a message:\n\(text)")
        try s.keys("Enter")
        (ok, text) = s.wait(for: "Demo reply", timeout: 15)
        #expect(ok, "the prompt was not answered:\n\(text)")
        (ok, text) = s.wait(for: "tok/s", timeout: 30)
        let you = text.components(separatedBy: "▍You").count - 1
        let answers = text.components(separatedBy: "▍Assistant").count - 1
        #expect(you <= 1 && answers == 1, "expected one prompt and one answer:\n\(text)")
        #expect(!text.contains("generating"), "an answer is still shown as generating:\n\(text)")
        try s.keys("C-q")
        (ok, text) = s.wait(for: "LEM-EXIT-0")
        #expect(ok, "lem did not exit:\n\(text)")
    }

    @Test(
        .enabled(if: tmux != nil, "tmux is not installed"),
        .enabled(if: lem != nil, "the lem binary is not built: run swift build"))
    func aResizeWhileIdleRedrawsAtTheNewSize() throws {
        let s = Session(tmux: Self.tmux!)
        let dir = try Self.driverFolder("resize")
        defer {
            _ = try? s.run(["kill-server"])
            try? FileManager.default.removeItem(at: dir)
        }
        try Self.openDemo(s, dir, width: 100, height: 30)
        var (ok, text) = s.wait(for: "Ask something")
        #expect(ok, "chat did not open:\n\(text)")
        try s.keys("M-3")
        (ok, text) = s.wait(for: "Benchmarks · baseline")
        #expect(ok, "bench panel not shown:\n\(text)")
        // Nothing animates and no key follows: only the resize can wake the loop.
        for (width, height) in [(64, 18), (130, 36)] {
            Thread.sleep(forTimeInterval: 1)
            try s.run(["resize-window", "-t", s.name, "-x", "\(width)", "-y", "\(height)"])
            let deadline = Date().addingTimeInterval(5)
            var rows: [Substring] = []
            repeat {
                Thread.sleep(forTimeInterval: 0.2)
                text = s.screen()
                rows = text.split(separator: "\n", omittingEmptySubsequences: false)
            } while Date() < deadline
                && !(rows.count >= height && rows[height - 1].contains("prompts")
                    && rows[height - 2].hasPrefix("╰") && rows[height - 2].count == width)
            #expect(rows.count >= height && rows[0].hasPrefix(" 1 Chat"), "no tab bar at \(width)×\(height):\n\(text)")
            #expect(
                rows.count >= height && rows[height - 1].contains("prompts"),
                "no footer on the last row at \(width)×\(height):\n\(text)")
            #expect(
                rows.count >= height && rows[height - 2].hasPrefix("╰") && rows[height - 2].count == width,
                "the panel is not redrawn to \(width) columns:\n\(text)")
        }
        try s.keys("C-q")
        (ok, text) = s.wait(for: "LEM-EXIT-0")
        #expect(ok, "lem did not exit:\n\(text)")
    }

    @Test(
        .enabled(if: tmux != nil, "tmux is not installed"),
        .enabled(if: lem != nil, "the lem binary is not built: run swift build"))
    func anEightColourTerminalNeverDrawsTextBlack() throws {
        let s = Session(tmux: Self.tmux!)
        let dir = try Self.driverFolder("ansi8")
        defer {
            _ = try? s.run(["kill-server"])
            try? FileManager.default.removeItem(at: dir)
        }
        try Self.openDemo(s, dir, term: "xterm")
        var (ok, text) = s.wait(for: "Ask something")
        #expect(ok, "chat did not open:\n\(text)")
        for panel in ["M-1", "M-3", "M-4"] {
            try s.keys(panel)
            Thread.sleep(forTimeInterval: 0.5)
            let styled = try s.run(["capture-pane", "-p", "-e", "-t", s.name])
            // SGR 30 is a black foreground: invisible on the dark screens most terminals have.
            let black = try NSRegularExpression(pattern: "\u{1b}\\[(?:[0-9;]*;)?30(?:;[0-9;]*)?m")
            let hits = black.numberOfMatches(in: styled, range: NSRange(styled.startIndex..., in: styled))
            #expect(hits == 0, "black text on \(panel):\n\(styled.replacingOccurrences(of: "\u{1b}", with: "⎋"))")
        }
        try s.keys("C-q")
        (ok, text) = s.wait(for: "LEM-EXIT-0")
        #expect(ok, "lem did not exit:\n\(text)")
    }

    @Test(
        .enabled(if: tmux != nil, "tmux is not installed"),
        .enabled(if: lem != nil, "the lem binary is not built: run swift build"))
    func underNoColorTheAttentionMapIsShaded() throws {
        let s = Session(tmux: Self.tmux!)
        let dir = try Self.driverFolder("nocolor")
        defer {
            _ = try? s.run(["kill-server"])
            try? FileManager.default.removeItem(at: dir)
        }
        try Self.openDemo(s, dir, extraEnv: "NO_COLOR=1")
        var (ok, text) = s.wait(for: "Ask something")
        #expect(ok, "chat did not open:\n\(text)")
        try s.keys("M-4")
        (ok, text) = s.wait(for: "Layer 0 · head 0")
        // Shade characters carry the weights in the map, the head grid and both legends.
        let shades = text.filter { "░▒▓█".contains($0) }.count
        #expect(ok && shades >= 20, "no shaded heat map under NO_COLOR:\n\(text)")
        try s.keys("C-q")
        (ok, text) = s.wait(for: "LEM-EXIT-0")
        #expect(ok, "lem did not exit:\n\(text)")
    }

    @Test(
        .enabled(if: tmux != nil, "tmux is not installed"),
        .enabled(if: lem != nil, "the lem binary is not built: run swift build"))
    func ctrlTSaysWhichThemeIsOnAndTheNextStartKeepsIt() throws {
        let s = Session(tmux: Self.tmux!)
        let dir = try Self.driverFolder("theme")
        defer {
            _ = try? s.run(["kill-server"])
            try? FileManager.default.removeItem(at: dir)
        }
        let run =
            "env -u NO_COLOR XDG_CONFIG_HOME=\(dir.path)/cfg TERM=xterm-256color \(Self.lem!.path) workbench --demo-chat "
            + "--train-log \(dir.path)/train-log.jsonl"
        try s.run([
            "new-session", "-d", "-s", s.name, "-x", "100", "-y", "30",
            run + "; echo LEM-EXIT-$?; sleep 2; " + run + "; sleep 30"
        ])
        var (ok, text) = s.wait(for: "Ask something")
        #expect(ok, "chat did not open:\n\(text)")
        try s.keys("C-t")
        (ok, text) = s.wait(for: "theme light (2/4) · remembered in")
        #expect(ok, "no notice saying which theme is on:\n\(text)")
        let saved = (try? String(contentsOf: dir.appendingPathComponent("cfg/lem/theme"), encoding: .utf8)) ?? ""
        #expect(saved == "name = light\n", "theme file: \(saved)")
        try s.keys("C-q")
        (ok, text) = s.wait(for: "LEM-EXIT-0")
        #expect(ok, "lem did not exit:\n\(text)")
        // The second start opens in the light theme: its own white background (xterm 231).
        Thread.sleep(forTimeInterval: 2.5)
        (ok, text) = s.wait(for: "Ask something")
        let styled = try s.run(["capture-pane", "-p", "-e", "-t", s.name])
        #expect(ok && styled.contains("48;5;231"), "the second start is not in the light theme:\n\(styled.prefix(600))")
        try s.keys("C-q")
    }

    @Test(
        .enabled(if: tmux != nil, "tmux is not installed"),
        .enabled(if: lem != nil, "the lem binary is not built: run swift build"))
    func ctrlCWhileAnAnswerStreamsAsksAndNamesIt() throws {
        let s = Session(tmux: Self.tmux!)
        let dir = try Self.driverFolder("ctrlc")
        defer {
            _ = try? s.run(["kill-server"])
            try? FileManager.default.removeItem(at: dir)
        }
        try Self.openDemo(s, dir)
        var (ok, text) = s.wait(for: "Ask something")
        #expect(ok, "chat did not open:\n\(text)")
        try s.keys("Tell me a story.", "Enter")
        (ok, text) = s.wait(for: "generating")
        #expect(ok, "no answer streaming:\n\(text)")
        try s.keys("C-c")
        (ok, text) = s.wait(for: "Quit anyway?")
        #expect(
            ok && text.contains("Still running: an answer in Chat"),
            "Ctrl-C did not ask, or did not say what runs:\n\(text)")
        #expect(!text.contains("LEM-EXIT"), "Ctrl-C quit without asking:\n\(text)")
        // The quit key again confirms.
        try s.keys("C-c")
        (ok, text) = s.wait(for: "LEM-EXIT-0")
        #expect(ok, "Ctrl-C twice did not quit:\n\(text)")
    }
}
