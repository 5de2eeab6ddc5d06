import Foundation
import TestSupport
import Testing

/// Drives the real `lem workbench` binary inside a detached tmux session: open, switch panels,
/// open help, quit (confirming, since the demo training runs) and check the terminal is restored.
@Suite(.serialized) struct WorkbenchEndToEndTests {
    static let tmux: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// The built `lem`: next to the test bundle, else in the debug/release build folders.
    static let lem: URL? = {
        var candidates: [URL] = []
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = runner.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("lem"))
            dir = dir.deletingLastPathComponent()
        }
        for config in ["debug", "release"] {
            candidates.append(TestPaths.repoRoot.appendingPathComponent(".build/\(config)/lem"))
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    struct Session {
        let tmux: String
        let socket = "lem-e2e-\(getpid())"
        let name = "e2e"

        /// Runs tmux with posix_spawn and waitpid (Foundation's Process would wait for the tmux
        /// server it starts, which inherits its exit-monitoring descriptor) and returns stdout.
        @discardableResult
        func run(_ args: [String]) throws -> String {
            let outPath = FileManager.default.temporaryDirectory.appendingPathComponent(
                "lem-e2e-\(getpid())-\(UUID().uuidString).out"
            ).path
            defer { try? FileManager.default.removeItem(atPath: outPath) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            let argv = [tmux, "-L", socket] + args
            var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
            defer { for a in cargs { free(a) } }
            // The test runner's threads block most signals; give tmux (and lem under it) a clean
            // signal state so resize and kill-server work.
            var attr = posix_spawnattr_t()
            posix_spawnattr_init(&attr)
            defer { posix_spawnattr_destroy(&attr) }
            var empty = sigset_t()
            var all = sigset_t()
            sigemptyset(&empty)
            sigfillset(&all)
            posix_spawnattr_setsigmask(&attr, &empty)
            posix_spawnattr_setsigdefault(&attr, &all)
            posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            var pid: pid_t = 0
            let rc = posix_spawn(&pid, tmux, &actions, &attr, &cargs, environ)
            guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            return (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        }

        func screen() -> String { (try? run(["capture-pane", "-p", "-t", name])) ?? "" }

        /// Waits until the pane shows `text`; returns the last capture.
        func wait(for text: String, timeout: Double = 10) -> (Bool, String) {
            let deadline = Date().addingTimeInterval(timeout)
            var last = ""
            while Date() < deadline {
                last = screen()
                if last.contains(text) { return (true, last) }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return (false, last)
        }

        func keys(_ k: String...) throws { try run(["send-keys", "-t", name] + k) }
    }

    @Test(
        .enabled(if: tmux != nil, "tmux is not installed"),
        .enabled(if: lem != nil, "the lem binary is not built: run swift build"))
    func openSwitchHelpAndQuitRestoresTheTerminal() throws {
        let s = Session(tmux: Self.tmux!)
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("lem-e2e-config-\(getpid())")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        defer {
            _ = try? s.run(["kill-server"])
            try? FileManager.default.removeItem(at: config)
        }
        let command =
            "env XDG_CONFIG_HOME=\(config.path) TERM=xterm-256color \(Self.lem!.path) workbench --demo-chat; echo LEM-EXIT-$?; sleep 30"
        try s.run(["new-session", "-d", "-s", s.name, "-x", "100", "-y", "30", command])

        var (ok, text) = s.wait(for: "Chat · ")
        #expect(ok, "chat panel did not open:\n\(text)")
        try s.keys("M-2")
        (ok, text) = s.wait(for: "Loss · ")
        #expect(ok, "train panel not shown:\n\(text)")
        try s.keys("?")
        (ok, text) = s.wait(for: "Help · Train")
        #expect(ok, "help did not open:\n\(text)")
        try s.keys("Escape")
        // A key right after Esc would read as Alt+key, as in any terminal; let the Esc land first.
        Thread.sleep(forTimeInterval: 0.3)
        try s.keys("3")
        (ok, text) = s.wait(for: "Benchmarks · baseline")
        #expect(ok, "bench panel not shown:\n\(text)")
        // Resize while running: the next frame fits the new size.
        try s.run(["resize-window", "-t", s.name, "-x", "64", "-y", "18"])
        Thread.sleep(forTimeInterval: 0.5)
        text = s.screen()
        #expect(
            text.split(separator: "\n").first?.hasPrefix(" 1 Chat") == true && text.contains("Benchmarks"),
            "after resize:\n\(text)")
        #expect(
            text.split(separator: "\n").allSatisfy { $0.count <= 64 }, "a line is wider than the resized pane:\n\(text)"
        )
        try s.keys("q")
        (ok, text) = s.wait(for: "Quit anyway?")
        #expect(ok, "quit did not ask while the demo training runs:\n\(text)")
        try s.keys("y")
        (ok, text) = s.wait(for: "LEM-EXIT-0")
        #expect(ok, "lem did not exit cleanly:\n\(text)")
        // Restored: the alternate screen is gone and nothing of the UI is left on screen.
        #expect(!text.contains("Benchmarks"), "UI left on the screen after exit:\n\(text)")
        let alternate = try s.run(["display-message", "-p", "-t", s.name, "#{alternate_on}"]).trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(alternate == "0")
    }

    /// Chats with the real default model, finds the conversation in the sessions dialog, exports
    /// it to Markdown, then reopens it in a second run of the program.
    @Test(
        .enabled(if: tmux != nil, "tmux is not installed"),
        .enabled(if: lem != nil, "the lem binary is not built: run swift build"),
        .enabled(if: TestPaths.smolLM2 != nil, "SmolLM2 not installed: run Scripts/setup.sh"))
    func chatIsSavedListedExportedAndReopened() throws {
        let s = Session(tmux: Self.tmux!)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lem-e2e-sessions-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer {
            _ = try? s.run(["kill-server"])
            try? FileManager.default.removeItem(at: dir)
        }
        let command =
            "env XDG_CONFIG_HOME=\(dir.path)/cfg TERM=xterm-256color \(Self.lem!.path) workbench --db \(dir.path)/lem.sqlite"
        try s.run([
            "new-session", "-d", "-s", s.name, "-x", "110", "-y", "30",
            command + "; echo LEM-EXIT-$?; sleep 3; " + command + "; sleep 30"
        ])
        var (ok, text) = s.wait(for: "Ask something")
        #expect(ok, "chat did not open:\n\(text)")
        (ok, text) = s.wait(for: "loading", timeout: 0.5)
        let deadline = Date().addingTimeInterval(30)
        while s.screen().contains("loading"), Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        try s.keys("Name a colour.", "Enter")
        (ok, text) = s.wait(for: "tok/s gen", timeout: 3)
        if !ok {
            try s.keys("Escape")
            (ok, text) = s.wait(for: "tok/s gen", timeout: 30)
        }
        #expect(ok, "no finished answer:\n\(text)")
        try s.keys("F3")
        (ok, text) = s.wait(for: "1 stored")
        #expect(ok && text.contains("Name a colour."), "the session is not listed:\n\(text)")
        try s.keys("e")
        (ok, text) = s.wait(for: "exported", timeout: 30)
        #expect(ok, "no export notice:\n\(text)")
        let exports =
            (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("chats").path)) ?? []
        #expect(exports.count == 1 && exports[0].hasSuffix(".md"), "exports: \(exports)")
        if let f = exports.first {
            let md = (try? String(contentsOf: dir.appendingPathComponent("chats/\(f)"), encoding: .utf8)) ?? ""
            #expect(md.hasPrefix("# Name a colour.\n") && md.contains("## Assistant"), "\(md)")
        }
        try s.keys("Escape")
        Thread.sleep(forTimeInterval: 0.3)
        try s.keys("C-q")
        // The second run starts 3 s after the exit line, so the line is on screen until then.
        (ok, text) = s.wait(for: "LEM-EXIT-0")
        #expect(ok, "lem did not exit:\n\(text)")
        // Second run: the stored session opens again.
        (ok, text) = s.wait(for: "Ask something")
        try s.keys("F3")
        (ok, text) = s.wait(for: "1 stored")
        #expect(ok, "the second run does not list the session:\n\(text)")
        try s.keys("Enter")
        (ok, text) = s.wait(for: "▍You")
        #expect(
            ok && text.contains("Name a colour.") && text.contains("▍Assistant"), "the session did not reopen:\n\(text)"
        )
        try s.keys("C-q")
    }
}
