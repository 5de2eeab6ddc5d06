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
        /// A socket of its own per session: a test starting right after another's `kill-server`
        /// would otherwise reach the old server while it exits and lose its session.
        let socket = "lem-e2e-\(getpid())-\(UUID().uuidString.prefix(8))"
        let name = "e2e"

        /// Runs tmux with posix_spawn and waitpid (Foundation's Process would wait for the tmux
        /// server it starts, which inherits its exit-monitoring descriptor) and returns stdout.
        @discardableResult
        func run(_ args: [String]) throws -> String { try runStatus(args).out }

        /// Runs tmux with `args`; returns its exit status, stdout and stderr.
        func runStatus(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
            let stem = FileManager.default.temporaryDirectory.appendingPathComponent(
                "lem-e2e-\(getpid())-\(UUID().uuidString)"
            ).path
            let outPath = stem + ".out"
            let errPath = stem + ".err"
            defer {
                try? FileManager.default.removeItem(atPath: outPath)
                try? FileManager.default.removeItem(atPath: errPath)
            }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
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
            return (
                (status >> 8) & 0xff, (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            )
        }

        func screen() -> String { (try? run(["capture-pane", "-p", "-t", name])) ?? "" }

        /// Waits until the pane shows `text`; returns the last capture.
        func wait(for text: String, timeout: Double = 10) -> (Bool, String) {
            wait(timeout: timeout) { $0.contains(text) }
        }

        /// Waits until a capture satisfies `done`; returns the last capture. A capture can catch
        /// a frame half drawn, so a satisfying one is taken again a moment later (the frame then
        /// complete) and that one is returned if it still satisfies `done` (else the first, for
        /// text that shows only briefly).
        func wait(timeout: Double = 10, until done: (String) -> Bool) -> (Bool, String) {
            let deadline = Date().addingTimeInterval(timeout)
            var last = ""
            while Date() < deadline {
                last = screen()
                if done(last) {
                    Thread.sleep(forTimeInterval: 0.15)
                    let settled = screen()
                    return (true, done(settled) ? settled : last)
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return (false, last)
        }

        func keys(_ k: String...) throws { try run(["send-keys", "-t", name] + k) }

        /// Waits for `text` and records a failure saying `what` is missing when it does not show;
        /// returns whether it showed and the last capture.
        @discardableResult
        func expect(
            _ text: String, timeout: Double = 10, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
        ) -> (Bool, String) {
            let (ok, screen) = wait(for: text, timeout: timeout)
            #expect(ok, "\(what):\n\(screen)", sourceLocation: sourceLocation)
            return (ok, screen)
        }

        /// Starts `command` in a new detached session of `width`×`height`, then `; echo LEM-EXIT-$?`
        /// and a pause so the exit line stays on screen.
        /// Throws with tmux's message when the session does not start.
        func start(_ command: String, width: Int, height: Int) throws {
            let (status, _, err) = try runStatus([
                "new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)",
                command + "; echo LEM-EXIT-$?; sleep 30"
            ])
            guard status == 0, try runStatus(["has-session", "-t", name]).status == 0 else {
                throw SessionError(message: "tmux new-session exited \(status): \(err)")
            }
        }

        struct SessionError: Error, CustomStringConvertible {
            let message: String
            var description: String { message }
        }

        /// Starts `command`, then again `pause` seconds after its exit line.
        func startTwice(_ command: String, pause: Int, width: Int, height: Int) throws {
            try start(command + "; echo LEM-EXIT-$?; sleep \(pause); " + command, width: width, height: height)
        }

        /// Sends `key` (Ctrl-Q) and expects lem to exit with `status` ("" for any).
        func quit(key: String = "C-q", status: String = "0", sourceLocation: SourceLocation = #_sourceLocation) throws {
            try keys(key)
            expect("LEM-EXIT-\(status)", "lem did not exit", sourceLocation: sourceLocation)
        }
    }

    /// Runs `body` with a session and `dir`, then stops the tmux server and removes `dir`.
    static func withSession(_ dir: URL, _ body: (Session, URL) throws -> Void) throws {
        let s = Session(tmux: tmux!)
        defer {
            _ = try? s.run(["kill-server"])
            try? FileManager.default.removeItem(at: dir)
        }
        try body(s, dir)
    }

    /// A fresh temporary folder `lem-e2e-<tag>-<pid>`.
    static func scratchFolder(_ tag: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lem-e2e-\(tag)-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The command running the real workbench on `dir/lem.sqlite`, its config under `dir/cfg`.
    static func workbenchCommand(_ dir: URL, _ extra: String = "") -> String {
        "env XDG_CONFIG_HOME=\(dir.path)/cfg TERM=xterm-256color \(lem!.path) workbench --db \(dir.path)/lem.sqlite \(extra)"
    }

    @Test(.tmuxAndLem)
    func openSwitchHelpAndQuitRestoresTheTerminal() throws {
        try Self.withSession(Self.scratchFolder("config")) { s, config in
            try s.start(
                "env XDG_CONFIG_HOME=\(config.path) TERM=xterm-256color \(Self.lem!.path) workbench --demo-chat",
                width: 100, height: 30)
            s.expect("Chat · ", "chat panel did not open")
            try s.keys("M-2")
            s.expect("Loss · ", "train panel not shown")
            try s.keys("?")
            s.expect("Help · Train", "help did not open")
            try s.keys("Escape")
            // A key right after Esc would read as Alt+key, as in any terminal; let the Esc land first.
            Thread.sleep(forTimeInterval: 0.3)
            try s.keys("3")
            s.expect("Benchmarks · baseline", "bench panel not shown")
            // Resize while running: the next frame fits the new size.
            try s.run(["resize-window", "-t", s.name, "-x", "64", "-y", "18"])
            Thread.sleep(forTimeInterval: 0.5)
            var text = s.screen()
            #expect(
                text.split(separator: "\n").first?.hasPrefix(" 1 Chat") == true && text.contains("Benchmarks"),
                "after resize:\n\(text)")
            #expect(
                text.split(separator: "\n").allSatisfy { $0.count <= 64 },
                "a line is wider than the resized pane:\n\(text)")
            try s.keys("q")
            s.expect("Quit anyway?", "quit did not ask while the demo training runs")
            try s.keys("y")
            (_, text) = s.expect("LEM-EXIT-0", "lem did not exit cleanly")
            // Restored: the alternate screen is gone and nothing of the UI is left on screen.
            #expect(!text.contains("Benchmarks"), "UI left on the screen after exit:\n\(text)")
            let alternate = try s.run(["display-message", "-p", "-t", s.name, "#{alternate_on}"])
            #expect(alternate.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        }
    }

    /// Chats with the real default model, finds the conversation in the sessions dialog, exports
    /// it to Markdown, then reopens it in a second run of the program.
    @Test(
        .tmuxAndLem,
        .enabled(if: TestPaths.smolLM2 != nil, "SmolLM2 not installed: run Scripts/setup.sh"))
    func chatIsSavedListedExportedAndReopened() throws {
        try Self.withSession(Self.scratchFolder("sessions")) { s, dir in
            let command = Self.workbenchCommand(dir)
            try s.startTwice(command, pause: 3, width: 110, height: 30)
            s.expect("Ask something", "chat did not open")
            _ = s.wait(for: "loading", timeout: 0.5)
            let deadline = Date().addingTimeInterval(30)
            while s.screen().contains("loading"), Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
            try s.keys("Name a colour.", "Enter")
            // A sampled answer may run long (the answer's own header, with its speeds, then
            // scrolls off): the side panel's "Last turn" block appears when any answer ends.
            if !s.wait(for: "gen/s ", timeout: 3).0 { try s.keys("Escape") }
            s.expect("gen/s ", timeout: 30, "no finished answer")
            try s.keys("F3")
            var (ok, text) = s.wait(for: "1 stored")
            #expect(ok && text.contains("Name a colour."), "the session is not listed:\n\(text)")
            try s.keys("e")
            s.expect("exported", timeout: 30, "no export notice")
            let exports =
                (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("chats").path)) ?? []
            #expect(exports.count == 1 && exports[0].hasSuffix(".md"), "exports: \(exports)")
            if let f = exports.first {
                let md = (try? String(contentsOf: dir.appendingPathComponent("chats/\(f)"), encoding: .utf8)) ?? ""
                #expect(md.hasPrefix("# Name a colour.\n") && md.contains("## Assistant"), "\(md)")
            }
            try s.keys("Escape")
            Thread.sleep(forTimeInterval: 0.3)
            // The second run starts 3 s after the exit line, so the line is on screen until then.
            try s.quit()
            // Second run: the stored session opens again.
            _ = s.wait(for: "Ask something")
            try s.keys("F3")
            s.expect("1 stored", "the second run does not list the session")
            try s.keys("Enter")
            // The reopened session shows its end; page up to its first message.
            _ = s.wait(for: "gen/s ")
            for _ in 0..<40 { try s.keys("PPage") }
            (ok, text) = s.wait(for: "▍You")
            #expect(
                ok && text.contains("Name a colour.") && text.contains("▍Assistant"),
                "the session did not reopen:\n\(text)")
            try s.keys("C-q")
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Enabled where tmux is installed and the `lem` binary is built.
    static var tmuxAndLem: Self {
        .enabled(
            if: WorkbenchEndToEndTests.tmux != nil && WorkbenchEndToEndTests.lem != nil,
            "needs tmux and the lem binary (run swift build)")
    }
}
