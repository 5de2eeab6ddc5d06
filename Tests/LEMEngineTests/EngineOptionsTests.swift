import LEMEngine
import Testing

/// `EngineOptions`: the library defaults, the program's options read from an environment
/// dictionary, and the messages for values it cannot read.
@Suite struct EngineOptionsTests {
    @Test func libraryDefaults() {
        let options = EngineOptions()
        #expect(options.threads == nil)
        #expect(options.simd)
        #expect(!options.q8Activations)
        #expect(options.interleaveWeights)
        #expect(options.fuseMatvecs)
        #expect(options.eightRowKernels)
        #expect(options.prefill == .integerDots)
        #expect(options.prefixCacheBytes == 512 << 20)
    }

    /// No variable set: the program's defaults, which differ from the library's only in 8-bit
    /// activations. Empty values count as unset.
    @Test func programDefaults() throws {
        #expect(try EngineOptions(environment: [:]) == EngineOptions(q8Activations: true))
        let empty = Dictionary(uniqueKeysWithValues: EngineOptions.environmentVariables.map { ($0, "") })
        #expect(try EngineOptions(environment: empty) == EngineOptions(q8Activations: true))
        #expect(
            try EngineOptions(environment: ["PATH": "/bin", "LEM_HOME": "/tmp"]) == EngineOptions(q8Activations: true))
    }

    @Test func eachVariable() throws {
        func read(_ name: String, _ value: String) throws -> EngineOptions {
            try EngineOptions(environment: [name: value])
        }
        #expect(try read("LEM_THREADS", "3").threads == 3)
        #expect(try read("LEM_THREADS", " 12 ").threads == 12)
        #expect(try read("LEM_Q8_ACTIVATIONS", "0").q8Activations == false)
        #expect(try read("LEM_Q8_ACTIVATIONS", "1").q8Activations == true)
        #expect(try read("LEM_X8", "0").interleaveWeights == false)
        #expect(try read("LEM_X8", "1").interleaveWeights == true)
        #expect(try read("LEM_DOT8", "0").eightRowKernels == false)
        #expect(try read("LEM_DOT8", "1").eightRowKernels == true)
        #expect(try read("LEM_FUSED_MATVEC", "0").fuseMatvecs == false)
        #expect(try read("LEM_FUSED_MATVEC", "1").fuseMatvecs == true)
        #expect(try read("LEM_PREFILL", "dots").prefill == .integerDots)
        #expect(try read("LEM_PREFILL", "gemm").prefill == .fusedGemm)
        #expect(try read("LEM_PREFILL", "pool").prefill == .poolTiles)
        #expect(try read("LEM_PREFILL", "blas").prefill == .blasThreads)
        #expect(try read("LEM_PREFIX_CACHE_MB", "0").prefixCacheBytes == 0)
        #expect(try read("LEM_PREFIX_CACHE_MB", " 64 ").prefixCacheBytes == 64 << 20)
        // One variable changes only its own field.
        var expected = EngineOptions(q8Activations: true)
        expected.eightRowKernels = false
        #expect(try read("LEM_DOT8", "0") == expected)
    }

    /// `environment` gives back the options through `init(environment:)`.
    @Test func roundTrip() throws {
        let samples = [
            EngineOptions(),
            EngineOptions(threads: 5, q8Activations: true, interleaveWeights: false, prefill: .poolTiles),
            EngineOptions(fuseMatvecs: false, eightRowKernels: false, prefill: .blasThreads),
            EngineOptions(prefixCacheBytes: 0), EngineOptions(prefixCacheBytes: 3 << 20)
        ]
        for options in samples { #expect(try EngineOptions(environment: options.environment) == options) }
    }

    /// Every unreadable value throws, naming the variable, its value and what it may be.
    @Test func badValues() {
        let cases: [(String, String, String)] = [
            ("LEM_THREADS", "0", "positive integer"), ("LEM_THREADS", "two", "positive integer"),
            ("LEM_THREADS", "-3", "positive integer"), ("LEM_THREADS", "4x", "positive integer"),
            ("LEM_Q8_ACTIVATIONS", "yes", "0 or 1"), ("LEM_X8", "2", "0 or 1"), ("LEM_DOT8", "true", "0 or 1"),
            ("LEM_FUSED_MATVEC", "off", "0 or 1"), ("LEM_PREFILL", "gem", "dots, gemm, pool or blas"),
            ("LEM_PREFILL", "GEMM", "dots, gemm, pool or blas"), ("LEM_PREFIX_CACHE_MB", "-1", "MiB"),
            ("LEM_PREFIX_CACHE_MB", "1.5", "MiB")
        ]
        for (name, value, expected) in cases {
            do throws(EngineOptions.EnvironmentError) {
                _ = try EngineOptions(environment: [name: value])
                Issue.record("\(name)=\(value) was accepted")
            } catch {
                #expect(error.variable == name && error.value == value)
                #expect(error.description.contains(name) && error.description.contains("\"\(value)\""))
                #expect(error.description.contains(expected), "\(error)")
            }
        }
    }
}
