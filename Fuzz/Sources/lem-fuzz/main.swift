// libFuzzer's entry point for one target, chosen by the environment variable LEM_FUZZ_TARGET
// (gguf, safetensors, config, tokenizer, jinja, jsonl, yaml, judge). A bad error message (over
// 4 KB, raw control characters) is reported as a crash so libFuzzer keeps the input.
import Foundation
import LEMFuzzTargets

private let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["LEM_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("lem-fuzz: set LEM_FUZZ_TARGET to one of \(names)\n".utf8))
        exit(2)
    }
    return t
}()

private let scratch = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lem-fuzz-\(getpid())")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    if let problem = target.run(bytes, scratch: scratch) { fatalError("lem-fuzz \(target.rawValue): \(problem)") }
    return 0
}
