import Foundation
import TestSupport
import Testing

/// The real workbench (not the demo) in tmux: the Train form reads a YAML config and shows its
/// values, and F5 in Bench says what it read.
extension WorkbenchEndToEndTests {
    @Test(
        .enabled(if: tmux != nil, "tmux is not installed"),
        .enabled(if: lem != nil, "the lem binary is not built: run swift build"))
    func theTrainFormShowsAConfigsValuesAndF5SaysWhatItRead() throws {
        let s = Session(tmux: Self.tmux!)
        let dir = try Self.driverFolder("forms")
        defer {
            _ = try? s.run(["kill-server"])
            try? FileManager.default.removeItem(at: dir)
        }
        let recipes = dir.appendingPathComponent("recipes")
        try FileManager.default.createDirectory(at: recipes, withIntermediateDirectories: true)
        let yaml = recipes.appendingPathComponent("tiny.yaml")
        try Data("data: ../data\niters: 7\nnum_layers: 2\nadapter_path: ../out/run\n".utf8).write(to: yaml)
        let command =
            "env XDG_CONFIG_HOME=\(dir.path)/cfg TERM=xterm-256color \(Self.lem!.path) workbench --db \(dir.path)/lem.sqlite"
            + "; echo LEM-EXIT-$?; sleep 30"
        try s.run(["new-session", "-d", "-s", s.name, "-x", "120", "-y", "32", command])
        var (ok, text) = s.wait(for: "Ask something")
        #expect(ok, "chat did not open:\n\(text)")
        try s.keys("M-2")
        Thread.sleep(forTimeInterval: 0.3)
        try s.keys("n")
        (ok, text) = s.wait(for: "New training run")
        #expect(ok, "the run form did not open:\n\(text)")
        try s.keys("Enter")
        try s.keys("-l", yaml.path)
        try s.keys("Enter")
        // The file's values replace the form's defaults on screen, marked, its paths resolved
        // against the file's folder.
        (ok, text) = s.wait(for: "· iters")
        #expect(ok, "the config's values are not shown:\n\(text)")
        let rows = text.split(separator: "\n").map(String.init)
        #expect(rows.contains { $0.contains("· iters") && $0.contains(" 7 ") }, "\(text)")
        #expect(rows.contains { $0.contains("· layers") && $0.contains(" 2 ") }, "\(text)")
        #expect(
            text.contains(dir.appendingPathComponent("data").path)
                && text.contains(dir.appendingPathComponent("out/run").path), "\(text)")
        #expect(
            rows.contains { $0.contains("max seq len") && $0.contains("2048") && !$0.contains("·") },
            "a default lost its value:\n\(text)")
        try s.keys("Escape")
        Thread.sleep(forTimeInterval: 0.3)
        try s.keys("M-3")
        (ok, text) = s.wait(for: "Benchmarks")
        #expect(ok, "bench panel not shown:\n\(text)")
        try s.keys("F5")
        (ok, text) = s.wait(for: "no results store at")
        #expect(ok, "F5 said nothing:\n\(text)")
        try s.keys("C-q")
        (ok, text) = s.wait(for: "LEM-EXIT-0")
        #expect(ok, "lem did not exit:\n\(text)")
    }
}
