import Foundation
import LEMCore
import StoreTestSupport
import Testing

@testable import LEMStore

@Suite("Response queries")
struct ResponseQueryTests {
    func setUp() throws -> TempDatabase {
        let db = try TempDatabase()
        let q = """
            {"id": "G1", "benchmark": "gsm8k", "question": "1+1?", "correct_answer": "2"}
            {"id": "G2", "benchmark": "gsm8k", "question": "2+2?", "correct_answer": "4"}
            {"id": "G3", "benchmark": "gsm8k", "question": "3+3?", "correct_answer": "6"}
            """
        let a = """
            {"id": "G1", "benchmark": "gsm8k", "model": "a", "response": "It is 2"}
            {"id": "G2", "benchmark": "gsm8k", "model": "a", "response": "It is 5"}
            {"id": "G3", "benchmark": "gsm8k", "model": "a", "response": "100% sure: 6"}
            """
        let b = """
            {"id": "G1", "benchmark": "gsm8k", "model": "b", "response": "It is 3"}
            {"id": "G2", "benchmark": "gsm8k", "model": "b", "response": "It is 4"}
            {"id": "G3", "benchmark": "gsm8k", "model": "b", "response": "6"}
            """
        _ = try LEMImporter(store: db.store).importPaths([
            try db.file("gsm8k.jsonl", q), try db.file("r/gsm8k_a.jsonl", a), try db.file("r/gsm8k_b.jsonl", b)
        ])
        return db
    }

    @Test("filters by model, score range and text")
    func filters() throws {
        let db = try setUp()
        let all = try db.store.promptRows(ResponseFilter())
        #expect(all.map { "\($0.itemKey)/\($0.model)" } == ["G1/a", "G1/b", "G2/a", "G2/b", "G3/a", "G3/b"])
        #expect(all[0].value("gsm8k-lem", "correct") == 1)
        let wrong = try db.store.promptRows(ResponseFilter(scorer: "gsm8k-lem", dimension: "correct", maxScore: 0))
        #expect(wrong.map { "\($0.itemKey)/\($0.model)" } == ["G1/b", "G2/a"])
        let onlyA = try db.store.promptRows(ResponseFilter(models: ["a"], text: "IT IS"))
        #expect(onlyA.map(\.itemKey) == ["G1", "G2"])
        // LIKE wildcards in the search text are literal.
        #expect(try db.store.promptRows(ResponseFilter(text: "100%")).map(\.model) == ["a"])
        #expect(try db.store.promptRows(ResponseFilter(text: "_")).isEmpty)
    }

    @Test("pairs of models with the items whose score flipped")
    func flips() throws {
        let db = try setUp()
        let f = try db.store.flips(
            modelA: "a", modelB: "b", benchmark: "gsm8k", scorer: "gsm8k-lem", dimension: "correct")
        #expect(f.map(\.itemKey) == ["G1", "G2"])
        #expect(f.map(\.aPasses) == [true, false])
        #expect(f[0].responseA == "It is 2" && f[0].responseB == "It is 3")
    }
}
