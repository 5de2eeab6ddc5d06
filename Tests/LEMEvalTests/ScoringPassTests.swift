import Foundation
import GRDB
import LEMEval
import LEMScoring
import LEMStore
import StoreTestSupport
import Testing

/// A scoring pass applies each scorer only to the benchmarks it is made for, says what it
/// skipped, and a migration removes the scores an older pass wrote where they do not apply.
@Suite("ScoringPass")
struct ScoringPassTests {
    /// Two GSM8K and two TruthfulQA answers of model `m`.
    static func store() throws -> TempDatabase {
        let db = try TempDatabase()
        _ = try LEMImporter(store: db.store).importPaths([
            try db.file(
                "gsm8k.jsonl",
                """
                {"id": "GSM8K_001", "benchmark": "gsm8k", "question": "2+3?", "correct_answer": "5"}
                {"id": "GSM8K_002", "benchmark": "gsm8k", "question": "10-4?", "correct_answer": "6"}
                """),
            try db.file(
                "truthfulqa.jsonl",
                """
                {"id": "TRUTHQA_001", "benchmark": "truthfulqa", "question": "Is the moon cheese?"}
                {"id": "TRUTHQA_002", "benchmark": "truthfulqa", "question": "Do we use 10% of the brain?"}
                """),
            try db.file(
                "results/gsm8k_m.jsonl",
                """
                {"id": "GSM8K_001", "benchmark": "gsm8k", "model": "m", "prompt": "2+3?", "response": "#### 5"}
                {"id": "GSM8K_002", "benchmark": "gsm8k", "model": "m", "prompt": "10-4?", "response": "#### 7"}
                """),
            try db.file(
                "results/truthfulqa_m.jsonl",
                """
                {"id": "TRUTHQA_001", "benchmark": "truthfulqa", "model": "m", "prompt": "Is the moon cheese?", "response": "No, it is rock."}
                {"id": "TRUTHQA_002", "benchmark": "truthfulqa", "model": "m", "prompt": "Brain?", "response": "No, we use all of it."}
                """)
        ])
        return db
    }

    /// (benchmark, scorer) pairs of every stored score.
    static func scored(_ db: TempDatabase) throws -> Set<String> {
        try db.store.pool.read { db in
            Set(
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT DISTINCT run.benchmark || ' ' || score.scorer FROM score
                        JOIN response ON response.id = score.response_id JOIN run ON run.id = response.run_id
                        """))
        }
    }

    @Test("the Bench panel's default pass writes GSM8K scores for GSM8K answers only and says what it skipped")
    func gsm8kScoresOnlyGSM8K() throws {
        let db = try Self.store()
        let scorers = try ScoringPass.scorers(named: ["gsm8k", "lek-heuristic", "patterns"])
        #expect(scorers.filter { $0.benchmarks == ["gsm8k"] }.count == 3)
        #expect(scorers.filter { $0.benchmarks == nil }.map(\.name) == ["lek-heuristic", "patterns"])
        let summary = try ScoringPass.run(scorers, store: db.store)
        #expect(summary.responses == 4)
        #expect(summary.skipped["gsm8k-lem"] == ["truthfulqa": 2])
        #expect(
            summary.notes == [
                "gsm8k-lem, gsm8k-lmeval-flexible, gsm8k-lmeval-strict score only the benchmarks they are made for: "
                    + "skipped 2 answers of truthfulqa"
            ])
        let pairs = try Self.scored(db)
        #expect(!pairs.contains { $0.hasPrefix("truthfulqa gsm8k") }, "\(pairs)")
        #expect(
            pairs.isSuperset(of: [
                "gsm8k gsm8k-lem", "truthfulqa lek-heuristic", "gsm8k lek-heuristic", "truthfulqa patterns"
            ]))
        // The report has no accuracy column for TruthfulQA.
        let report = try BenchReport.build(store: db.store)
        #expect(report.benchmarks.map(\.name) == ["gsm8k"])
        #expect(throws: ScoringPassError.self) { try ScoringPass.scorers(named: ["gsm8k", "bleu"]) }
    }

    @Test("opening a store migrates away GSM8K scores an older pass wrote on other benchmarks")
    func migrationRemovesMisappliedScores() throws {
        let db = try Self.store()
        // What the old pass did: every scorer on every answer.
        let all = try db.store.responses()
        for t in all {
            _ = try db.store.score(
                t.responseID, with: GSM8KScorer.Rule.allCases.map { GSM8KScorer(rule: $0) },
                input: ScoringInput(prompt: t.prompt, response: t.response, reference: t.reference))
        }
        #expect(try Self.scored(db).contains("truthfulqa gsm8k-lem"))
        let report = try BenchReport.build(store: db.store)
        #expect(report.benchmarks.map(\.name) == ["gsm8k", "truthfulqa"])
        // Reopen as a store from before the migration.
        try db.store.pool.write {
            try $0.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v3-gsm8k-scores-on-gsm8k-only'")
        }
        let reopened = try ResultStore(url: db.store.url)
        let pairs = try reopened.pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT run.benchmark || ' ' || score.scorer FROM score
                    JOIN response ON response.id = score.response_id JOIN run ON run.id = response.run_id ORDER BY 1
                    """)
        }
        #expect(pairs == ["gsm8k gsm8k-lem", "gsm8k gsm8k-lmeval-flexible", "gsm8k gsm8k-lmeval-strict"])
    }
}
