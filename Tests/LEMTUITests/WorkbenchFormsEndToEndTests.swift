import Foundation
import TestSupport
import Testing

/// The real workbench (not the demo) in tmux: the Train form reads a YAML config and shows its
/// values, and F5 in Bench says what it read.
extension WorkbenchEndToEndTests {
    @Test(.tmuxAndLem)
    func theTrainFormShowsAConfigsValuesAndF5SaysWhatItRead() throws {
        try Self.withSession(Self.driverFolder("forms")) { s, dir in
            let recipes = dir.appendingPathComponent("recipes")
            try FileManager.default.createDirectory(at: recipes, withIntermediateDirectories: true)
            let yaml = recipes.appendingPathComponent("tiny.yaml")
            try Data("data: ../data\niters: 7\nnum_layers: 2\nadapter_path: ../out/run\n".utf8).write(to: yaml)
            try s.start(Self.workbenchCommand(dir), width: 120, height: 32)
            s.expect("Ask something", "chat did not open")
            try s.keys("M-2")
            Thread.sleep(forTimeInterval: 0.3)
            try s.keys("n")
            s.expect("New training run", "the run form did not open")
            try s.keys("Enter")
            try s.keys("-l", yaml.path)
            try s.keys("Enter")
            // The file's values replace the form's defaults on screen, marked, its paths resolved
            // against the file's folder.
            let (_, text) = s.expect("· iters", "the config's values are not shown")
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
            s.expect("Benchmarks", "bench panel not shown")
            try s.keys("F5")
            s.expect("no results store at", "F5 said nothing")
            try s.quit()
        }
    }
}
