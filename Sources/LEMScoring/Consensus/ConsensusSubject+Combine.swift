import LEMCore

/// Grouping pairwise votes into subjects (the type lives in LEMCore so the Bench panel shows it as
/// it is).
extension ConsensusSubject {
    /// Groups votes into subjects, ordered by item then pair (code-point order), combining each
    /// judge's orders.
    public static func combine(_ votes: [ConsensusVote]) -> [ConsensusSubject] {
        struct Key: Hashable { var item, a, b: String }
        var orders: [Key: [String: [Outcome]]] = [:]
        for v in votes {
            let firstIsA = codePointPrecedes(v.first, v.second)
            let key = Key(item: v.item, a: firstIsA ? v.first : v.second, b: firstIsA ? v.second : v.first)
            let outcome: Outcome =
                switch v.verdict {
                case .tie: .tie
                case .first: firstIsA ? .a : .b
                case .second: firstIsA ? .b : .a
                }
            orders[key, default: [:]][v.judge, default: []].append(outcome)
        }
        let keys = orders.keys.sorted { l, r in
            l.item != r.item
                ? codePointPrecedes(l.item, r.item)
                : l.a != r.a ? codePointPrecedes(l.a, r.a) : codePointPrecedes(l.b, r.b)
        }
        return keys.map { key in
            let judges = orders[key]!.sorted { codePointPrecedes($0.key, $1.key) }
            return ConsensusSubject(
                item: key.item, modelA: key.a, modelB: key.b,
                verdicts: judges.map { judge, outcomes in
                    Verdict(judge: judge, outcome: outcomes.allSatisfy { $0 == outcomes[0] } ? outcomes[0] : .tie)
                })
        }
    }
}

/// Code-point (UTF-8 byte) order, as Python sorts strings; Swift's `<` on `String` compares
/// canonical equivalents as equal.
func codePointPrecedes(_ l: String, _ r: String) -> Bool { l.utf8.lexicographicallyPrecedes(r.utf8) }
