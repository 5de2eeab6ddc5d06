import Foundation
import Testing

@testable import LEMEngine

/// The choice of OpenBLAS core on recorded CPUs: `lem` forces a core only when OpenBLAS fell back
/// below what the CPU runs, never over the user's `OPENBLAS_CORETYPE`.
@Suite struct BLASCoreTests {
    /// This project's AVX2-only AMD EPYC (Zen 2/3 guest), its `/proc/cpuinfo` flags line.
    static let epycFlags = """
        fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall \
        nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid extd_apicid \
        tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes \
        xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw \
        topoext cpuid_fault vmmcall fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid rdseed adx smap clflushopt \
        clwb sha_ni xsaveopt xsavec xgetbv1 xsaves clzero xsaveerptr arat umip vaes vpclmulqdq rdpid fsrm
        """
    /// An Emerald Rapids guest (family 6 model 207), the vector part of its flags line.
    static let emeraldRapidsFlags = """
        sse sse2 ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand bmi1 avx2 bmi2 erms avx512f \
        avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec \
        avx_vnni avx512_bf16 avx512vbmi umip pku avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg \
        avx512_vpopcntdq amx_bf16 avx512_fp16 amx_tile amx_int8
        """
    /// Skylake-SP: AVX-512 without BF16 or VNNI.
    static let skylakeFlags = "sse sse2 avx avx2 fma f16c avx512f avx512dq avx512cd avx512bw avx512vl"
    /// A CPU before AVX (Nehalem).
    static let nehalemFlags = "sse sse2 ssse3 sse4_1 sse4_2 popcnt"

    @Test func featuresFromRecordedFlags() {
        let epyc = CPUFeatures(cpuinfoFlags: Self.epycFlags, vendor: "AuthenticAMD")
        #expect(epyc == [.avx, .avx2, .fma, .f16c, .amd])
        #expect(epyc.description == "AVX AVX2 FMA F16C")
        let emerald = CPUFeatures(cpuinfoFlags: Self.emeraldRapidsFlags, vendor: "GenuineIntel")
        #expect(emerald.isSuperset(of: CPUFeatures.avx512Core.union([.avx512vnni, .avx512bf16, .avxVNNI, .intel])))
        #expect(CPUFeatures(cpuinfoFlags: Self.nehalemFlags, vendor: "GenuineIntel") == [.intel])
        #expect(CPUFeatures(cpuinfoFlags: "", vendor: "").description == "none")
    }

    @Test func bestCorePerCPU() {
        #expect(BLASCore.best(for: CPUFeatures(cpuinfoFlags: Self.epycFlags, vendor: "AuthenticAMD")) == "Zen")
        #expect(BLASCore.best(for: CPUFeatures(cpuinfoFlags: Self.epycFlags, vendor: "GenuineIntel")) == "Haswell")
        #expect(
            BLASCore.best(for: CPUFeatures(cpuinfoFlags: Self.emeraldRapidsFlags, vendor: "GenuineIntel"))
                == "Cooperlake")
        #expect(BLASCore.best(for: CPUFeatures(cpuinfoFlags: Self.skylakeFlags, vendor: "GenuineIntel")) == "SkylakeX")
        #expect(BLASCore.best(for: CPUFeatures(cpuinfoFlags: "sse avx", vendor: "GenuineIntel")) == "Sandybridge")
        #expect(BLASCore.best(for: CPUFeatures(cpuinfoFlags: Self.nehalemFlags, vendor: "GenuineIntel")) == nil)
    }

    /// Debian's OpenBLAS 0.3.21 on Emerald Rapids picks Prescott: forced to Cooperlake. Where it
    /// picked right, where the user chose, or where it names a core this table doesn't know, nothing.
    @Test func coreToForce() {
        let emerald = CPUFeatures(cpuinfoFlags: Self.emeraldRapidsFlags, vendor: "GenuineIntel")
        let epyc = CPUFeatures(cpuinfoFlags: Self.epycFlags, vendor: "AuthenticAMD")
        let skylake = CPUFeatures(cpuinfoFlags: Self.skylakeFlags, vendor: "GenuineIntel")
        #expect(BLASCore.coreToForce(current: "Prescott", features: emerald, userSetting: nil) == "Cooperlake")
        #expect(BLASCore.coreToForce(current: "Haswell", features: emerald, userSetting: nil) == "Cooperlake")
        #expect(BLASCore.coreToForce(current: "Prescott", features: emerald, userSetting: "") == "Cooperlake")
        #expect(BLASCore.coreToForce(current: "Prescott", features: emerald, userSetting: "Haswell") == nil)
        #expect(BLASCore.coreToForce(current: "Cooperlake", features: emerald, userSetting: nil) == nil)
        #expect(BLASCore.coreToForce(current: "SapphireRapids", features: emerald, userSetting: nil) == nil)
        #expect(BLASCore.coreToForce(current: "NewCoreName", features: emerald, userSetting: nil) == nil)
        #expect(BLASCore.coreToForce(current: "Zen", features: epyc, userSetting: nil) == nil)
        #expect(BLASCore.coreToForce(current: "Prescott", features: epyc, userSetting: nil) == "Zen")
        #expect(BLASCore.coreToForce(current: "SkylakeX", features: skylake, userSetting: nil) == nil)
        #expect(BLASCore.coreToForce(current: "sandybridge", features: skylake, userSetting: nil) == "SkylakeX")
        let nehalem = CPUFeatures(cpuinfoFlags: Self.nehalemFlags, vendor: "GenuineIntel")
        #expect(BLASCore.coreToForce(current: "Prescott", features: nehalem, userSetting: nil) == nil)
    }

    /// The report line says who chose the running core.
    @Test func summaryNamesWhoChose() {
        let running = BLASCore.current
        let emerald = CPUFeatures(cpuinfoFlags: Self.emeraldRapidsFlags, vendor: "GenuineIntel")
        let chosen = BLASCore.summary(
            environment: [BLASCore.environmentKey: running, BLASCore.chosenMarkerKey: "Prescott"], features: emerald)
        #expect(chosen == "\(running) (chosen by lem; OpenBLAS picked Prescott)")
        let user = BLASCore.summary(environment: [BLASCore.environmentKey: "Prescott"], features: emerald)
        #expect(user.hasPrefix("\(running) (OPENBLAS_CORETYPE=Prescott"))
        if BLASCore.level(of: running) ?? 9 < 4 { #expect(user.hasSuffix("; this CPU could run Cooperlake)")) }
    }

    /// cpuid as the C side reads it agrees with the kernel's `/proc/cpuinfo` on this machine.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/cpuinfo"), "no /proc/cpuinfo here"))
    func currentMatchesProcCPUInfo() throws {
        let text = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        func field(_ name: String) -> String {
            let line = text.split(separator: "\n").first { $0.hasPrefix(name) } ?? ""
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        }
        let recorded = CPUFeatures(cpuinfoFlags: field("flags"), vendor: field("vendor_id"))
        #expect(CPUFeatures.current == recorded, "cpuid \(CPUFeatures.current), /proc/cpuinfo \(recorded)")
    }
}
