import Foundation
import LEMEngine
import TestSupport
import Testing

/// Runs the built `lem bench-speed` on a committed tiny model and checks what it prints: the
/// counts asked for and the JSON shape of issue 4 — never the timings.
@Suite struct BenchSpeedCommandTests {
    static let lem = LemCommand.binary

    /// Runs `lem` to the end; returns (exit status, stdout, stderr).
    func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try LemCommand.run(arguments)
    }

    /// The row-interleaved decode copies (Q4_1 layers, Q8_0 embedding and head) and the stored
    /// layout give the same greedy tokens with 8-bit activations, the CLI's default mode.
    @Test(.enabled(if: lem != nil && TestPaths.smolLM2 != nil, "lem or the default SmolLM2 model is missing"))
    func interleavedGreedyIdsUnchanged() throws {
        let model = try #require(TestPaths.smolLM2).path
        let arguments = [
            "generate", "--model", model, "--ids", "1,504,3032,282,253,1345", "--max-tokens", "24", "--print-ids"
        ]
        let stored = try LemCommand.run(
            arguments, environment: ["LEM_X8": "0", "LEM_Q8_ACTIVATIONS": "1", "LEM_THREADS": "2"])
        let interleaved = try LemCommand.run(
            arguments, environment: ["LEM_X8": "1", "LEM_Q8_ACTIVATIONS": "1", "LEM_THREADS": "2"])
        #expect(stored.status == 0 && interleaved.status == 0, "stderr: \(stored.err) \(interleaved.err)")
        #expect(stored.out.contains("[") && stored.out.split(separator: ",").count == 24, "ids: \(stored.out)")
        #expect(interleaved.out == stored.out)
    }

    /// `--sgemm` names the OpenBLAS core and who chose it; a core the user forces is the one that
    /// runs, and lem does not override it.
    @Test(
        .enabled(
            if: lem != nil && CPUFeatures.current.isSuperset(of: [.avx2, .fma]), "lem is not built, or no AVX2 here"))
    func sgemmNamesTheOpenBLASCore() throws {
        let arguments = ["bench-speed", "--sgemm", "--shapes", "4x64x64", "--threads", "1", "--json"]
        let picked = try LemCommand.run(arguments)
        #expect(picked.status == 0, "stderr: \(picked.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(picked.out.utf8)) as? [String: Any])
        let core = try #require(object["openblas_core"] as? String)
        #expect(BLASCore.level(of: core).map { $0 >= 2 } ?? true, "an AVX2 CPU runs core \(core)")
        #expect(object["cpu_features"] as? String == CPUFeatures.current.description)
        let forced = try LemCommand.run(arguments, environment: ["OPENBLAS_CORETYPE": "Haswell"])
        let forcedObject = try #require(
            try JSONSerialization.jsonObject(with: Data(forced.out.utf8)) as? [String: Any])
        #expect(forcedObject["openblas_core"] as? String == "Haswell")
        let reason = try #require(forcedObject["openblas_core_reason"] as? String)
        #expect(reason.hasPrefix("Haswell (OPENBLAS_CORETYPE=Haswell"), "\(reason)")
    }

    /// When OpenBLAS falls back below this CPU's level, `lem` starts again with the right core
    /// forced. The fallback is staged with a preloaded `openblas_get_corename` that answers
    /// "Prescott" until `OPENBLAS_CORETYPE` is set (as a 0.3.21 OpenBLAS does on Emerald Rapids).
    @Test(
        .enabled(
            if: lem != nil && CPUFeatures.current.isSuperset(of: [.avx2, .fma])
                && FileManager.default.isExecutableFile(atPath: "/usr/bin/cc")
                && ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
            "lem is not built, no AVX2 here, no C compiler for the preloaded stand-in, or OPENBLAS_CORETYPE set"))
    func aFallenBackCoreIsReplacedByRelaunching() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lem-fakecore-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("fakecore.c")
        try """
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <stdlib.h>
        char *openblas_get_corename(void) {
            if (!getenv("OPENBLAS_CORETYPE")) return "Prescott";
            char *(*real)(void) = (char *(*)(void))dlsym(RTLD_NEXT, "openblas_get_corename");
            return real();
        }
        """.write(to: source, atomically: true, encoding: .utf8)
        let library = directory.appendingPathComponent("fakecore.so")
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        cc.arguments = ["-shared", "-fPIC", source.path, "-o", library.path, "-ldl"]
        try cc.run()
        cc.waitUntilExit()
        try #require(cc.terminationStatus == 0)
        let arguments = ["bench-speed", "--sgemm", "--shapes", "4x64x64", "--threads", "1", "--json"]
        let result = try LemCommand.run(arguments, environment: ["LD_PRELOAD": library.path])
        #expect(result.status == 0, "stderr: \(result.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        let best = try #require(BLASCore.best(for: .current))
        #expect(object["openblas_core"] as? String == best)
        #expect(object["openblas_core_reason"] as? String == "\(best) (chosen by lem; OpenBLAS picked Prescott)")
    }

    @Test(.enabled(if: lem != nil, "lem is not built: run swift build"))
    func jsonOnTinyModel() throws {
        let model = TestPaths.fixture("engine/gemma3_tiny-mlx4").path
        let result = try run([
            "bench-speed", "--model", model, "--prompt-tokens", "9", "--gen-tokens", "5", "--runs", "2",
            "--threads", "1", "--json"
        ])
        #expect(result.status == 0, "stderr: \(result.err)")
        let line = result.out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.hasPrefix("{\"prompt_tokens_per_s\": "))
        let keys = ["\"prompt_tokens_per_s\"", "\"gen_tokens_per_s\"", "\"ttft_ms\"", "\"peak_rss_mb\""]
        let positions = keys.map { line.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(zip(positions, positions.dropFirst()).allSatisfy { $0! < $1! }, "keys out of order: \(line)")
        let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8))
        let object = try #require(parsed as? [String: Any])
        #expect(object["prompt_tokens"] as? Int == 9)
        #expect(object["gen_tokens"] as? Int == 5)
        #expect(object["runs"] as? Int == 2)
        #expect(object["threads"] as? Int == 1)
        #expect((object["peak_rss_mb"] as? Double ?? 0) > 0)
        for key in ["prompt_tokens_per_s", "gen_tokens_per_s", "ttft_ms"] {
            #expect((object[key] as? Double ?? 0) > 0, "\(key) in \(line)")
        }
    }

    /// The report names the engine options the environment gave (`EngineOptions(environment:)`),
    /// and a value the program cannot read stops it with the variable's name.
    @Test(.enabled(if: lem != nil, "lem is not built: run swift build"))
    func optionsFromEnvironment() throws {
        let model = TestPaths.fixture("engine/llama3_tiny-mlx4").path
        let arguments = [
            "bench-speed", "--model", model, "--prompt-tokens", "6", "--gen-tokens", "2", "--runs", "1", "--json"
        ]
        func options(_ environment: [String: String]) throws -> [String: Any] {
            let result = try LemCommand.run(arguments, environment: environment)
            #expect(result.status == 0, "stderr: \(result.err)")
            let parsed = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
            #expect(parsed?["threads"] as? Int == Int(environment["LEM_THREADS"] ?? "0"))
            return try #require(parsed?["options"] as? [String: Any], "no options in \(result.out)")
        }
        let off = try options([
            "LEM_Q8_ACTIVATIONS": "0", "LEM_X8": "0", "LEM_DOT8": "0", "LEM_FUSED_MATVEC": "0", "LEM_PREFILL": "pool",
            "LEM_THREADS": "2", "LEM_VNNI": "0"
        ])
        #expect(
            off["vnni"] as? Bool == false
                && off["kernels"] as? String == (off["simd"] as? Bool == true ? "avx2" : "scalar"))
        #expect(off["q8_activations"] as? Bool == false && off["x8"] as? Bool == false)
        #expect(
            off["dot8"] as? Bool == false && off["fused_matvec"] as? Bool == false
                && off["prefill"] as? String == "pool")
        let on = try options([
            "LEM_Q8_ACTIVATIONS": "1", "LEM_X8": "1", "LEM_DOT8": "1", "LEM_FUSED_MATVEC": "1", "LEM_PREFILL": "gemm",
            "LEM_THREADS": "1"
        ])
        #expect(
            on["q8_activations"] as? Bool == true && on["dot8"] as? Bool == true && on["fused_matvec"] as? Bool == true)
        #expect(on["x8"] as? Bool == on["simd"] as? Bool, "x8 copies whenever the AVX2 kernels run")
        #expect(on["vnni"] as? Bool == Kernels.cpuHasVNNI, "VNNI wherever the CPU has it")
        #expect(
            on["kernels"] as? String
                == (Kernels.cpuHasVNNI ? "avx512-vnni" : on["simd"] as? Bool == true ? "avx2" : "scalar"))
        #expect(on["prefill"] as? String == "gemm")
        let bad = try LemCommand.run(arguments, environment: ["LEM_X8": "2"])
        #expect(bad.status != 0)
        #expect(bad.err.contains("LEM_X8") && bad.err.contains("0 or 1"), "stderr: \(bad.err)")
    }

    @Test(.enabled(if: lem != nil, "lem is not built: run swift build"))
    func textAndBadSizes() throws {
        let model = TestPaths.fixture("engine/gemma3_tiny").path
        let text = try run(["bench-speed", "--model", model, "--prompt-tokens", "4", "--gen-tokens", "2", "--runs", "1"]
        )
        #expect(text.status == 0, "stderr: \(text.err)")
        #expect(text.out.contains("generation       2 tokens"))
        let tooLong = try run(["bench-speed", "--model", model, "--prompt-tokens", "100000", "--gen-tokens", "2"])
        #expect(tooLong.status != 0)
        #expect(tooLong.err.contains("context"))
        let badShape = try run(["bench-speed", "--sgemm", "--shapes", "12x3"])
        #expect(badShape.status != 0)
        #expect(badShape.err.contains("TOKENSxINxOUT"))
    }

    @Test(.enabled(if: lem != nil, "lem is not built: run swift build"))
    func machineJSON() throws {
        let result = try run([
            "bench-speed", "--bandwidth", "--bandwidth-mib", "8", "--sgemm", "--shapes", "4x8x16", "--threads", "2",
            "--json"
        ])
        #expect(result.status == 0, "stderr: \(result.err)")
        let parsed = try JSONSerialization.jsonObject(with: Data(result.out.utf8))
        let object = try #require(parsed as? [String: Any])
        #expect((object["bandwidth_gb_per_s"] as? Double ?? 0) > 0)
        #expect(((object["sgemm_gflops"] as? [String: Any])?["4x8x16"] as? Double ?? 0) > 0)
        #expect(object["threads"] as? Int == 2)
    }
}
