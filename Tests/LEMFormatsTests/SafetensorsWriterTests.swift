import Foundation
import LEMFormats
import TestSupport
import Testing

@Suite struct SafetensorsWriterTests {
    @Test func roundTripsEveryFloatDTypeAndMetadata() throws {
        let dir = TemporaryDirectory()
        let values: [Float] = [0, 1, -2.5, 0.1, 65504, 1e-7, -3.14159, 1000.5]
        var w = SafetensorsWriter(metadata: ["format": "mlx", "note": "a \"quoted\" value"])
        try w.add("model.f32", shape: [2, 4], floats: values)
        try w.add("model.f16", shape: [8], floats: values, as: .f16)
        try w.add("model.bf16", shape: [4, 2], floats: values, as: .bf16)
        try w.add("idx", shape: [3], integers: [1, -2, 3], as: .i64)
        let url = dir.url.appendingPathComponent("out.safetensors")
        try w.write(to: url)
        let f = try SafetensorsFile(url: url)
        #expect(f.metadata == ["format": "mlx", "note": "a \"quoted\" value"])
        #expect(try f.tensor("model.f32").decodeAll() == values)
        #expect(try f.tensor("idx").decodeAll() == [1, -2, 3])
        // 16-bit encodings round to nearest: relative error ≤ 2^-11 (f16, normal range) and 2^-8 (bf16).
        let f16 = try f.tensor("model.f16").decodeAll()
        for (a, e) in zip(f16, values) where abs(e) > 6.1e-5 {
            #expect(abs(a - e) <= abs(e) * 0x1p-11, "f16 \(e) -> \(a)")
        }
        let bf16 = try f.tensor("model.bf16").decodeAll()
        for (a, e) in zip(bf16, values) { #expect(abs(a - e) <= abs(e) * 0x1p-8, "bf16 \(e) -> \(a)") }
        // The header is padded so the data region starts 8-byte aligned.
        let headerLength = try Data(contentsOf: url).prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(headerLength % 8 == 0)
        // No temporary files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["out.safetensors"])
    }

    @Test func rewritingReplacesTheFile() throws {
        let dir = TemporaryDirectory()
        let url = dir.url.appendingPathComponent("a.safetensors")
        var w = SafetensorsWriter()
        try w.add("x", shape: [1], floats: [1])
        try w.write(to: url)
        var w2 = SafetensorsWriter()
        try w2.add("y", shape: [2], floats: [5, 6])
        try w2.write(to: url)
        #expect(try SafetensorsFile(url: url).names == ["y"])
    }

    @Test func rejectsBadInput() {
        var w = SafetensorsWriter()
        #expect(errorMessage { try w.add("x", shape: [2, 2], floats: [1, 2, 3]) }?.contains("tensor 'x'") == true)
        #expect(
            errorMessage { try w.add("u", shape: [1], integers: [300], as: .u8) }?.contains("does not fit U8") == true)
        try? w.add("x", shape: [1], floats: [1])
        #expect(errorMessage { try w.add("x", shape: [1], floats: [1]) }?.contains("added twice") == true)
    }

    @Test func halfConversionsRoundToNearestEven() {
        #expect(HalfFloat.floatToF16(1) == 0x3C00)
        #expect(HalfFloat.floatToF16(-2.5) == 0xC100)
        #expect(HalfFloat.floatToF16(65504) == 0x7BFF)
        #expect(HalfFloat.floatToF16(1e6) == 0x7C00)
        #expect(HalfFloat.floatToF16(0x1p-24) == 0x0001)  // smallest subnormal
        #expect(HalfFloat.floatToF16(1 + 0x1p-11) == 0x3C00)  // tie → even
        #expect(HalfFloat.floatToF16(1 + 3 * 0x1p-11) == 0x3C02)  // tie → even (up)
        #expect(HalfFloat.floatToBF16(1 + 0x1p-8) == 0x3F80)  // tie → even
        #expect(HalfFloat.floatToBF16(1 + 3 * 0x1p-8) == 0x3F82)
        // Every finite half survives f16 → f32 → f16.
        for h in UInt16(0)...UInt16.max where (h & 0x7C00) != 0x7C00 {
            if HalfFloat.floatToF16(HalfFloat.f16ToFloat(h)) != h {
                Issue.record("half \(h) does not round-trip")
                break
            }
        }
        #expect(HalfFloat.f16ToFloat(0x0001) == 0x1p-24)
        #expect(HalfFloat.f16ToFloat(0x7C00) == .infinity)
        #expect(HalfFloat.f16ToFloat(0x7E00).isNaN)
    }
}
