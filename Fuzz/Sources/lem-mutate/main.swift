// The coverage-free mutation harness: lem-mutate TARGET SECONDS CORPUS_DIR WORK_DIR [SEED]
//
// Mutates the corpus seeds for SECONDS (FuzzMutator), writing each input to WORK_DIR/current
// before running it, so a crash leaves its reproducer there; an input running past 10 s is a
// hang: the watchdog copies it to WORK_DIR/hang and aborts. Prints executions and findings.
import Foundation
import LEMFuzzTargets

let args = CommandLine.arguments
guard args.count >= 5, let target = FuzzTarget(rawValue: args[1]), let seconds = Double(args[2]) else {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
    FileHandle.standardError.write(Data("usage: lem-mutate \(names) SECONDS CORPUS_DIR WORK_DIR [SEED]\n".utf8))
    exit(2)
}
let corpus = URL(fileURLWithPath: args[3])
let work = URL(fileURLWithPath: args[4])
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
let names = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()
let seeds = try names.map { try Array(Data(contentsOf: corpus.appendingPathComponent($0))) }
let seed = args.count > 5 ? UInt64(args[5]) ?? 1 : UInt64(Date().timeIntervalSince1970)
var mutator = FuzzMutator(seeds: seeds, target: target, seed: seed)
let current = work.appendingPathComponent("current")
let scratch = work.appendingPathComponent("scratch")

/// Start time of the running input (ns), read by the watchdog.
nonisolated(unsafe) var runningSince: UInt64 = 0
Thread.detachNewThread {
    while true {
        Thread.sleep(forTimeInterval: 1)
        let since = runningSince
        if since != 0, DispatchTime.now().uptimeNanoseconds - since > 10_000_000_000 {
            try? FileManager.default.removeItem(at: work.appendingPathComponent("hang"))
            try? FileManager.default.copyItem(at: current, to: work.appendingPathComponent("hang"))
            FileHandle.standardError.write(
                Data("lem-mutate \(target.rawValue): an input ran past 10 s (saved as hang)\n".utf8))
            abort()
        }
    }
}

let deadline = Date().addingTimeInterval(seconds)
var executions = 0
var problems = 0
while Date() < deadline {
    for _ in 0..<64 {
        let input = mutator.input()
        try Data(input).write(to: current)
        runningSince = DispatchTime.now().uptimeNanoseconds
        if let problem = target.run(input, scratch: scratch) {
            problems += 1
            try Data(input).write(to: work.appendingPathComponent("problem-\(problems)"))
            print("problem: \(problem)")
        }
        runningSince = 0
        executions += 1
    }
}
print("lem-mutate \(target.rawValue): \(executions) executions, \(problems) problems, seed \(seed)")
exit(problems == 0 ? 0 : 1)
