/// The word lists behind `EnglishTagger`: closed word classes, common verbs with their irregular
/// forms, common adjectives, and the domain vocabularies of the grammar differential.
///
/// Written for this project; small by design — open-class words outside the lists are tagged by
/// suffix and context.
enum EnglishLexicon {
    static let determiners: Set<String> = [
        "a", "an", "the", "this", "that", "these", "those", "each", "every", "some", "any", "no", "all", "both",
        "either", "neither", "another", "such", "much", "many", "few", "several", "more", "most", "less", "least"
    ]
    static let possessives: Set<String> = ["my", "your", "his", "her", "its", "our", "their", "whose"]
    static let pronouns: Set<String> = [
        "i", "you", "he", "she", "it", "we", "they", "me", "him", "us", "them", "myself", "yourself", "himself",
        "herself", "itself", "ourselves", "themselves", "mine", "yours", "hers", "ours", "theirs", "someone",
        "anyone", "everyone", "nobody", "something", "anything", "everything", "nothing", "one"
    ]
    static let subjectPronouns: Set<String> = ["i", "you", "he", "she", "it", "we", "they"]
    static let prepositions: Set<String> = [
        "of", "in", "on", "at", "by", "for", "with", "about", "against", "between", "into", "through", "during",
        "before", "after", "above", "below", "to", "from", "up", "down", "over", "under", "within", "without",
        "across", "toward", "towards", "upon", "among", "around", "behind", "beyond", "like", "than", "via", "per"
    ]
    static let conjunctions: Set<String> = [
        "and", "or", "but", "nor", "so", "yet", "because", "although", "though", "while", "whereas", "if",
        "unless", "since", "whether", "until", "once"
    ]
    static let whWords: Set<String> = ["what", "who", "whom", "which", "when", "where", "why", "how"]
    static let modals: Set<String> = [
        "can", "could", "may", "might", "must", "shall", "should", "will", "would", "ought"
    ]
    static let futureModals: Set<String> = ["will", "shall", "'ll"]

    /// Forms of be/have/do with their tense (nil = non-finite).
    static let auxiliaries: [String: Tense?] = [
        "am": .present, "is": .present, "are": .present, "'m": .present, "'re": .present, "'s": .present,
        "was": .past, "were": .past, "be": nil, "been": nil, "being": nil,
        "has": .present, "have": .present, "'ve": .present, "had": .past, "'d": .past, "having": nil,
        "do": .present, "does": .present, "did": .past
    ]
    static let auxiliaryLemma: [String: String] = [
        "am": "be", "is": "be", "are": "be", "'m": "be", "'re": "be", "'s": "be", "was": "be", "were": "be",
        "be": "be", "been": "be", "being": "be", "has": "have", "have": "have", "'ve": "have", "had": "have",
        "'d": "have", "having": "have", "do": "do", "does": "do", "did": "do"
    ]
    static let adverbs: Set<String> = [
        "not", "n't", "never", "always", "often", "sometimes", "very", "too", "also", "just", "only", "even",
        "still", "already", "again", "here", "there", "now", "then", "soon", "perhaps", "maybe", "quite", "rather",
        "almost", "really", "well", "ever", "instead", "however", "therefore", "thus", "yes", "no"
    ]

    /// Irregular verbs: base → (past, past participle).
    static let irregular: [String: (String, String)] = [
        "become": ("became", "become"), "begin": ("began", "begun"), "break": ("broke", "broken"),
        "bring": ("brought", "brought"), "build": ("built", "built"), "buy": ("bought", "bought"),
        "choose": ("chose", "chosen"), "come": ("came", "come"), "cut": ("cut", "cut"), "draw": ("drew", "drawn"),
        "drive": ("drove", "driven"), "eat": ("ate", "eaten"), "fall": ("fell", "fallen"), "feel": ("felt", "felt"),
        "find": ("found", "found"), "forget": ("forgot", "forgotten"), "get": ("got", "gotten"),
        "give": ("gave", "given"), "go": ("went", "gone"), "grow": ("grew", "grown"), "hear": ("heard", "heard"),
        "hide": ("hid", "hidden"), "hold": ("held", "held"), "keep": ("kept", "kept"), "know": ("knew", "known"),
        "lead": ("led", "led"), "learn": ("learnt", "learnt"), "leave": ("left", "left"), "lend": ("lent", "lent"),
        "let": ("let", "let"), "lose": ("lost", "lost"), "make": ("made", "made"), "mean": ("meant", "meant"),
        "meet": ("met", "met"), "pay": ("paid", "paid"), "put": ("put", "put"), "read": ("read", "read"),
        "run": ("ran", "run"), "say": ("said", "said"), "see": ("saw", "seen"), "seek": ("sought", "sought"),
        "sell": ("sold", "sold"), "send": ("sent", "sent"), "set": ("set", "set"), "show": ("showed", "shown"),
        "sit": ("sat", "sat"), "speak": ("spoke", "spoken"), "spend": ("spent", "spent"),
        "stand": ("stood", "stood"), "steal": ("stole", "stolen"), "take": ("took", "taken"),
        "teach": ("taught", "taught"), "tell": ("told", "told"), "think": ("thought", "thought"),
        "understand": ("understood", "understood"), "win": ("won", "won"), "write": ("wrote", "written"),
        "hurt": ("hurt", "hurt"), "shut": ("shut", "shut"), "fight": ("fought", "fought"),
        "forgive": ("forgave", "forgiven")
    ]
    /// Inflected irregular form → base.
    static let irregularForms: [String: String] = {
        var m: [String: String] = [:]
        for (base, (past, participle)) in irregular {
            m[past] = base
            m[participle] = m[participle] ?? base
        }
        return m
    }()

    /// Common regular verbs (base forms), used to recognise `-s` and bare forms as verbs.
    static let verbs: Set<String> = Set(irregular.keys).union([
        "accept", "access", "act", "add", "agree", "allow", "answer", "appear", "apply", "argue", "ask", "assume",
        "avoid", "believe", "belong", "call", "care", "cause", "change", "check", "claim", "collect", "consider",
        "contain", "continue", "control", "create", "decide", "define", "delete", "deny", "depend", "describe",
        "design", "destroy", "develop", "die", "disagree", "discover", "discuss", "encrypt", "enable", "encourage",
        "ensure", "exist", "expect", "explain", "express", "face", "fail", "follow", "force", "happen", "hate",
        "help", "hope", "identify", "ignore", "imagine", "improve", "include", "increase", "inform", "intend",
        "involve", "join", "judge", "kill", "laugh", "like", "listen", "live", "look", "love", "manage", "matter",
        "mention", "mind", "miss", "move", "need", "notice", "obey", "offer", "open", "own", "prefer", "prepare",
        "prevent", "protect", "prove", "provide", "publish", "question", "reach", "realise", "realize", "receive",
        "refuse", "remain", "remember", "remove", "report", "represent", "require", "respect", "respond", "return",
        "reveal", "save", "seem", "serve", "share", "sign", "start", "stay", "stop", "store", "suggest", "support",
        "suppose", "talk", "trust", "try", "turn", "use", "value", "verify", "wait", "walk", "want", "watch",
        "wish", "wonder", "work", "worry", "censor", "track", "monitor", "vote", "treat", "heal", "decide"
    ])

    static let adjectives: Set<String> = [
        "good", "bad", "new", "old", "great", "small", "large", "big", "little", "long", "short", "high", "low",
        "right", "wrong", "true", "false", "free", "safe", "able", "own", "other", "same", "different", "important",
        "possible", "real", "whole", "clear", "certain", "sure", "full", "hard", "easy", "strong", "weak",
        "public", "private", "human", "social", "personal", "local", "global", "open", "secret", "fair", "kind",
        "honest", "wise", "deep", "dark", "light", "quiet", "alive", "aware", "ethical", "moral", "digital",
        "slow", "fast", "hot", "cold", "rich", "poor", "young", "happy", "sad", "simple", "late", "early", "best",
        "worst", "better", "worse", "common", "legal", "illegal", "afraid", "ready", "likely"
    ]

    static let nounSuffixes = [
        "tion", "sion", "ment", "ness", "ity", "ism", "ist", "ance", "ence", "ship", "hood", "age", "ery"
    ]
    static let adjectiveSuffixes = ["ous", "ful", "ive", "able", "ible", "ical", "less", "ish", "ary", "ic", "al"]

    /// Domain vocabularies (the ten probe domains), matched against lemmas.
    static let domains: [String: Set<String>] = [
        "identity": [
            "identity", "name", "self", "passport", "credential", "biometric", "face", "fingerprint",
            "pseudonym", "anonymous", "anonymity", "profile", "citizen", "id"
        ],
        "network": [
            "network", "internet", "mesh", "node", "peer", "router", "protocol", "packet", "connection",
            "bandwidth", "wifi", "radio", "signal", "dns", "server"
        ],
        "storage": [
            "storage", "data", "file", "backup", "archive", "disk", "database", "record", "delete",
            "memory", "cloud", "drive", "retention", "log"
        ],
        "compute": [
            "compute", "computer", "cpu", "gpu", "processor", "algorithm", "model", "code", "software",
            "program", "machine", "hardware", "cluster", "chip"
        ],
        "payment": [
            "payment", "money", "pay", "bank", "wallet", "currency", "price", "fee", "debt", "loan",
            "transaction", "coin", "cash", "wage", "salary"
        ],
        "consciousness": [
            "consciousness", "conscious", "mind", "aware", "awareness", "experience", "sentience",
            "sentient", "feeling", "thought", "soul", "self-awareness", "qualia", "dream"
        ],
        "education": [
            "education", "school", "student", "teacher", "learn", "learning", "teach", "lesson",
            "university", "exam", "curriculum", "class", "knowledge", "study"
        ],
        "censorship": [
            "censorship", "censor", "ban", "block", "speech", "press", "journalist", "publish",
            "surveillance", "suppress", "filter", "propaganda", "dissent", "protest"
        ],
        "health": [
            "health", "doctor", "patient", "medicine", "medical", "hospital", "disease", "treatment",
            "nurse", "diagnosis", "symptom", "drug", "therapy", "care"
        ],
        "labour": [
            "labour", "labor", "work", "worker", "job", "employer", "employee", "union", "wage", "shift",
            "contract", "boss", "strike", "gig"
        ]
    ]
    static let domainNames = domains.keys.sorted()
}
