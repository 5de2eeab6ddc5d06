import Foundation
import Testing

@testable import Panels

/// Compares a buffer's snapshot with `Snapshots/<name>.txt`; records it when the file is missing
/// or `LEM_RECORD_SNAPSHOTS=1` is set (a recorded snapshot is reported so it is never silent).
func assertSnapshot(
    _ buffer: ScreenBuffer, _ name: String, filePath: String = #filePath,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let dir = URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
    let url = dir.appendingPathComponent("\(name).txt")
    let actual = buffer.snapshot
    let record = ProcessInfo.processInfo.environment["LEM_RECORD_SNAPSHOTS"] == "1"
    if record || !FileManager.default.fileExists(atPath: url.path) {
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try? actual.write(to: url, atomically: true, encoding: .utf8)
        if !record {
            Issue.record(
                "snapshot \(name) was missing and has been recorded; re-run to compare", sourceLocation: sourceLocation)
        }
        return
    }
    let expected = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    if expected != actual {
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let first = zip(e, a).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(e.count, a.count)
        let exp = first < e.count ? String(e[first]) : "<end>"
        let act = first < a.count ? String(a[first]) : "<end>"
        Issue.record(
            "snapshot \(name) differs at line \(first + 1):\n expected: \(exp)\n actual:   \(act)\n(set LEM_RECORD_SNAPSHOTS=1 to re-record)",
            sourceLocation: sourceLocation)
    }
}

/// Renders a widget into a fresh buffer of the given size.
func render(_ w: some Widget, width: Int, height: Int) -> ScreenBuffer {
    var b = ScreenBuffer(width: width, height: height)
    w.render(into: &b, area: b.bounds)
    return b
}
