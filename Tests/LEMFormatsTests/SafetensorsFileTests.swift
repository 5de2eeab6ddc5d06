import Foundation
import LEMFormats
import TestSupport
import Testing

@Suite struct SafetensorsFileTests {
    /// Little-endian bytes of f32 values.
    func f32Bytes(_ v: [Float]) -> [UInt8] {
        v.flatMap { f in withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } }
    }

    @Test func readsHandWrittenFileAndMetadata() throws {
        let dir = TemporaryDirectory()
        // b: f16 [1, 2] = 1.0, -2.5 ; a: f32 [2, 2]
        let half: [UInt8] = [0x00, 0x3C, 0x00, 0xC1]
        let url = dir.writeSafetensors(
            "m.safetensors",
            header:
                #"{"__metadata__":{"format":"pt"},"b":{"dtype":"F16","shape":[1,2],"data_offsets":[16,20]},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#,
            data: f32Bytes([1, 2, 3, 4]) + half)
        let f = try SafetensorsFile(url: url)
        #expect(f.metadata == ["format": "pt"])
        #expect(f.names == ["a", "b"])
        let a = try f.tensor("a")
        #expect(a.shape == [2, 2] && a.encoding == "f32" && a.storedBytes == 16)
        #expect(a.decodeAll() == [1, 2, 3, 4])
        var row = [Float](repeating: 0, count: 2)
        a.decodeRow(1, into: &row)
        #expect(row == [3, 4])
        #expect(try f.tensor("b").decodeAll() == [1, -2.5])
        #expect(errorMessage { _ = try f.tensor("zz") }?.contains("'zz'") == true)
    }

    @Test func bf16AndIntegerDTypesDecode() throws {
        let dir = TemporaryDirectory()
        // bf16 0x3FC0 = 1.5, 0xC000 = -2 ; i32 [-7] ; u8 [200]
        let data: [UInt8] = [0xC0, 0x3F, 0x00, 0xC0] + [0xF9, 0xFF, 0xFF, 0xFF] + [200]
        let url = dir.writeSafetensors(
            "m.safetensors",
            header:
                #"{"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"i":{"dtype":"I32","shape":[1],"data_offsets":[4,8]},"u":{"dtype":"U8","shape":[],"data_offsets":[8,9]}}"#,
            data: data)
        let f = try SafetensorsFile(url: url)
        #expect(try f.tensor("x").decodeAll() == [1.5, -2])
        #expect(try f.tensor("i").decodeAll() == [-7])
        let u = try f.tensor("u")
        #expect(u.shape == [] && u.decodeAll() == [200] && Array(u.rawBytes) == [200])
    }

    /// Each corrupt file must fail with a message naming the file and the problem.
    @Test(arguments: [
        ("short", #"{}"#, [UInt8](), UInt64?(nil), "too short"),
        ("beyond", #"{}"#, [], UInt64?(1000), "header length 1000 extends beyond the file"),
        ("json", #"{"a": [1, 2"#, [], nil, "not valid JSON"),
        (
            "dtype", #"{"w":{"dtype":"F12","shape":[1],"data_offsets":[0,4]}}"#, [0, 0, 0, 0], nil,
            "tensor 'w': unknown dtype 'F12'"
        ),
        (
            "span", #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, [0, 0, 0, 0], nil,
            "tensor 'w': shape [2] of F32 needs 2 × 4 bytes"
        ),
        (
            "outside", #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, [0, 0, 0, 0], nil,
            "tensor 'w': data_offsets [0, 8] extend beyond the data region (4 bytes)"
        ),
        (
            "overlap",
            #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            [UInt8](repeating: 0, count: 8), nil, "tensor 'v': data_offsets [4, 8] overlap tensor 'w'"
        ),
        (
            "hole", #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, [UInt8](repeating: 0, count: 8), nil,
            "tensor 'w': data_offsets [4, 8] leave a hole of 4 bytes"
        ),
        (
            "trailing", #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, [UInt8](repeating: 0, count: 8),
            nil, "tensors cover 4 bytes of the 8-byte data region"
        ),
        (
            "shape", #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, [0, 0, 0, 0], nil,
            "tensor 'w': 'shape' must be an array of non-negative integers"
        )
    ])
    func corruptFilesNameFileAndProblem(_ c: (String, String, [UInt8], UInt64?, String)) {
        let dir = TemporaryDirectory()
        let url: URL
        if c.0 == "short" {
            url = dir.write("short.safetensors", [1, 2, 3])
        } else {
            url = dir.writeSafetensors("\(c.0).safetensors", header: c.1, data: c.2, headerLength: c.3)
        }
        let message = errorMessage { _ = try SafetensorsFile(url: url) }
        #expect(message?.contains(url.path) == true, "\(message ?? "no error")")
        #expect(message?.contains(c.4) == true, "\(message ?? "no error")")
    }

    @Test func truncatedWrittenFileIsRejected() throws {
        let dir = TemporaryDirectory()
        var w = SafetensorsWriter()
        try w.add("w", shape: [4, 4], floats: (0..<16).map(Float.init))
        let url = dir.url.appendingPathComponent("t.safetensors")
        try w.write(to: url)
        let bytes = try Data(contentsOf: url)
        let cut = dir.write("cut.safetensors", Array(bytes.dropLast(10)))
        let message = errorMessage { _ = try SafetensorsFile(url: cut) }
        #expect(
            message?.contains("cut.safetensors") == true && message?.contains("tensor 'w'") == true, "\(message ?? "")")
    }
}
