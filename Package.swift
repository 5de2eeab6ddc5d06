// swift-tools-version: 6.1
// LEM Workbench: a terminal workbench for chatting with, LoRA-training, benchmarking and
// inspecting small language models on CPU. Module layering is described in docs/ARCHITECTURE.md.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6)
]

let package = Package(
    name: "LEMWorkbench",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lem", targets: ["LEMTUI"]),
        // The parsers' fuzz targets, for the fuzzing package under Fuzz/.
        .library(name: "LEMFuzzTargets", targets: ["LEMFuzzTargets"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // HTTP server of `lem serve` (SwiftNIO underneath); only LEMServe and LEMCLI link it. The
        // ConfigurationSupport trait (swift-configuration) is left off: nothing here reads it.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.14.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0")
    ],
    targets: [
        // System libraries (Debian packages named in `providers`). No pkgConfig: Debian's .pc files
        // for both carry -D cflags that SwiftPM rejects with a warning; the shims declare what we use.
        .systemLibrary(
            name: "COpenBLAS",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CNCurses",
            providers: [.apt(["libncursesw5-dev"])]),

        // Quantized matvec kernels (AVX2 with a scalar fallback) and the worker pool.
        .target(name: "CLEMKernels"),

        // The shared vocabulary: JSON value, chat message, kernel mode, sampling, train-log record, paths.
        .target(name: "LEMCore", swiftSettings: strict),
        // File formats: safetensors, GGUF, MLX quantization, config.json.
        .target(name: "LEMFormats", dependencies: ["LEMCore"], swiftSettings: strict),
        // Kernels, tokenizers, chat templates, architectures, generation, attention capture.
        .target(
            name: "LEMEngine", dependencies: ["LEMCore", "LEMFormats", "COpenBLAS", "CLEMKernels"],
            swiftSettings: strict),
        // Scorers: pure functions of text, no model and no database.
        .target(name: "LEMScoring", dependencies: ["LEMCore"], swiftSettings: strict),
        // Results store (SQLite via GRDB): records, queries, import/export, reports, chat sessions. No engine.
        .target(
            name: "LEMStore",
            dependencies: ["LEMCore", "LEMScoring", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        // Evaluation on the engine: benchmark runs, scoring passes, judges (local and HTTP), probes.
        .target(
            name: "LEMEval", dependencies: ["LEMCore", "LEMEngine", "LEMScoring", "LEMStore"], swiftSettings: strict),
        // LoRA training: backward passes, optimizers, data, checkpoints, fuse.
        .target(
            name: "LEMTrainer",
            dependencies: ["LEMCore", "LEMEngine", "LEMFormats", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        // Widgets and view models rendering into a ScreenBuffer; no curses, no engine.
        .target(name: "Panels", dependencies: ["LEMCore"], swiftSettings: strict),
        // The application: one service per panel, intent routing, engine work off the UI thread.
        .target(
            name: "LEMApp",
            dependencies: ["LEMCore", "LEMEngine", "LEMEval", "LEMScoring", "LEMStore", "LEMTrainer", "Panels"],
            swiftSettings: strict),
        // `lem serve`: the engine behind an OpenAI-compatible HTTP API (Hummingbird on SwiftNIO).
        .target(
            name: "LEMServe",
            dependencies: [
                "LEMCore", "LEMEngine", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio")
            ],
            swiftSettings: strict),
        // The headless subcommands and the ncursesw driver of the workbench.
        .target(
            name: "LEMCLI",
            dependencies: [
                "LEMApp", "LEMCore", "LEMEngine", "LEMEval", "LEMFormats", "LEMScoring", "LEMServe", "LEMStore",
                "LEMTrainer",
                "Panels", "CNCurses", .product(name: "ArgumentParser", package: "swift-argument-parser")
            ],
            swiftSettings: strict),
        // The `lem` executable: reads the environment once and runs the command line.
        .executableTarget(
            name: "LEMTUI", dependencies: ["LEMCLI", "LEMApp", "LEMCore", "LEMEngine"], swiftSettings: strict),

        // Every parser a downloaded file reaches, driven with arbitrary bytes (Fuzz/ and the tests).
        .target(
            name: "LEMFuzzTargets", dependencies: ["LEMCore", "LEMEngine", "LEMFormats", "LEMScoring", "LEMTrainer"],
            swiftSettings: strict),

        // Shared test helpers (checkClose, fixture and model locations).
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        // The NEON kernel bodies compiled on x86 through SIMDe (Debian's libsimde-dev), for tests.
        .target(
            name: "CLEMNeonEmulation", dependencies: ["CLEMKernels"], path: "Tests/CLEMNeonEmulation",
            cSettings: [.headerSearchPath("../../Sources/CLEMKernels")]),

        // Store helpers for the store, evaluation and application tests: a temporary database.
        .target(
            name: "StoreTestSupport", dependencies: ["LEMStore", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/StoreTestSupport", swiftSettings: strict),

        .testTarget(name: "LEMCoreTests", dependencies: ["LEMCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "LEMFormatsTests", dependencies: ["LEMFormats", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "LEMEngineTests",
            dependencies: ["LEMCore", "LEMEngine", "LEMFormats", "TestSupport", "CLEMKernels", "CLEMNeonEmulation"],
            swiftSettings: strict),
        .testTarget(
            name: "LEMScoringTests", dependencies: ["LEMCore", "LEMScoring", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "LEMStoreTests",
            dependencies: [
                "LEMCore", "LEMStore", "LEMScoring", "TestSupport", "StoreTestSupport",
                .product(name: "GRDB", package: "GRDB.swift")
            ],
            swiftSettings: strict),
        .testTarget(
            name: "LEMEvalTests",
            dependencies: [
                "LEMCore", "LEMEval", "LEMEngine", "LEMStore", "LEMScoring", "TestSupport", "StoreTestSupport",
                .product(name: "GRDB", package: "GRDB.swift")
            ],
            swiftSettings: strict),
        .testTarget(
            name: "LEMTrainerTests", dependencies: ["LEMCore", "LEMTrainer", "LEMEngine", "LEMFormats", "TestSupport"],
            swiftSettings: strict),
        // Snapshot text files are test data read via #filePath, not resources.
        .testTarget(
            name: "PanelsTests", dependencies: ["LEMCore", "Panels", "TestSupport"], exclude: ["Snapshots"],
            swiftSettings: strict),
        .testTarget(
            name: "LEMAppTests",
            dependencies: [
                "LEMApp", "LEMCore", "LEMEngine", "LEMEval", "LEMScoring", "LEMServe", "LEMStore", "LEMTrainer",
                "Panels", "TestSupport", "StoreTestSupport"
            ],
            swiftSettings: strict),
        .testTarget(
            name: "LEMFuzzTargetsTests", dependencies: ["LEMFuzzTargets", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "LEMServeTests",
            dependencies: [
                "LEMCore", "LEMEngine", "LEMEval", "LEMScoring", "LEMServe", "LEMStore", "TestSupport",
                "StoreTestSupport",
                .product(name: "GRDB", package: "GRDB.swift")
            ],
            swiftSettings: strict),
        // The `lem` binary end to end: subcommands as processes, the workbench in tmux.
        .testTarget(
            name: "LEMTUITests",
            dependencies: ["LEMCore", "LEMEngine", "TestSupport", "LEMScoring", "LEMTrainer", "Panels"],
            swiftSettings: strict)
    ]
)
