// swift-tools-version: 6.0
// Fuzzing the parsers a downloaded model, template, dataset or config reaches (Scripts/fuzz.sh).
// A package of its own, so the main build and CI never compile the fuzzers; the targets
// themselves live in the root package's LEMFuzzTargets (the test suite runs them briefly).
import PackageDescription

let package = Package(
    name: "LEMFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "LEMWorkbench", path: "..")
    ],
    targets: [
        // libFuzzer entry point: `swift build --sanitize=fuzzer --product lem-fuzz`.
        .executableTarget(
            name: "lem-fuzz",
            dependencies: [.product(name: "LEMFuzzTargets", package: "LEMWorkbench")],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        // The coverage-free seeded mutation harness (no libFuzzer needed).
        .executableTarget(
            name: "lem-mutate",
            dependencies: [.product(name: "LEMFuzzTargets", package: "LEMWorkbench")],
            swiftSettings: [.swiftLanguageMode(.v6)])
    ]
)
