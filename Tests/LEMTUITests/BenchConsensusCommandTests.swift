import Foundation
import LEMCore
import TestSupport
import Testing

/// `lem bench consensus --votes`: the committed votes file's statistics as JSON and text, and a
/// bad line's message.
@Suite(.enabled(if: LemCommand.binary != nil, "lem is not built: run swift build"))
struct BenchConsensusCommandTests {
    @Test("--format json prints exactly the documented keys with the reference's numbers")
    func json() throws {
        let votes = TestPaths.fixture("consensus/votes.jsonl").path
        let r = try LemCommand.run(["bench", "consensus", "--votes", votes, "--format", "json"])
        #expect(r.status == 0, "\(r.err)")
        let out = try JSONValue.parse(r.out)
        let expected = try JSONValue.parse(Data(contentsOf: TestPaths.fixture("consensus/expected.json")))
        #expect(out.object?.keys == ["models", "items", "pairs", "unanimous_share", "fleiss_kappa"])
        #expect(out["items"] == expected["items"] && out["pairs"] == expected["pairs"])
        #expect(out["models"]?.object?.keys == ["gemma3-270m-lek", "gemma3-270m", "smollm2-135m"])
        for (name, model) in out["models"]?.object ?? [:] {
            #expect(model.object?.keys == ["theta", "ci", "wins", "losses", "ties"])
            let theta = model["theta"]?.double ?? .nan
            #expect(abs(theta - (expected["models"]?[name]?["theta"]?.double ?? .nan)) < 1e-6, "\(name)")
        }
    }

    @Test("text: a ranking with intervals, unanimity and κ; a bad line names file and line")
    func text() throws {
        let r = try LemCommand.run(["bench", "consensus", "--votes", TestPaths.fixture("consensus/votes.jsonl").path])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.first == "Consensus: 3 models, 30 items, 90 (item, pair) comparisons, 8 judges")
        #expect(lines.contains { $0.hasPrefix("  1  gemma3-270m-lek") })
        #expect(lines.contains { $0.hasPrefix("unanimous: 11 of 90 (12.2 %) · Fleiss' κ 0.37") })

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lem-consensus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.jsonl")
        try Data(#"{"item":"q","judge":"j","first":"a","second":"b","winner":"c"}"#.utf8).write(to: bad)
        let failed = try LemCommand.run(["bench", "consensus", "--votes", bad.path])
        #expect(failed.status != 0)
        #expect(failed.err.contains("\(bad.path):1: `winner` is c: expected a, b or tie"), "\(failed.err)")
    }
}
