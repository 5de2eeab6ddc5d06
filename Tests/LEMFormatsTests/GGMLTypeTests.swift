import Foundation
import LEMFormats
import TestSupport
import Testing

/// Block decoders against gguf-py's `gguf.quants.dequantize` (Scripts/fixtures_gguf_blocks.py).
@Suite struct GGMLTypeTests {
    struct Case: Decodable {
        var type: String
        var source: String
        var tensor: String?
        var rows: [Int]?
        var columns: Int
    }

    static let blocks = TestPaths.fixture("formats/gguf_blocks.safetensors")
    static let index: [String: Case] = {
        let data = (try? Data(contentsOf: TestPaths.fixture("formats/gguf_blocks.json"))) ?? Data("{}".utf8)
        return (try? JSONDecoder().decode([String: Case].self, from: data)) ?? [:]
    }()

    static func type(named name: String) -> GGMLType? {
        GGMLType.allCases.first { $0.name.uppercased() == name.uppercased() }
    }

    @Test func fixtureIndexCoversEveryDecodableType() {
        let covered = Set(Self.index.values.compactMap { Self.type(named: $0.type) })
        let decodable: Set<GGMLType> = [
            .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K
        ]
        #expect(decodable.isSubset(of: covered), "missing: \(decodable.subtracting(covered))")
    }

    /// Decoding the stored bytes reproduces gguf-py bit for bit.
    @Test(arguments: index.keys.sorted())
    func decodesBitExactly(_ name: String) throws {
        let c = try #require(Self.index[name])
        let type = try #require(Self.type(named: c.type), "unknown type \(c.type)")
        let f = try SafetensorsFile(url: Self.blocks)
        let raw = try f.tensor("\(name).raw")
        let expected = try f.tensor("\(name).expected")
        #expect(raw.shape[1] == type.rowBytes(c.columns))
        var row = [Float](repeating: .nan, count: c.columns)
        var want = row
        for r in 0..<raw.shape[0] {
            type.dequantizeRow(raw.rawBytes.baseAddress! + r * raw.shape[1], count: c.columns, into: &row)
            expected.decodeRow(r, into: &want)
            let same = zip(row, want).allSatisfy { $0.bitPattern == $1.bitPattern }
            #expect(same, "\(name) row \(r): \(compare(row, want))")
        }
    }

    /// Rows read from the installed models through the GGUF reader equal the fixture's (offsets,
    /// shapes and decoders together).
    @Test(
        .enabled(if: TestPaths.smolLM2 != nil && TestPaths.gemma3 != nil, "models not installed: run Scripts/setup.sh"),
        arguments: index.keys.sorted().filter { !$0.hasPrefix("synthetic") })
    func realModelRowsMatch(_ name: String) throws {
        let c = try #require(Self.index[name])
        let model = c.source.hasPrefix("SmolLM2") ? TestPaths.smolLM2! : TestPaths.gemma3!
        let g = try GGUFFile(url: model)
        let info = try #require(g.tensorInfos.first { $0.name == c.tensor })
        let t = GGUFTensor(name: info.name, info: info, file: g.file)
        let expected = try SafetensorsFile(url: Self.blocks).tensor("\(name).expected")
        var row = [Float](repeating: .nan, count: t.columns)
        var want = row
        for (i, r) in (c.rows ?? []).enumerated() {
            t.decodeRow(r, into: &row)
            expected.decodeRow(i, into: &want)
            #expect(checkClose(row, want, tol: 0, label: "\(name) row \(r)") == nil)
        }
    }
}
