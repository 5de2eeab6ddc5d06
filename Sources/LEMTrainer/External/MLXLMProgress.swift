import Foundation
import LEMCore

/// Reads what `mlx_lm lora` prints on stdout into the `TrainingEvent`s `lem train` logs, so the
/// Train panel follows an mlx_lm run as it follows one of its own.
///
/// Two layouts are understood (fixtures: `Tests/Fixtures/trainer/mlx_lm_output/`):
/// - mlx_lm ≥ 0.31's table (rich, colour codes stripped): `   2    7.159 ▼        2      0.1k`
///   (iteration, train loss, trend, tokens/s, trained tokens in thousands), `   1    val 7.211
///   0.15s` (a validation before iteration 1), `save  0000004_adapters.safetensors`. It prints
///   neither the learning rate, it/s nor memory, and the trained tokens only to 100.
/// - earlier releases' sentences: `Iter 2: Train loss 7.161, Learning Rate 1.000e-04, It/sec
///   0.216, Tokens/sec 9.817, Trained Tokens 91, Peak mem 0.003 GB`, `Iter 1: Val loss 7.211, Val
///   took 4.960s`, `Iter 4: Saved adapter weights to A and B.`, `Saved final weights to A.`,
///   `Starting training..., iters: 6`.
///
/// mlx_lm numbers a validation by the iteration it runs before; `TrainingEvent` by the
/// iterations completed, one less.
public struct MLXLMProgress: Sendable {
    /// The adapter folder (`adapter_path`), for the checkpoint names the table prints alone.
    public let adapterFolder: String
    /// The last iteration a line reported.
    public private(set) var lastStep = 0
    /// Whether a line reported the final save.
    public private(set) var finished = false

    /// A reader for a run writing its adapter to `adapterFolder`.
    public init(adapterFolder: String) { self.adapterFolder = adapterFolder }

    /// The events one line reports; nil when the line is not a progress line (a banner, a
    /// warning, a progress bar), which the caller passes on to the user.
    public mutating func events(for line: String) -> [TrainingEvent]? {
        let text = Self.strippingEscapes(line).trimmingCharacters(in: .whitespaces)
        guard
            let events = text.hasPrefix("Iter ") || text.hasPrefix("Saved final") || text.hasPrefix("Starting")
                ? sentence(text) : tableRow(text)
        else { return nil }
        for event in events {
            switch event {
            case .trainReport, .saved, .finished: lastStep = max(lastStep, event.step)
            default: break
            }
            if case .finished = event { finished = true }
        }
        return events
    }

    /// A line of the ≥ 0.31 table.
    private func tableRow(_ text: String) -> [TrainingEvent]? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if fields.count == 2, fields[0] == "save" {
            let name = fields[1]
            let suffix = "_adapters.safetensors"
            guard name.hasSuffix(suffix), let step = Int(name.dropLast(suffix.count)) else { return nil }
            return [.saved(step: step, path: adapterFolder + "/" + name)]
        }
        guard let iteration = fields.first.flatMap({ Int($0) }) else { return nil }
        if fields.count == 4, fields[1] == "val", let loss = Double(fields[2]), fields[3].hasSuffix("s"),
            let seconds = Double(fields[3].dropLast())
        {
            return [.validation(step: iteration - 1, valLoss: loss, valTime: seconds)]
        }
        if fields.count == 5, let loss = Double(fields[1]), ["▼", "▲"].contains(fields[2]),
            let tokensPerSec = Double(fields[3].replacingOccurrences(of: ",", with: "")), fields[4].hasSuffix("k"),
            let thousands = Double(fields[4].dropLast())
        {
            let report = TrainingEvent.TrainReport(
                step: iteration, loss: loss, tokensPerSec: tokensPerSec,
                trainedTokens: Int((thousands * 1000).rounded()))
            return [.trainReport(report)]
        }
        return nil
    }

    /// A line of the earlier releases' sentences.
    private func sentence(_ text: String) -> [TrainingEvent]? {
        if text.hasPrefix("Starting training..., iters: ") {
            return Int(text.dropFirst("Starting training..., iters: ".count)).map {
                [.started(step: 0, totalSteps: $0)]
            }
        }
        if text.hasPrefix("Saved final weights to ") {
            let path = Self.droppingPeriod(text.dropFirst("Saved final weights to ".count))
            return [.finished(step: lastStep, path: path)]
        }
        guard let colon = text.firstIndex(of: ":"), let iteration = Int(text.dropFirst(5)[..<colon]) else {
            return nil
        }
        let body = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if body.hasPrefix("Saved adapter weights to ") {
            let paths = Self.droppingPeriod(body.dropFirst("Saved adapter weights to ".count))
            let checkpoint = paths.components(separatedBy: " and ").last ?? paths
            return [.saved(step: iteration, path: checkpoint)]
        }
        var values: [String: String] = [:]
        for part in body.components(separatedBy: ", ") {
            guard let space = part.lastIndex(of: " ") else { continue }
            var label = String(part[..<space])
            var value = String(part[part.index(after: space)...])
            if value == "GB", let inner = label.lastIndex(of: " ") {  // "Peak mem 0.003 GB"
                value = String(label[label.index(after: inner)...])
                label = String(label[..<inner])
            }
            values[label] = value
        }
        if let loss = values["Val loss"].flatMap(Double.init) {
            let seconds = values["Val took"].flatMap { $0.hasSuffix("s") ? Double($0.dropLast()) : nil }
            return [.validation(step: iteration - 1, valLoss: loss, valTime: seconds)]
        }
        guard let loss = values["Train loss"].flatMap(Double.init) else { return nil }
        let report = TrainingEvent.TrainReport(
            step: iteration, loss: loss, lr: values["Learning Rate"].flatMap(Double.init),
            itPerSec: values["It/sec"].flatMap(Double.init), tokensPerSec: values["Tokens/sec"].flatMap(Double.init),
            trainedTokens: values["Trained Tokens"].flatMap { Int($0) },
            peakMemMB: values["Peak mem"].flatMap(Double.init).map { $0 * 1000 })  // mlx_lm's GB are 10⁹ bytes
        return [.trainReport(report)]
    }

    private static func droppingPeriod(_ text: Substring) -> String {
        String(text.hasSuffix(".") ? text.dropLast() : text)
    }

    /// `line` without ANSI escape sequences (`ESC [ … letter`), which rich writes even into a pipe.
    public static func strippingEscapes(_ line: String) -> String {
        guard line.contains("\u{1B}") else { return line }
        var out = String.UnicodeScalarView()
        var scalars = line.unicodeScalars.makeIterator()
        while let u = scalars.next() {
            guard u == "\u{1B}" else {
                out.append(u)
                continue
            }
            guard let next = scalars.next() else { break }
            guard next == "[" else { continue }
            let finalBytes: ClosedRange<Unicode.Scalar> = "@"..."~"  // a CSI sequence ends at one of these
            while let c = scalars.next(), !finalBytes.contains(c) {}
        }
        return String(out)
    }
}
