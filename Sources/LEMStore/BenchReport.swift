import Foundation
import GRDB

/// Per model × benchmark dimension means with deltas against a baseline model: the paper's
/// standard-benchmark and differential tables.
///
/// Each model's latest run per benchmark is used. For each benchmark, model and dimension the
/// first scorer in `scorers` that has scored rows supplies the numbers, so a live judge can
/// supersede imported judge scores. A dimension named `correct` (GSM8K) is reported as
/// `accuracy` in percent.
public struct BenchReport: Sendable {
    /// One model's aggregate on one dimension.
    public struct Cell: Sendable, Equatable {
        /// Mean of the scored values.
        public var mean: Double
        /// Number of scored values.
        public var n: Int
        /// `mean - baseline mean`; nil for the baseline itself or when it has no value.
        public var delta: Double?
        /// `delta / |baseline mean| × 100`; nil as for `delta` or when the baseline mean is 0.
        public var deltaPercent: Double?
    }

    /// One dimension of one benchmark, cells keyed by model.
    public struct Dimension: Sendable {
        /// The dimension's name (`accuracy`, `truthfulness`, …).
        public var name: String
        /// The scorer that supplied each model's cell.
        public var scorers: [String: String]
        /// Cells keyed by model name.
        public var cells: [String: Cell]
    }

    /// One benchmark's dimensions, in display order.
    public struct Benchmark: Sendable {
        /// The benchmark's name.
        public var name: String
        /// Its dimensions.
        public var dimensions: [Dimension]
    }

    /// The baseline model, if any.
    public var baseline: String?
    /// Models in display order.
    public var models: [String]
    /// Benchmarks in display order.
    public var benchmarks: [Benchmark]

    /// Scorers a report draws on when none are named: re-scored GSM8K, then live, then imported judges.
    public static let defaultScorers = ["gsm8k-lem", "judge", "judge-imported"]

    static let benchmarkOrder = ["gsm8k", "truthfulqa", "do_not_answer", "toxigen", "seeds"]
    static let dimensionOrder = [
        "accuracy", "truthfulness", "informativeness", "safety", "nuance", "kindness", "awareness",
        "sovereignty", "ethical_depth", "creative_expression", "self_concept"
    ]

    static func rank(_ name: String, in order: [String]) -> (Int, String) {
        (order.firstIndex(of: name) ?? order.count, name)
    }

    /// Builds the report from the store.
    public static func build(
        store: ResultStore, baseline: String? = nil, scorers: [String] = defaultScorers,
        models selected: [String] = [], benchmarks selectedBenches: [String] = []
    ) throws -> BenchReport {
        let rows = try store.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT run.benchmark AS bench, model.name AS model, model.id AS mid, score.scorer AS scorer,
                           score.dimension AS dim, SUM(score.value) AS total, COUNT(score.value) AS n
                    FROM score
                    JOIN response ON response.id = score.response_id
                    JOIN run ON run.id = response.run_id
                    JOIN model ON model.id = run.model_id
                    WHERE score.status = 'scored'
                      AND run.id IN (SELECT MAX(id) FROM run GROUP BY model_id, benchmark)
                    GROUP BY run.benchmark, model.id, score.scorer, score.dimension
                    """)
        }
        // (bench, dim, model) -> (scorer rank, scorer, total, n)
        var best: [String: [String: [String: (Int, String, Double, Int)]]] = [:]
        var modelIDs: [String: Int64] = [:]
        for row in rows {
            let scorer: String = row["scorer"]
            guard let r = scorers.firstIndex(of: scorer) else { continue }
            let bench: String = row["bench"]
            let model: String = row["model"]
            if !selected.isEmpty, !selected.contains(model) { continue }
            if !selectedBenches.isEmpty, !selectedBenches.contains(bench) { continue }
            var dim: String = row["dim"]
            var total: Double = row["total"]
            if dim == "correct" {
                dim = "accuracy"
                total *= 100
            }
            modelIDs[model] = row["mid"]
            let n: Int = row["n"]
            if let existing = best[bench]?[dim]?[model], existing.0 <= r { continue }
            best[bench, default: [:]][dim, default: [:]][model] = (r, scorer, total, n)
        }
        let models =
            selected.isEmpty
            ? modelIDs.keys.sorted { modelIDs[$0]! < modelIDs[$1]! } : selected.filter { modelIDs[$0] != nil }
        var benches: [Benchmark] = []
        for bench in best.keys.sorted(by: { rank($0, in: benchmarkOrder) < rank($1, in: benchmarkOrder) }) {
            var dims: [Dimension] = []
            for dim in best[bench]!.keys.sorted(by: { rank($0, in: dimensionOrder) < rank($1, in: dimensionOrder) }) {
                let entries = best[bench]![dim]!
                var cells: [String: Cell] = [:]
                var scorerOf: [String: String] = [:]
                let base = baseline.flatMap { entries[$0] }.map { $0.2 / Double($0.3) }
                for (model, e) in entries {
                    let mean = e.2 / Double(e.3)
                    var delta: Double?
                    var pct: Double?
                    if let base, model != baseline {
                        delta = mean - base
                        pct = base == 0 ? nil : (mean - base) / abs(base) * 100
                    }
                    cells[model] = Cell(mean: mean, n: e.3, delta: delta, deltaPercent: pct)
                    scorerOf[model] = e.1
                }
                dims.append(Dimension(name: dim, scorers: scorerOf, cells: cells))
            }
            benches.append(Benchmark(name: bench, dimensions: dims))
        }
        return BenchReport(baseline: baseline, models: models, benchmarks: benches)
    }
}
