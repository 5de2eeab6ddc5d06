import Foundation

/// A memory-mapped GGUF file (versions 2 and 3): metadata, tensor directory and data section.
///
/// Layout: magic `GGUF`, u32 version, u64 tensor count, u64 metadata count, the key/value pairs
/// (u64-length strings, typed values, arrays with an element type and u64 count), the tensor
/// infos (name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset), then padding to
/// `general.alignment` (default 32) and the data section. Offsets are relative to the data
/// section. `ne[0]` is the contiguous dimension, so the logical (Hugging Face) shape is `ne`
/// reversed. Opening checks every extent, so decoding never reads outside the file.
public struct GGUFFile: Sendable {
    /// One entry of the tensor directory, in GGUF's own terms.
    public struct TensorInfo: Sendable, Equatable {
        /// The GGUF tensor name (`blk.0.attn_q.weight`).
        public var name: String
        /// Dimensions, contiguous first (`ne[0]` is the row length).
        public var ne: [Int]
        public var type: GGMLType
        /// Absolute byte offset in the file.
        public var offset: Int
        /// Bytes the tensor occupies.
        public var byteCount: Int
        /// Elements in total.
        public var elementCount: Int { ne.reduce(1, *) }
    }

    public let url: URL
    public let file: MappedFile
    /// 2 or 3.
    public let version: Int
    /// Every metadata key and value.
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// The tensor directory in file order.
    public let tensorInfos: [TensorInfo]
    /// `general.alignment` (default 32).
    public let alignment: Int
    /// Absolute offset of the data section.
    public let dataOffset: Int

    /// Maps and parses `url`; throws a `FormatError` naming the file (and tensor or key) at fault.
    public init(url: URL) throws {
        let file = try MappedFile(url: url)
        self.url = url
        self.file = file
        var r = Reader(file: file, url: url)
        let magic = try r.bytes(4, what: "magic")
        guard magic == Array("GGUF".utf8) else {
            let shown = magic.map { (0x20..<0x7F).contains($0) ? String(UnicodeScalar($0)) : "." }.joined()
            throw FormatError(url, "not a GGUF file: magic is '\(shown)', expected 'GGUF'")
        }
        let version = Int(try r.u32(what: "version"))
        guard version == 2 || version == 3 else {
            throw FormatError(url, "unsupported GGUF version \(version) (supported: 2, 3)")
        }
        self.version = version
        let tensorCount = try r.u64(what: "tensor count")
        let kvCount = try r.u64(what: "metadata count")
        // Every entry needs several bytes, so counts beyond the file size are corrupt.
        guard tensorCount <= UInt64(file.size), kvCount <= UInt64(file.size) else {
            throw FormatError(
                url, "header claims \(tensorCount) tensors and \(kvCount) metadata entries, more than the file can hold"
            )
        }

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for _ in 0..<Int(kvCount) {
            let key = try r.string(what: "metadata key")
            let shown = ErrorText.clip(key)  // the key as messages quote it
            let type = try r.u32(what: "type of metadata '\(shown)'")
            let value = try r.value(type: type, key: shown, depth: 0)
            if metadata.updateValue(value, forKey: key) != nil {
                throw FormatError(url, "metadata key '\(shown)' appears twice")
            }
            keys.append(key)
        }
        self.metadata = metadata
        self.metadataKeys = keys

        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard let v = a.int, v > 0, v & (v - 1) == 0 else {
                throw FormatError(url, "general.alignment must be a positive power of two, found \(a.summary)")
            }
            alignment = v
        }
        self.alignment = alignment

        var raw: [(name: String, ne: [Int], type: UInt32, offset: UInt64)] = []
        for i in 0..<Int(tensorCount) {
            let name = try r.string(what: "name of tensor \(i)")
            let shown = ErrorText.clip(name)
            let nDims = try r.u32(what: "n_dims of tensor '\(shown)'")
            guard (1...8).contains(nDims) else {
                throw FormatError(url, tensor: name, "has \(nDims) dimensions (expected 1 to 8)")
            }
            var ne: [Int] = []
            for d in 0..<Int(nDims) {
                let n = try r.u64(what: "ne[\(d)] of tensor '\(shown)'")
                guard n <= UInt64(Int32.max) * 64 else {
                    throw FormatError(url, tensor: name, "dimension \(d) is \(n), too large")
                }
                ne.append(Int(n))
            }
            let type = try r.u32(what: "type of tensor '\(shown)'")
            let offset = try r.u64(what: "offset of tensor '\(shown)'")
            raw.append((name, ne, type, offset))
        }
        let dataOffset = (r.position + alignment - 1) / alignment * alignment
        self.dataOffset = dataOffset

        var infos: [TensorInfo] = []
        var seen = Set<String>()
        for t in raw {
            guard seen.insert(t.name).inserted else {
                throw FormatError(url, tensor: t.name, "appears twice in the tensor directory")
            }
            guard let type = GGMLType(rawValue: t.type) else {
                throw FormatError(url, tensor: t.name, "unknown ggml type \(t.type)")
            }
            guard type.isDecodable else {
                throw FormatError(
                    url, tensor: t.name, "ggml type \(type.name) is not a storage type this reader decodes")
            }
            // Zero dimensions count as 1 here, so no partial product (rows, columns) can overflow.
            var nonzero = 1
            for n in t.ne {
                let (p, o) = nonzero.multipliedReportingOverflow(by: max(n, 1))
                guard !o else { throw FormatError(url, tensor: t.name, "shape \(t.ne) overflows") }
                nonzero = p
            }
            let count = t.ne.contains(0) ? 0 : nonzero
            guard t.ne[0] % type.blockSize == 0 else {
                throw FormatError(
                    url, tensor: t.name,
                    "row length ne[0] = \(t.ne[0]) is not a multiple of the \(type.name) block size \(type.blockSize)")
            }
            let (bytes, tooBig) = (count / type.blockSize).multipliedReportingOverflow(by: type.typeSize)
            guard !tooBig else { throw FormatError(url, tensor: t.name, "shape \(t.ne) is too large") }
            guard t.offset % UInt64(alignment) == 0 else {
                throw FormatError(
                    url, tensor: t.name, "data offset \(t.offset) is not a multiple of the alignment \(alignment)")
            }
            guard dataOffset <= file.size, t.offset <= UInt64(file.size - dataOffset),
                bytes <= file.size - dataOffset - Int(t.offset)
            else {
                throw FormatError(
                    url, tensor: t.name,
                    "data [\(t.offset), \(t.offset.addingReportingOverflow(UInt64(bytes)).partialValue)) relative to the data section at \(dataOffset) extends beyond the file (\(file.size) bytes)"
                )
            }
            infos.append(
                TensorInfo(name: t.name, ne: t.ne, type: type, offset: dataOffset + Int(t.offset), byteCount: bytes))
        }
        // Spans must not overlap (a changed type or shape could make two tensors share bytes).
        var previous: TensorInfo?
        for t in infos.sorted(by: { ($0.offset, $0.byteCount) < ($1.offset, $1.byteCount) }) {
            if let p = previous, t.offset < p.offset + p.byteCount {
                throw FormatError(
                    url, tensor: t.name,
                    "data at \(t.offset) overlaps tensor '\(ErrorText.clip(p.name))' (bytes \(p.offset) to \(p.offset + p.byteCount))"
                )
            }
            if previous == nil || t.offset + t.byteCount > previous!.offset + previous!.byteCount { previous = t }
        }
        self.tensorInfos = infos
    }

    /// The general architecture (`general.architecture`), e.g. `llama`, `gemma3`, `qwen2`.
    public var architecture: String? { metadata["general.architecture"]?.string }

    /// Metadata accessors by type; nil when the key is absent or of another type.
    public func string(_ key: String) -> String? { metadata[key]?.string }
    public func int(_ key: String) -> Int? { metadata[key]?.int }
    public func double(_ key: String) -> Double? { metadata[key]?.double }
    public func bool(_ key: String) -> Bool? { metadata[key]?.bool }
    public func stringArray(_ key: String) -> [String]? { metadata[key]?.stringArray }
    public func floatArray(_ key: String) -> [Float]? { metadata[key]?.floatArray }
    public func intArray(_ key: String) -> [Int]? { metadata[key]?.intArray }
}

/// A bounds-checked little-endian cursor over the mapped header.
private struct Reader {
    let file: MappedFile
    let url: URL
    var position = 0

    mutating func need(_ n: Int, what: String) throws {
        guard n >= 0, position <= file.size - n else {
            throw FormatError(
                url, "truncated: reading \(what) at byte \(position) needs \(n) bytes, file has \(file.size)")
        }
    }

    mutating func bytes(_ n: Int, what: String) throws -> [UInt8] {
        try need(n, what: what)
        defer { position += n }
        return Array(file.bytes[position..<position + n])
    }

    mutating func int<T: FixedWidthInteger>(_ type: T.Type, what: String) throws -> T {
        try need(MemoryLayout<T>.size, what: what)
        defer { position += MemoryLayout<T>.size }
        return file.load(T.self, at: position)
    }

    mutating func u32(what: String) throws -> UInt32 { try int(UInt32.self, what: what) }
    mutating func u64(what: String) throws -> UInt64 { try int(UInt64.self, what: what) }

    mutating func string(what: String) throws -> String {
        let n = try u64(what: "length of \(what)")
        guard n <= UInt64(file.size) else {
            throw FormatError(url, "\(what) at byte \(position - 8) claims length \(n), beyond the file")
        }
        try need(Int(n), what: what)
        defer { position += Int(n) }
        let buffer = UnsafeRawBufferPointer(rebasing: file.bytes[position..<position + Int(n)])
        return String(decoding: buffer, as: UTF8.self)
    }

    mutating func value(type: UInt32, key: String, depth: Int) throws -> GGUFValue {
        guard let code = GGUFValue.TypeCode(rawValue: type) else {
            throw FormatError(url, "metadata '\(key)' has unknown value type \(type)")
        }
        let what = "value of metadata '\(key)'"
        switch code {
        case .uint8: return .uint8(try int(UInt8.self, what: what))
        case .int8: return .int8(try int(Int8.self, what: what))
        case .uint16: return .uint16(try int(UInt16.self, what: what))
        case .int16: return .int16(try int(Int16.self, what: what))
        case .uint32: return .uint32(try int(UInt32.self, what: what))
        case .int32: return .int32(try int(Int32.self, what: what))
        case .uint64: return .uint64(try int(UInt64.self, what: what))
        case .int64: return .int64(try int(Int64.self, what: what))
        case .float32: return .float32(Float(bitPattern: try int(UInt32.self, what: what)))
        case .float64: return .float64(Double(bitPattern: try int(UInt64.self, what: what)))
        case .bool:
            let b = try int(UInt8.self, what: what)
            guard b <= 1 else { throw FormatError(url, "metadata '\(key)': bool byte is \(b), expected 0 or 1") }
            return .bool(b == 1)
        case .string: return .string(try string(what: what))
        case .array:
            guard depth < 8 else { throw FormatError(url, "metadata '\(key)': arrays nested too deeply") }
            let elementType = try u32(what: "element type of metadata '\(key)'")
            let count = try u64(what: "length of metadata '\(key)'")
            // Each element takes at least one byte: a larger count cannot fit.
            guard count <= UInt64(file.size - position) else {
                throw FormatError(url, "metadata '\(key)': array length \(count) exceeds the file")
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<Int(count) { items.append(try value(type: elementType, key: key, depth: depth + 1)) }
            return .array(elementType: elementType, items)
        }
    }
}
