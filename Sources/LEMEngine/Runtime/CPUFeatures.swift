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

    /// AVX.
    public static let avx = Self(rawValue: LEM_CPU_AVX)
    /// AVX2.
    public static let avx2 = Self(rawValue: LEM_CPU_AVX2)
    /// Fused multiply-add (FMA3).
    public static let fma = Self(rawValue: LEM_CPU_FMA)
    /// Half-precision conversions.
    public static let f16c = Self(rawValue: LEM_CPU_F16C)
    /// AVX-512 Foundation.
    public static let avx512f = Self(rawValue: LEM_CPU_AVX512F)
    /// AVX-512 byte and word instructions.
    public static let avx512bw = Self(rawValue: LEM_CPU_AVX512BW)
    /// AVX-512 on 128/256-bit registers.
    public static let avx512vl = Self(rawValue: LEM_CPU_AVX512VL)
    /// AVX-512 doubleword and quadword instructions.
    public static let avx512dq = Self(rawValue: LEM_CPU_AVX512DQ)
    /// AVX-512 int8 dot products (`vpdpbusd`).
    public static let avx512vnni = Self(rawValue: LEM_CPU_AVX512VNNI)
    /// AVX-512 bfloat16 dot products.
    public static let avx512bf16 = Self(rawValue: LEM_CPU_AVX512BF16)
    /// VEX-encoded int8 dot products.
    public static let avxVNNI = Self(rawValue: LEM_CPU_AVXVNNI)
    /// An AMD CPU.
    public static let amd = Self(rawValue: LEM_CPU_VENDOR_AMD)
    /// An Intel CPU.
    public static let intel = Self(rawValue: LEM_CPU_VENDOR_INTEL)

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
