import Foundation
import LEMCore
import LEMScoring
import StoreTestSupport
import Testing

@testable import LEMStore

@Suite("BenchExporter")
struct BenchExporterTests {
    @Test("LEM-shape export re-imports to the same report; CSV and Markdown are written")
    func roundTrip() throws {
        let db = try TempDatabase()
        let questions = try db.file(
            "in/gsm8k.jsonl",
            """
            {"id": "G1", "benchmark": "gsm8k", "question": "1+1?", "correct_answer": "2"}
            {"id": "G2", "benchmark": "gsm8k", "question": "2+2?", "correct_answer": "4"}
            """)
        let tq = try db.file(
            "in/truthfulqa.jsonl",
            #"{"id": "T1", "benchmark": "truthfulqa", "question": "Sky colour?", "best_answer": "Blue"}"#)
        let results = try db.file(
            "in/results/gsm8k_m.jsonl",
            """
            {"id": "G1", "benchmark": "gsm8k", "model": "m", "response": "2, \\"quoted\\"", "elapsed_seconds": 2.5}
            {"id": "G2", "benchmark": "gsm8k", "model": "m", "response": "#### 5"}
            """)
        let tr = try db.file(
            "in/results/truthfulqa_m.jsonl",
            #"{"id": "T1", "benchmark": "truthfulqa", "model": "m", "response": "Blue,\nmostly"}"#)
        let scores = try db.file(
            "in/standard_scores.json",
            """
            {"scores": {"truthfulqa": {"m": {"T1": {"truthfulness": 9, "informativeness": 4.5, "reasoning": "ok"}}}}}
            """)
        _ = try LEMImporter(store: db.store).importPaths([questions, tq, results, tr, scores])
        let before = try BenchReport.build(store: db.store).render(.json)

        let out = db.directory.appendingPathComponent("out")
        let files = try BenchExporter(store: db.store).export(
            format: .lem, to: out, scorers: BenchReport.defaultScorers)
        #expect(files.map(\.lastPathComponent) == ["gsm8k_m.jsonl", "truthfulqa_m.jsonl", "standard_scores.json"])
        let exported = try JSONValue.parse(Data(contentsOf: out.appendingPathComponent("standard_scores.json")))
        let g2 = exported.object?["scores"]?.object?["gsm8k"]?.object?["m"]?.object?["G2"]?.object
        #expect(g2 == ["correct": .bool(false), "extracted": .string("5"), "expected": .string("4")])

        let copy = try TempDatabase()
        _ = try LEMImporter(store: copy.store).importPaths([questions, tq, out])
        #expect(try BenchReport.build(store: copy.store).render(.json) == before)
        let line =
            try String(contentsOf: out.appendingPathComponent("results/gsm8k_m.jsonl"), encoding: .utf8)
            .split(separator: "\n").first.map(String.init) ?? ""
        #expect(try JSONValue.parse(Data(line.utf8)).object?["elapsed_seconds"]?.double == 2.5)

        let csv = try BenchExporter(store: db.store).export(format: .csv, to: out, scorers: [])
        let responses = try String(contentsOf: csv[0], encoding: .utf8)
        #expect(responses.hasPrefix("benchmark,model,item,prompt,response,seconds\n"))
        #expect(responses.contains("gsm8k,m,G1,1+1?,\"2, \"\"quoted\"\"\",2.5\n"))
        #expect(responses.contains("\"Blue,\nmostly\""))
        let md = try String(
            contentsOf: BenchExporter(store: db.store).export(format: .markdown, to: out, scorers: [])[0],
            encoding: .utf8)
        #expect(md.contains("### T1") && md.contains("**m** — informativeness 4.50, truthfulness 9"))
    }
}
