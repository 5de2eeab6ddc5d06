/// Holds back generated text that might be the start of a stop string, and finds stop strings
/// that span several tokens.
struct StopStringMatcher {
    let stopStrings: [String]
    private var pending = ""

    init(stopStrings: [String]) {
        self.stopStrings = stopStrings.filter { !$0.isEmpty }
    }

    /// Adds new text; returns the text safe to emit and the stop string found, if any.
    mutating func push(_ text: String) -> (emit: String, stop: String?) {
        pending += text
        guard !stopStrings.isEmpty else {
            defer { pending = "" }
            return (pending, nil)
        }
        var earliest: (range: Range<String.Index>, stop: String)?
        for stop in stopStrings {
            if let r = pending.range(of: stop), earliest == nil || r.lowerBound < earliest!.range.lowerBound {
                earliest = (r, stop)
            }
        }
        if let earliest {
            let emit = String(pending[..<earliest.range.lowerBound])
            pending = ""
            return (emit, earliest.stop)
        }
        // Keep the longest suffix that is a proper prefix of some stop string.
        var keep = 0
        for stop in stopStrings {
            for length in stride(from: min(stop.count - 1, pending.count), to: keep, by: -1)
            where pending.hasSuffix(stop.prefix(length)) {
                keep = length
                break
            }
        }
        let cut = pending.index(pending.endIndex, offsetBy: -keep)
        let emit = String(pending[..<cut])
        pending = String(pending[cut...])
        return (emit, nil)
    }

    /// Releases whatever is held back at the end of the run.
    mutating func finish() -> String {
        defer { pending = "" }
        return pending
    }
}
