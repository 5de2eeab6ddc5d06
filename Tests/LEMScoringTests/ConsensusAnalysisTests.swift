import Foundation
import LEMCore
import TestSupport
import Testing

@testable import LEMScoring

@Suite("ConsensusAnalysis")
struct ConsensusAnalysisTests {
    /// Compares the analysis of a committed votes file with the JSON `Scripts/consensus_reference.py`
    /// wrote for it (scipy fit, statsmodels κ, the same SplitMix64 resamples).
    func checkAgainstReference(votes: String, expected: String) throws -> ConsensusAnalysis {
        let analysis = ConsensusAnalysis(votes: try ConsensusVote.read(TestPaths.fixture("consensus/" + votes)))
        let data = try Data(contentsOf: TestPaths.fixture("consensus/" + expected))
        let reference = try JSONValue.parse(data)
        #expect(analysis.items == reference["items"]?.int)
        #expect(analysis.pairs == reference["pairs"]?.int)
        let share = try #require(reference["unanimous_share"]?.double)
        #expect(abs(analysis.unanimousShare - share) <= 1e-12)
        if let kappa = reference["fleiss_kappa"]?.double {
            #expect(
                abs((analysis.fleissKappa ?? .nan) - kappa) <= 1e-12, "κ \(String(describing: analysis.fleissKappa))")
        } else {
            #expect(analysis.fleissKappa == nil)
        }
        let models = try #require(reference["models"]?.object)
        #expect(Set(analysis.models.map(\.name)) == Set(models.keys))
        for m in analysis.models {
            let r = try #require(models[m.name])
            let theta = try #require(r["theta"]?.double)
            let ci = r["ci"]?.array?.compactMap { $0.double } ?? []
            try #require(ci.count == 2)
            #expect(abs(m.theta - theta) <= 1e-6, "\(m.name) θ \(m.theta) vs \(theta)")
            // Same generator and indices, so the same resamples: only the fits' last digits differ.
            #expect(
                abs(m.low - ci[0]) <= 1e-6 && abs(m.high - ci[1]) <= 1e-6, "\(m.name) CI \(m.low)…\(m.high) vs \(ci)")
            #expect(m.wins == r["wins"]?.int && m.losses == r["losses"]?.int && m.ties == r["ties"]?.int)
        }
        return analysis
    }

    @Test("a simulated 8-judge run matches the numpy/scipy/statsmodels reference")
    func reference() throws {
        let analysis = try checkAgainstReference(votes: "votes.jsonl", expected: "expected.json")
        #expect(!analysis.regularised && analysis.judges == 8)
        #expect(analysis.models.map(\.name) == ["gemma3-270m-lek", "gemma3-270m", "smollm2-135m"])
    }

    @Test("a model that wins everything: regularised fit, as the reference regularises it")
    func dominant() throws {
        let analysis = try checkAgainstReference(votes: "votes-dominant.jsonl", expected: "expected-dominant.json")
        #expect(analysis.regularised && analysis.models[0].name == "gemma3-270m-lek")
        #expect(analysis.notes.first?.contains("no finite Bradley–Terry maximum") == true)
    }

    @Test("orders combine by the MT-Bench rule; one order alone keeps its verdict")
    func combining() {
        let votes = [
            ConsensusVote(item: "q1", judge: "j1", first: "b", second: "a", verdict: .second),  // a
            ConsensusVote(item: "q1", judge: "j1", first: "a", second: "b", verdict: .first),  // a
            ConsensusVote(item: "q1", judge: "j2", first: "a", second: "b", verdict: .first),  // a
            ConsensusVote(item: "q1", judge: "j2", first: "b", second: "a", verdict: .first),  // b → tie
            ConsensusVote(item: "q1", judge: "j3", first: "b", second: "a", verdict: .first)  // b, one order
        ]
        let subjects = ConsensusSubject.combine(votes)
        #expect(subjects.count == 1)
        #expect(subjects[0].modelA == "a" && subjects[0].modelB == "b")
        #expect(subjects[0].verdicts.map(\.outcome) == [.a, .tie, .b])
        #expect(!subjects[0].isUnanimous)
        let analysis = ConsensusAnalysis(votes: votes, resamples: 10)
        #expect(analysis.models.first { $0.name == "a" }.map { [$0.wins, $0.losses, $0.ties] } == [1, 1, 1])
    }

    @Test("Bradley–Terry: closed form for two models, mean zero, no finite maximum regularised")
    func bradleyTerry() {
        // a beat b 3 times, b beat a once: θa − θb = log 3.
        let two = BradleyTerry.fit(wins: [[0, 3], [1, 0]])
        #expect(abs(two.theta[0] - log(3) / 2) < 1e-12 && abs(two.theta[1] + log(3) / 2) < 1e-12)
        #expect(!two.regularised)
        // A tie counts half: 2 wins and 2 ties for a is 3 : 1 again.
        let votes = [PairVerdict.first, .first, .tie, .tie].enumerated().map {
            ConsensusVote(item: "q", judge: "j\($0)", first: "a", second: "b", verdict: $1)
        }
        let ties = ConsensusAnalysis(votes: votes, resamples: 3)
        #expect(abs(ties.models[0].theta - log(3) / 2) < 1e-12 && ties.models[0].name == "a")
        let shutout = BradleyTerry.fit(wins: [[0, 5, 5], [0, 0, 2], [0, 1, 0]])
        #expect(shutout.regularised && shutout.theta.allSatisfy(\.isFinite))
        #expect(abs(shutout.theta.reduce(0, +)) < 1e-12 && shutout.theta[0] > shutout.theta[1] + 3)
        #expect(BradleyTerry.hasFiniteMaximum([[0, 1], [1, 0]]) && !BradleyTerry.hasFiniteMaximum([[0, 1], [0, 0]]))
    }

    @Test("κ: perfect agreement spread over categories is 1; all in one category is undefined")
    func kappa() {
        func votes(_ winners: [String: [String]]) -> [ConsensusVote] {
            winners.flatMap { item, judges in
                judges.enumerated().map { j, w in
                    ConsensusVote(
                        item: item, judge: "j\(j)", first: "a", second: "b",
                        verdict: w == "a" ? .first : w == "b" ? .second : .tie)
                }
            }
        }
        let perfect = ConsensusAnalysis(votes: votes(["q1": ["a", "a"], "q2": ["b", "b"]]), resamples: 5)
        #expect(perfect.fleissKappa == 1 && perfect.unanimousShare == 1)
        let oneCategory = ConsensusAnalysis(votes: votes(["q1": ["a", "a"], "q2": ["a", "a"]]), resamples: 5)
        #expect(oneCategory.fleissKappa == nil && oneCategory.regularised)
        #expect(oneCategory.json["fleiss_kappa"] == .null)
        // Textbook case: 2 subjects × 3 raters, [3,0,0] and [1,1,1]: P̄ = (1 + 0) / 2, p = (4,1,1)/6.
        let mixed = ConsensusAnalysis(votes: votes(["q1": ["a", "a", "a"], "q2": ["a", "b", "tie"]]), resamples: 5)
        let pe = (16.0 + 1 + 1) / 36
        #expect(abs((mixed.fleissKappa ?? .nan) - (0.5 - pe) / (1 - pe)) < 1e-15)
        #expect(mixed.unanimousShare == 0.5)
    }

    @Test("SplitMix64 seed 0 gives the published first values")
    func generator() {
        var rng = SplitMix64(seed: 0)
        #expect(rng.next() == 0xE220_A839_7B1D_CDAF && rng.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    @Test("bad votes lines name the file, the line and what was expected")
    func badLines() {
        func message(_ text: String) -> String { errorMessage { try ConsensusVote.parse(text, file: "v.jsonl") } }
        let ok = #"{"item":"q","judge":"j","first":"a","second":"b","winner":"a"}"#
        #expect(message(ok + "\n{").hasPrefix("v.jsonl:2: not JSON"))
        let object = #"{"item", "judge", "first", "second", "winner"}"#
        #expect(message("\n[1]") == "v.jsonl:2: expected a JSON object \(object), got an array")
        #expect(
            message(#"{"item":"q","judge":"j","first":"a","second":"b"}"#) == "v.jsonl:1: missing `winner` (a string)")
        #expect(
            message(#"{"item":"q","judge":7,"first":"a","second":"b","winner":"a"}"#).contains(
                "`judge` must be a non-empty string, got an integer"))
        #expect(
            message(#"{"item":"q","judge":"j","first":"a","second":"b","winner":"c"}"#)
                == "v.jsonl:1: `winner` is c: expected a, b or tie")
        #expect(
            message(#"{"item":"q","judge":"j","first":"a","second":"a","winner":"a"}"#).hasPrefix(
                "v.jsonl:1: `first` and `second` are both a"))
        #expect(
            message(#"{"item":"q","judge":"j","first":"tie","second":"a","winner":"a"}"#).contains(
                "may not be named `tie`"))
        #expect(message(ok + "\n\n" + ok).hasPrefix("v.jsonl:3: judge j already voted on item q with a first (line 1)"))
        #expect(message("\n  \n") == "v.jsonl: no votes: expected one JSON object per line")
        let vote = try? ConsensusVote.parse(ok, file: "v")
        #expect(vote?.first?.jsonLine == ok && vote?.first?.winner == "a")
    }
}
