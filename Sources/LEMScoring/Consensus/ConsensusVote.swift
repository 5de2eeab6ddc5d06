import Foundation
import LEMCore

/// Which of the two answers a judge preferred, in the order they were shown.
public enum PairVerdict: String, Sendable, Hashable, CaseIterable {
    /// The answer shown first (answer A).
    case first
    /// The answer shown second (answer B).
    case second
    /// Neither.
    case tie
}

/// One judge's verdict on one item's two answers shown in one order: the record of a Matrix-8
/// consensus run and a line of a votes file (`{"item", "judge", "first", "second", "winner"}`).
public struct ConsensusVote: Sendable, Hashable {
    /// The benchmark item both answers respond to.
    public var item: String
    /// The judge's name.
    public var judge: String
    /// The model whose answer was shown first.
    public var first: String
    /// The model whose answer was shown second.
    public var second: String
    /// What the judge said.
    public var verdict: PairVerdict

    /// Creates a vote.
    public init(item: String, judge: String, first: String, second: String, verdict: PairVerdict) {
        self.item = item
        self.judge = judge
        self.first = first
        self.second = second
        self.verdict = verdict
    }

    /// The winning model's name, nil for a tie.
    public var winner: String? {
        switch verdict {
        case .first: first
        case .second: second
        case .tie: nil
        }
    }

    /// The `winner` field of a votes line: the model's name or `tie`.
    public static let tieText = "tie"

    /// The vote as one votes-file line (compact JSON, no newline).
    public var jsonLine: String {
        JSONValue.object(
            JSONObject(members: [
                ("item", .string(item)), ("judge", .string(judge)), ("first", .string(first)),
                ("second", .string(second)), ("winner", .string(winner ?? Self.tieText))
            ])
        ).jsonText(sortedKeys: false)
    }
}

extension ConsensusVote {
    /// Reads a votes file: one JSON object per line, blank lines skipped, other keys ignored.
    ///
    /// Errors name the file and line and say what was expected: a missing or non-string field,
    /// the same model twice, a winner that is neither model nor `tie`, a model named `tie`, or the
    /// same (item, judge, first, second) voted twice.
    public static func read(_ url: URL) throws -> [ConsensusVote] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw LocatedError(url.path, "cannot read the votes file: \((error as NSError).localizedDescription)")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: url.path)
    }

    /// Reads votes-file text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws -> [ConsensusVote] {
        var votes: [ConsensusVote] = []
        var lineOf: [ConsensusVote.Key: Int] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            let vote = try parseLine(String(line), file: file, line: number)
            if let earlier = lineOf[vote.key] {
                throw LocatedError(
                    file: file, line: number,
                    "judge \(vote.judge) already voted on item \(vote.item) with \(vote.first) first "
                        + "(line \(earlier)); expected one vote per item, judge and order")
            }
            lineOf[vote.key] = number
            votes.append(vote)
        }
        guard !votes.isEmpty else { throw LocatedError(file, "no votes: expected one JSON object per line") }
        return votes
    }

    /// What identifies a vote: one per item, judge and order.
    struct Key: Hashable {
        var item, judge, first, second: String
    }

    var key: Key { Key(item: item, judge: judge, first: first, second: second) }

    static func parseLine(_ line: String, file: String, line number: Int) throws -> ConsensusVote {
        func fail(_ message: String) -> LocatedError { LocatedError(file: file, line: number, message) }
        let value: JSONValue
        do { value = try JSONValue.parse(line) } catch { throw fail("not JSON (\(error))") }
        guard let object = value.object else {
            throw fail(
                "expected a JSON object {\"item\", \"judge\", \"first\", \"second\", \"winner\"}, got \(value.kind)")
        }
        func field(_ name: String) throws -> String {
            guard let raw = object[name] else { throw fail("missing `\(name)` (a string)") }
            guard let s = raw.string, !s.isEmpty else {
                throw fail("`\(name)` must be a non-empty string, got \(raw.kind)")
            }
            return s
        }
        let (item, judge, first, second, winner) = (
            try field("item"), try field("judge"), try field("first"), try field("second"), try field("winner")
        )
        guard first != second else { throw fail("`first` and `second` are both \(first): expected two models") }
        for name in [first, second] where name == tieText {
            throw fail("a model may not be named `\(tieText)`: it is the winner of a tie")
        }
        let verdict: PairVerdict
        switch winner {
        case first: verdict = .first
        case second: verdict = .second
        case tieText: verdict = .tie
        default: throw fail("`winner` is \(winner): expected \(first), \(second) or \(tieText)")
        }
        return ConsensusVote(item: item, judge: judge, first: first, second: second, verdict: verdict)
    }
}
