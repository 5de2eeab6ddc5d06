import Foundation
import LEMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Builds a `.safetensors` file and writes it atomically (temp file in the same folder + rename).
///
/// Used for LoRA adapters, fused models and test fixtures. Tensors are written in the order they
/// were added; the header lists them with `__metadata__` first and is padded with spaces to a
/// multiple of 8 bytes, as the reference implementation does, so f32 data stays 4-byte aligned.
public struct SafetensorsWriter: Sendable {
    private struct Entry: Sendable {
        var name: String
        var dtype: SafetensorsDType
        var shape: [Int]
        var bytes: [UInt8]
    }

    /// String metadata stored under `__metadata__` (omitted when empty).
    public var metadata: [String: String]
    private var entries: [Entry] = []
    private var names: Set<String> = []

    /// Creates an empty writer with the given `__metadata__`.
    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    /// The names added so far, in order.
    public var tensorNames: [String] { entries.map(\.name) }

    /// Adds a tensor from raw little-endian bytes already in `dtype`'s encoding.
    public mutating func add(_ name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) throws {
        guard name != "__metadata__", !name.isEmpty else {
            throw FormatError("safetensors writer: invalid tensor name '\(name)'")
        }
        guard !names.contains(name) else { throw FormatError("safetensors writer: tensor '\(name)' added twice") }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw FormatError("safetensors writer: tensor '\(name)': negative dimension in shape \(shape)")
        }
        let count = shape.reduce(1, *)
        guard bytes.count == count * dtype.size else {
            throw FormatError(
                "safetensors writer: tensor '\(name)': shape \(shape) of \(dtype.rawValue) needs \(count * dtype.size) bytes, got \(bytes.count)"
            )
        }
        names.insert(name)
        entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: bytes))
    }

    /// Adds a float tensor, converting to `dtype` (f32, f16, bf16 or f64; rounding to nearest even).
    public mutating func add(_ name: String, shape: [Int], floats: [Float], as dtype: SafetensorsDType = .f32) throws {
        guard floats.count == shape.reduce(1, *) else {
            throw FormatError(
                "safetensors writer: tensor '\(name)': shape \(shape) needs \(shape.reduce(1, *)) values, got \(floats.count)"
            )
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(floats.count * dtype.size)
        switch dtype {
        case .f32: for f in floats { appendLE(&bytes, f.bitPattern) }
        case .f16: for f in floats { appendLE(&bytes, HalfFloat.floatToF16(f)) }
        case .bf16: for f in floats { appendLE(&bytes, HalfFloat.floatToBF16(f)) }
        case .f64: for f in floats { appendLE(&bytes, Double(f).bitPattern) }
        default:
            throw FormatError(
                "safetensors writer: tensor '\(name)': cannot store floats as \(dtype.rawValue); use add(_:dtype:shape:bytes:)"
            )
        }
        try add(name, dtype: dtype, shape: shape, bytes: bytes)
    }

    /// Adds an integer tensor stored as `dtype` (any integer dtype; values must fit).
    public mutating func add(_ name: String, shape: [Int], integers: [Int], as dtype: SafetensorsDType) throws {
        guard integers.count == shape.reduce(1, *) else {
            throw FormatError(
                "safetensors writer: tensor '\(name)': shape \(shape) needs \(shape.reduce(1, *)) values, got \(integers.count)"
            )
        }
        let types: [SafetensorsDType: any FixedWidthInteger.Type] = [
            .i64: Int64.self, .i32: Int32.self, .i16: Int16.self, .i8: Int8.self, .u64: UInt64.self, .u32: UInt32.self,
            .u16: UInt16.self, .u8: UInt8.self, .bool: UInt8.self
        ]
        guard let type = types[dtype] else {
            throw FormatError("safetensors writer: tensor '\(name)': \(dtype.rawValue) is not an integer dtype")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(integers.count * dtype.size)
        for (i, v) in integers.enumerated() {
            guard appendLE(&bytes, v, as: type) else {
                throw FormatError(
                    "safetensors writer: tensor '\(name)': value \(v) at [\(i)] does not fit \(dtype.rawValue)")
            }
        }
        try add(name, dtype: dtype, shape: shape, bytes: bytes)
    }

    /// Copies a tensor from any loader by decoding it to `dtype` (f32 unless given).
    public mutating func add(_ tensor: any WeightTensor, as dtype: SafetensorsDType = .f32, name: String? = nil) throws
    {
        try add(name ?? tensor.name, shape: tensor.shape, floats: tensor.decodeAll(), as: dtype)
    }

    /// The JSON header, unpadded.
    func headerJSON() -> String {
        var parts: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(JSONText.quote($0)):\(JSONText.quote(metadata[$0]!))" }
            parts.append("\"__metadata__\":{\(items.joined(separator: ","))}")
        }
        var offset = 0
        for e in entries {
            let shape = e.shape.map(String.init).joined(separator: ",")
            parts.append(
                "\(JSONText.quote(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + e.bytes.count)]}"
            )
            offset += e.bytes.count
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// Writes the file atomically to `url`, replacing any existing file.
    public func write(to url: URL) throws {
        var header = Array(headerJSON().utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        let dir = url.deletingLastPathComponent()
        let temp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
            throw FormatError(url, "cannot create temporary file \(temp.lastPathComponent) in \(dir.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temp)
            var prefix: [UInt8] = []
            appendLE(&prefix, UInt64(header.count))
            try handle.write(contentsOf: prefix + header)
            for e in entries where !e.bytes.isEmpty { try handle.write(contentsOf: e.bytes) }
            try handle.synchronize()
            try handle.close()
            guard rename(temp.path, url.path) == 0 else {
                throw FormatError(url, "cannot rename temporary file into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temp)
            if let e = error as? FormatError { throw e }
            throw FormatError(url, "cannot write: \(error.localizedDescription)")
        }
    }

}

/// Appends `value`'s little-endian bytes.
@inline(__always)
func appendLE<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

/// Appends `value` as a little-endian `T`; false, appending nothing, when it does not fit.
func appendLE<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: Int, as type: T.Type) -> Bool {
    guard let x = T(exactly: value) else { return false }
    appendLE(&bytes, x)
    return true
}
