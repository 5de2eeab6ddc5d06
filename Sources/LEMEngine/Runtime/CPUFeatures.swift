import CLEMKernels
import Foundation

/// The instruction-set extensions and vendor of a CPU, as cpuid reports them.
///
/// `current` is this machine's (read once); `init(cpuinfoFlags:vendor:)` reads a recorded
/// `/proc/cpuinfo` flags line, so choices made from features can be tested on CPUs we don't have.
public struct CPUFeatures: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    /// Features from their `LEM_CPU_*` bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let avx = CPUFeatures(rawValue: LEM_CPU_AVX)
    public static let avx2 = CPUFeatures(rawValue: LEM_CPU_AVX2)
    public static let fma = CPUFeatures(rawValue: LEM_CPU_FMA)
    public static let f16c = CPUFeatures(rawValue: LEM_CPU_F16C)
    public static let avx512f = CPUFeatures(rawValue: LEM_CPU_AVX512F)
    public static let avx512bw = CPUFeatures(rawValue: LEM_CPU_AVX512BW)
    public static let avx512vl = CPUFeatures(rawValue: LEM_CPU_AVX512VL)
    public static let avx512dq = CPUFeatures(rawValue: LEM_CPU_AVX512DQ)
    public static let avx512vnni = CPUFeatures(rawValue: LEM_CPU_AVX512VNNI)
    public static let avx512bf16 = CPUFeatures(rawValue: LEM_CPU_AVX512BF16)
    public static let avxVNNI = CPUFeatures(rawValue: LEM_CPU_AVXVNNI)
    public static let amd = CPUFeatures(rawValue: LEM_CPU_VENDOR_AMD)
    public static let intel = CPUFeatures(rawValue: LEM_CPU_VENDOR_INTEL)

    /// The AVX-512 subsets OpenBLAS's SkylakeX kernels and ours assume together.
    public static let avx512Core: CPUFeatures = [.avx512f, .avx512bw, .avx512vl, .avx512dq]

    /// This machine's features (cpuid, read once).
    public static let current = CPUFeatures(rawValue: lem_cpu_feature_bits())

    /// The `/proc/cpuinfo` flag name of each feature (vendors excluded), in printing order.
    static let cpuinfoNames: [(CPUFeatures, String)] = [
        (.avx, "avx"), (.avx2, "avx2"), (.fma, "fma"), (.f16c, "f16c"), (.avx512f, "avx512f"),
        (.avx512bw, "avx512bw"), (.avx512vl, "avx512vl"), (.avx512dq, "avx512dq"),
        (.avx512vnni, "avx512_vnni"), (.avx512bf16, "avx512_bf16"), (.avxVNNI, "avx_vnni")
    ]

    /// The features named in a `/proc/cpuinfo` `flags` line, with the vendor from its `vendor_id`
    /// (`GenuineIntel`, `AuthenticAMD`).
    public init(cpuinfoFlags: String, vendor: String) {
        let flags = Set(cpuinfoFlags.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
        var features: CPUFeatures = []
        for (feature, name) in Self.cpuinfoNames where flags.contains(name) { features.insert(feature) }
        if vendor == "AuthenticAMD" { features.insert(.amd) }
        if vendor == "GenuineIntel" { features.insert(.intel) }
        self = features
    }

    /// The features as upper-case names, e.g. `AVX AVX2 FMA F16C`; `none` for none.
    public var description: String {
        let names = Self.cpuinfoNames.filter { contains($0.0) }.map { $0.1.replacingOccurrences(of: "_", with: "-") }
        return names.isEmpty ? "none" : names.joined(separator: " ").uppercased()
    }
}
