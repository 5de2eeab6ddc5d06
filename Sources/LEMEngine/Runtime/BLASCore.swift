import COpenBLAS

/// Which of OpenBLAS's kernel sets ("cores") runs, and the one this CPU deserves.
///
/// A distribution's OpenBLAS built with DYNAMIC_ARCH picks its core from cpuid when the library
/// loads; a release older than the CPU does not know its model and falls back to its slowest core
/// (Debian's 0.3.21 on Emerald Rapids: `Prescott`, SSE3 — 4–5× slower sgemm than `Cooperlake`).
/// OpenBLAS reads `OPENBLAS_CORETYPE` once, at load, so the `lem` executable re-executes itself
/// with it set when `coreToForce` says so (never when the user set the variable).
public enum BLASCore {
    /// The variable OpenBLAS reads at load to force a core.
    public static let environmentKey = "OPENBLAS_CORETYPE"
    /// Set by `lem` beside `OPENBLAS_CORETYPE` when it chose the core itself (for reports).
    public static let chosenMarkerKey = "LEM_OPENBLAS_CORE_CHOSEN"

    /// The core OpenBLAS is running, e.g. `Haswell`.
    public static var current: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The instruction-set level each x86-64 DYNAMIC_ARCH core of OpenBLAS uses: 0 SSE, 1 AVX,
    /// 2 AVX2 + FMA, 3 AVX-512 (F/BW/VL/DQ), 4 AVX-512 + BF16. Names are OpenBLAS's, case-blind.
    static let levels: [String: Int] = [
        "prescott": 0, "core2": 0, "penryn": 0, "dunnington": 0, "nehalem": 0, "atom": 0, "nano": 0,
        "opteron": 0, "opteron_sse3": 0, "barcelona": 0, "bobcat": 0,
        "sandybridge": 1, "bulldozer": 1, "piledriver": 1, "steamroller": 1,
        "haswell": 2, "zen": 2, "excavator": 2,
        "skylakex": 3, "cooperlake": 4, "sapphirerapids": 4
    ]

    /// The level of a core name, nil for a name this table does not know.
    public static func level(of core: String) -> Int? { levels[core.lowercased()] }

    /// The best core for `features`: `Cooperlake` with AVX-512 + BF16, `SkylakeX` with AVX-512,
    /// `Zen` (AMD) or `Haswell` with AVX2 + FMA, `Sandybridge` with AVX; nil without AVX.
    public static func best(for features: CPUFeatures) -> String? {
        if features.isSuperset(of: CPUFeatures.avx512Core) {
            return features.contains(.avx512bf16) ? "Cooperlake" : "SkylakeX"
        }
        if features.isSuperset(of: [.avx2, .fma]) { return features.contains(.amd) ? "Zen" : "Haswell" }
        if features.contains(.avx) { return "Sandybridge" }
        return nil
    }

    /// The core to force when OpenBLAS chose `current` on a CPU with `features`: the best core
    /// when `current` uses a lower instruction-set level; nil when the user set
    /// `OPENBLAS_CORETYPE` (`userSetting`), when `current` is unknown to the table (a newer
    /// OpenBLAS knows better) or already at the best level.
    public static func coreToForce(current: String, features: CPUFeatures, userSetting: String?) -> String? {
        if let userSetting, !userSetting.isEmpty { return nil }
        guard let best = best(for: features), let have = level(of: current), let want = level(of: best),
            have < want
        else { return nil }
        return best
    }

    /// The environment to re-execute with so that OpenBLAS loads its best core on this machine,
    /// nil when the running core is the right one (or the user chose one).
    public static func relaunchEnvironment(_ environment: [String: String]) -> [String: String]? {
        guard
            let core = coreToForce(
                current: current, features: .current, userSetting: environment[environmentKey])
        else { return nil }
        var next = environment
        next[environmentKey] = core
        next[chosenMarkerKey] = current
        return next
    }

    /// One line for reports: the core running, and why — e.g. `Zen (the best for this CPU)`,
    /// `Cooperlake (chosen by lem; OpenBLAS picked Prescott)`, `Prescott (OPENBLAS_CORETYPE; this
    /// CPU could run Cooperlake)`.
    public static func summary(environment: [String: String], features: CPUFeatures = .current) -> String {
        let running = current
        let best = best(for: features)
        if let fallback = environment[chosenMarkerKey], environment[environmentKey] != nil {
            return "\(running) (chosen by lem; OpenBLAS picked \(fallback))"
        }
        if let set = environment[environmentKey], !set.isEmpty {
            let better = best.flatMap { b in
                (level(of: b) ?? 0) > (level(of: running) ?? Int.max) ? "; this CPU could run \(b)" : nil
            }
            return "\(running) (\(environmentKey)=\(set)\(better ?? ""))"
        }
        if let best, let have = level(of: running), let want = level(of: best), have < want {
            return "\(running) (below this CPU's \(best): re-run through the lem executable)"
        }
        return "\(running) (picked by OpenBLAS for this CPU)"
    }
}
