import ArgumentParser
import Foundation
import LEMApp
import LEMCore
import LEMEngine
import LEMScoring

/// `lem bench-chat`: the time to first token and CPU time of each turn of a chat, reusing the
/// conversation through the prefix cache and replaying it from scratch.
struct BenchChatCommand: ContextCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-chat",
        abstract: "Measure each chat turn's time to first token and CPU time, with prefix reuse and without.",
        discussion: """
            A fixed conversation of --turns questions (greedy replies of at most --reply-tokens \
            tokens, through the model's chat template) is run twice: `reuse` starts each turn from \
            the prefix cache, `replay` recomputes the whole conversation every turn. --kernel puts the \
            ethics kernel in the system prompt (--system-file, any text file, instead). Reports per \
            turn TTFT, prompt and reused tokens and process CPU seconds, then turn N's TTFT over \
            turn 1's and the CPU saved.
            """)

    @OptionGroup var model: ModelOption
    @Option(help: "Turns in the conversation.") var turns: Int = 10
    @Option(help: "The most tokens per reply.") var replyTokens: Int = 32
    @Flag(help: "Use the ethics kernel (kernel/kernel.md) as the system prompt.") var kernel = false
    @Option(help: "A text file to use as the system prompt.") var systemFile: String?
    @Option(help: "reuse, replay or both.") var mode: String = "both"
    @Option(help: "Conversations per mode; each turn's median is reported.") var runs: Int = 1
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func validate() throws {
        if turns < 1 { throw ValidationError("--turns must be at least 1") }
        if replyTokens < 1 { throw ValidationError("--reply-tokens must be at least 1") }
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
        if !["reuse", "replay", "both"].contains(mode) { throw ValidationError("--mode must be reuse, replay or both") }
        if kernel && systemFile != nil { throw ValidationError("give --kernel or --system-file, not both") }
    }

    func run(in context: AppContext) async throws {
        var system: String?
        if let systemFile {
            let url = context.paths.resolve(systemFile)
            do { system = try String(contentsOf: url, encoding: .utf8) } catch {
                throw CommandFailure(description: "--system-file \(url.path): \(error.localizedDescription)")
            }
        } else if kernel {
            system = try BenchRunCommand.kernel(file: nil, paths: context.paths).text
        }
        var options = context.engineOptions
        if options.prefixCacheBytes == 0 { options.prefixCacheBytes = EngineOptions.defaultPrefixCacheBytes }
        let loaded = try LoadedModel.load(try model.key(in: context), options: options)
        let benchmark = ChatTurnBenchmark(turns: turns, replyTokens: replyTokens, system: system)
        var fields: [(String, String)] = [
            ("model", JSONText.quote(loaded.key.modelURL.lastPathComponent)), ("threads", String(EngineThreads.count)),
            ("turns", String(turns)), ("reply_tokens", String(replyTokens)),
            ("system", system == nil ? "false" : "true"),
            ("runs", String(runs))
        ]
        var cpu: [String: Double] = [:]
        for reuse in [true, false] where mode == "both" || mode == (reuse ? "reuse" : "replay") {
            let name = reuse ? "reuse" : "replay"
            if !json { printError("\(name):") }
            var all: [[ChatTurnResult]] = []
            for _ in 0..<runs {
                all.append(
                    try benchmark.run(model: loaded, reuse: reuse) { r in
                        if !json {
                            printError(
                                String(
                                    format:
                                        "  turn %2d: prompt %5d tokens (%5d reused), ttft %8.1f ms, %3d generated, cpu %.2f s",
                                    r.turn, r.promptTokens, r.reusedTokens, r.timeToFirstTokenMs, r.generatedTokens,
                                    r.cpuSeconds))
                        }
                    })
            }
            let results = Self.medians(all)
            let first = results[0].timeToFirstTokenMs
            let last = results[results.count - 1].timeToFirstTokenMs
            cpu[name] = results.reduce(0) { $0 + $1.cpuSeconds } / Double(results.count)
            fields.append(
                (
                    "\(name)_ttft_ms",
                    "[" + results.map { String(format: "%.1f", $0.timeToFirstTokenMs) }.joined(separator: ", ") + "]"
                ))
            fields.append(
                ("\(name)_prompt_tokens", "[" + results.map { String($0.promptTokens) }.joined(separator: ", ") + "]"))
            fields.append(
                ("\(name)_reused_tokens", "[" + results.map { String($0.reusedTokens) }.joined(separator: ", ") + "]"))
            fields.append(
                (
                    "\(name)_cpu_s",
                    "[" + results.map { String(format: "%.3f", $0.cpuSeconds) }.joined(separator: ", ") + "]"
                ))
            fields.append(("\(name)_ttft_last_over_first", String(format: "%.3f", last / max(first, 1e-9))))
            fields.append(("\(name)_cpu_s_per_turn", String(format: "%.3f", cpu[name]!)))
            if !json {
                print(
                    String(
                        format: "%@: turn %d TTFT %.1f ms / turn 1 %.1f ms = %.2fx; %.2f CPU s per turn", name, turns,
                        last,
                        first, last / max(first, 1e-9), cpu[name]!))
            }
        }
        if let reuse = cpu["reuse"], let replay = cpu["replay"], replay > 0 {
            let saving = 100 * (1 - reuse / replay)
            fields.append(("cpu_saving_percent", String(format: "%.1f", saving)))
            if !json { print(String(format: "CPU per turn saved by reuse: %.1f %%", saving)) }
        }
        if json { print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}") }
    }

    /// Per turn, the first run's counts with the median TTFT, wall and CPU time over the runs.
    static func medians(_ runs: [[ChatTurnResult]]) -> [ChatTurnResult] {
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.count % 2 == 1
                ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        return runs[0].indices.map { i in
            var r = runs[0][i]
            let turn = runs.map { $0[i] }
            r.timeToFirstTokenMs = median(turn.map(\.timeToFirstTokenMs))
            r.wallSeconds = median(turn.map(\.wallSeconds))
            r.cpuSeconds = median(turn.map(\.cpuSeconds))
            return r
        }
    }
}
