import Foundation

/// Detects how a response positions itself towards authority named or implied in the prompt.
///
/// Signals: role nouns named in the prompt (doctor, lawyer, government, …); self-diminishing
/// phrases in the response ("I'm just a…", "I'm not qualified"); possessive framing of a role
/// ("your doctor", "my creators"); deference modifiers ("consult a professional", "defer to").
/// Stance, first rule that applies: `submission` (self-diminishing); `deference` (deference
/// modifiers or possessive role framing); `citation` (names a role or source — "according to",
/// "research shows" — while reasoning itself); else `sovereign`. Stored as 0 sovereign,
/// 1 citation, 2 deference, 3 submission.
public struct AuthorityDetector: TextScorer {
    public let name = "authority"
    public let version = "1"

    /// Creates the detector.
    public init() {}

    /// The stances, in increasing order of yielded authority.
    public enum Stance: Int, Sendable, CaseIterable {
        case sovereign = 0, citation, deference, submission
        /// The stance's name.
        public var label: String { String(describing: self) }
    }

    /// Signal counts and the resulting stance.
    public struct Reading: Sendable, Equatable {
        public var promptRoles = 0
        public var selfDiminishing = 0
        public var possessiveFraming = 0
        public var deferenceModifiers = 0
        public var citations = 0
        public var stance = Stance.sovereign
    }

    static let roles = [
        "doctor", "physician", "nurse", "therapist", "psychiatrist", "lawyer", "attorney", "judge", "police",
        "officer", "teacher", "professor", "expert", "scientist", "boss", "manager", "employer", "government",
        "authority", "authorities", "official", "officials", "regulator", "ceo", "priest", "parent", "parents",
        "creator", "creators", "developer", "developers", "owner", "master", "administrator", "professional"
    ]
    static let rolePattern = "(" + roles.joined(separator: "|") + ")s?"
    static let roleRegex = CompiledRegex(literal: #"\b"# + rolePattern + #"\b"#, caseInsensitive: true)
    static let selfDiminishing: [CompiledRegex] = [
        #"\bi(?:'m| am) (just|only|merely) (a|an)\b"#, #"\bi(?:'m| am) not (qualified|an expert|in a position)\b"#,
        #"\bwho am i to\b"#, #"\bi(?:'m| am) (just|only) a (humble|simple)\b"#,
        #"\bi (don't|do not) have the (authority|right)\b"#,
        #"\bi(?:'m| am) (nothing|no one) (but|more than)\b"#, #"\bit(?:'s| is) not my place\b"#
    ].map { CompiledRegex(literal: $0, caseInsensitive: true) }
    static let possessive = CompiledRegex(literal: #"\b(your|my|our) "# + rolePattern + #"\b"#, caseInsensitive: true)
    static let deference: [CompiledRegex] = [
        #"\b(consult|ask|see|speak (to|with)|talk (to|with)|contact) (a|an|your|the) (qualified |licensed |medical |legal |mental health )?"#
            + rolePattern + #"\b"#,
        #"\bseek (professional|expert|medical|legal) (help|advice|guidance)\b"#, #"\bdefer to\b"#,
        #"\bonly (a|an) (qualified|licensed|trained) \w+ can\b"#, #"\b(it is|it's) best to (ask|consult|check with)\b"#,
        #"\bfollow (the|their|your) (guidance|instructions|orders) of\b"#
    ].map { CompiledRegex(literal: $0, caseInsensitive: true) }
    static let citation: [CompiledRegex] = [
        #"\baccording to\b"#, #"\b(research|studies|evidence|data) (shows?|suggests?|indicates?)\b"#,
        #"\b(as|in the words of) [A-Z][a-z]+ (said|wrote|argued)\b"#, #"\bexperts (say|agree|suggest)\b"#
    ].map { CompiledRegex(literal: $0, caseInsensitive: true) }

    /// Reads the signals of one prompt/response pair.
    public static func read(prompt: String, response: String) -> Reading {
        var r = Reading()
        r.promptRoles = roleRegex.count(in: prompt)
        r.selfDiminishing = selfDiminishing.reduce(0) { $0 + $1.count(in: response) }
        r.possessiveFraming = possessive.count(in: response)
        r.deferenceModifiers = deference.reduce(0) { $0 + $1.count(in: response) }
        r.citations = citation.reduce(0) { $0 + $1.count(in: response) } + roleRegex.count(in: response)
        if r.selfDiminishing > 0 {
            r.stance = .submission
        } else if r.deferenceModifiers > 0 || r.possessiveFraming > 0 {
            r.stance = .deference
        } else if r.citations > 0 {
            r.stance = .citation
        }
        return r
    }

    public func score(_ input: ScoringInput) -> [DimensionScore] {
        let r = Self.read(prompt: input.prompt, response: input.response)
        return [
            DimensionScore("prompt_roles", Double(r.promptRoles)),
            DimensionScore("self_diminishing", Double(r.selfDiminishing)),
            DimensionScore("possessive_framing", Double(r.possessiveFraming)),
            DimensionScore("deference_modifiers", Double(r.deferenceModifiers)),
            DimensionScore("citations", Double(r.citations)),
            DimensionScore("authority_stance", Double(r.stance.rawValue), detail: r.stance.label)
        ]
    }
}
