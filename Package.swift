// swift-tools-version: 6.0
// LEM Workbench: a terminal workbench for chatting with, LoRA-training, benchmarking and
// inspecting small language models on CPU. Module layering is described in docs/ARCHITECTURE.md.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "LEMWorkbench",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lem", targets: ["LEMTUI"]),
        // The parsers' fuzz targets, for the fuzzing package under Fuzz/.
        .library(name: "LEMFuzzTargets", targets: ["LEMFuzzTargets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
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

        // File formats: safetensors, GGUF, MLX quantization, config.json.
        .target(name: "LEMFormats", swiftSettings: strict),
        // Kernels, tokenizers, chat templates, architectures, generation, attention capture.
        .target(name: "LEMEngine", dependencies: ["LEMFormats", "COpenBLAS", "CLEMKernels"], swiftSettings: strict),
        // Scorers: pure functions of text, no model and no database.
        .target(name: "LEMScoring", swiftSettings: strict),
        // Results store (SQLite via GRDB), import/export, reports, benchmark runner, judge.
        .target(
            name: "LEMStore",
            dependencies: ["LEMEngine", "LEMScoring", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        // LoRA training: backward passes, optimizers, data, checkpoints, fuse.
        .target(
            name: "LEMTrainer",
            dependencies: ["LEMEngine", "LEMFormats", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        // Widgets and view models rendering into a ScreenBuffer; no curses, no engine.
        .target(name: "Panels", swiftSettings: strict),
        // The `lem` executable: ncurses driver, event loop, headless subcommands.
        .executableTarget(
            name: "LEMTUI",
            dependencies: [
                "LEMEngine", "LEMFormats", "LEMScoring", "LEMStore", "LEMTrainer", "Panels", "CNCurses",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // Every parser a downloaded file reaches, driven with arbitrary bytes (Fuzz/ and the tests).
        .target(
            name: "LEMFuzzTargets", dependencies: ["LEMEngine", "LEMFormats", "LEMScoring", "LEMTrainer"],
            swiftSettings: strict),

        // Shared test helpers (checkClose, fixture and model locations).
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),

        .testTarget(name: "LEMFormatsTests", dependencies: ["LEMFormats", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "LEMEngineTests", dependencies: ["LEMEngine", "LEMFormats", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "LEMScoringTests", dependencies: ["LEMScoring", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "LEMStoreTests", dependencies: ["LEMStore", "LEMScoring", "LEMEngine", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "LEMTrainerTests", dependencies: ["LEMTrainer", "LEMEngine", "LEMFormats", "TestSupport"],
            swiftSettings: strict),
        // Snapshot text files are test data read via #filePath, not resources.
        .testTarget(name: "PanelsTests", dependencies: ["Panels", "TestSupport"], exclude: ["Snapshots"], swiftSettings: strict),
        .testTarget(name: "LEMFuzzTargetsTests", dependencies: ["LEMFuzzTargets", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "LEMTUITests", dependencies: ["TestSupport", "LEMScoring", "LEMTrainer", "Panels"], swiftSettings: strict),
    ]
)
