import Foundation

/// How far a chat template may go: nesting, work, time and the size of what it builds.
///
/// Templates come with downloaded model files, so the interpreter treats them as hostile: every
/// limit ends rendering with a `TemplateError` naming the line instead of a crash, a hang or an
/// allocation the machine cannot make. The defaults sit far above what real chat templates use
/// (nesting under 20, a few thousand steps per message, prompts under a megabyte) and close to
/// Python Jinja's own recursion limits for nesting.
public struct JinjaLimits: Sendable, Equatable {
    /// Nesting of expressions (parentheses, operator chains, filters) and of blocks in the source.
    public var maxNesting = 100
    /// Depth of the interpreter's own recursion (blocks, expressions and macro calls together).
    public var maxDepth = 400
    /// Macro calls active at once (recursion through macros).
    public var maxCallDepth = 64
    /// Evaluation steps: expressions evaluated, loop iterations (16 each: a loop builds its `loop`
    /// object) and items built by built-ins. Real templates take ~50 per message.
    public var maxSteps = 5_000_000
    /// Size in UTF-8 bytes of any string built, and of the rendered output.
    public var maxBytes = 16 << 20
    /// Items of any list built (a lazy `range` does not count until it is made a list).
    public var maxItems = 1 << 20
    /// Nesting of lists and dicts inside a value.
    public var maxValueDepth = 64
    /// Wall-clock time for one rendering (a backstop: the step limit normally ends first).
    public var maxSeconds = 5.0

    /// The limits every chat template runs under.
    public static let standard = JinjaLimits()

    /// Creates the standard limits.
    public init() {}
}

/// The running tally of one rendering against its `JinjaLimits`.
struct JinjaBudget {
    let limits: JinjaLimits
    private var steps = 0
    private let deadline: UInt64

    init(limits: JinjaLimits) {
        self.limits = limits
        deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, limits.maxSeconds) * 1e9)
    }

    /// Steps still allowed.
    var remaining: Int { limits.maxSteps - steps }

    /// Counts `n` steps; the clock is read every 4096 steps.
    mutating func spend(_ n: Int = 1) throws(JinjaLimitExceeded) {
        let before = steps
        steps += max(0, n)
        if steps > limits.maxSteps {
            throw JinjaLimitExceeded("exceeded \(limits.maxSteps) evaluation steps")
        }
        if before >> 12 != steps >> 12, DispatchTime.now().uptimeNanoseconds > deadline {
            throw JinjaLimitExceeded("took longer than \(limits.maxSeconds) s")
        }
    }
}

/// A limit was reached; the interpreter turns it into a `TemplateError` with the line.
struct JinjaLimitExceeded: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
