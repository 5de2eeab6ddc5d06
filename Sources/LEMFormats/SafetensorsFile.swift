import Foundation
import LEMCore

/// A memory-mapped `.safetensors` file with a validated header.
///
/// Layout: 8 bytes little-endian header length N, N bytes of JSON
/// (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`), then the
/// data region; offsets are relative to the data region. Opening checks everything a later read
/// relies on, so `decodeRow` never needs to: the header length fits the file, the JSON parses,
/// every dtype is known, `shape` product × dtype size equals the byte span, and the spans lie
/// inside the data region, do not overlap and cover it without holes.
public struct SafetensorsFile: Sendable {
    /// The file on disk.
    public let url: URL
    /// The mapping.
    public let file: MappedFile
    /// `__metadata__` (string → string), empty when absent.
    public let metadata: [String: String]
    /// Tensors by their name in the file.
    public let tensors: [String: SafetensorsTensor]
    /// Tensor names in data order.
    public let names: [String]

    /// Maps and validates `url`; throws a `FormatError` naming the file and tensor at fault.
    public init(url: URL) throws {
        let file = try MappedFile(url: url)
        self.url = url
        self.file = file
        guard file.size >= 8 else {
            throw FormatError(url, "too short for a safetensors file (\(file.size) bytes, need at least 8)")
        }
        let headerLength = file.load(UInt64.self, at: 0)
        guard headerLength <= UInt64(file.size - 8) else {
            throw FormatError(
                url,
                "header length \(headerLength) extends beyond the file (\(file.size) bytes; at most \(file.size - 8))")
        }
        let n = Int(headerLength)
        let headerData = Data(file.bytes[8..<8 + n])
        guard case .object(let header) = try JSONValue.parse(headerData, file: url, what: "safetensors header") else {
            throw FormatError(url, "safetensors header is not a JSON object")
        }
        let dataStart = 8 + n
        let dataSize = file.size - dataStart

        var metadata: [String: String] = [:]
        var entries: [(name: String, begin: Int, end: Int, shape: [Int], dtype: SafetensorsDType)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                // mlx writes `"__metadata__": null` in every adapters.safetensors it saves.
                if case .null = value { continue }
                guard case .object(let m) = value else { throw FormatError(url, "__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v.string else {
                        throw FormatError(url, "__metadata__ '\(k)' is \(v.kind), expected a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard case .object(let info) = value else {
                throw FormatError(url, tensor: name, "header entry is \(value.kind), expected an object")
            }
            guard let dtypeName = info["dtype"]?.string else {
                throw FormatError(url, tensor: name, "missing string 'dtype'")
            }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                let known = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
                throw FormatError(url, tensor: name, "unknown dtype '\(dtypeName)' (known: \(known))")
            }
            guard let dims = info["shape"]?.array, let shape = Optional(dims.compactMap(\.int)),
                shape.count == dims.count, shape.allSatisfy({ $0 >= 0 })
            else {
                throw FormatError(url, tensor: name, "'shape' must be an array of non-negative integers")
            }
            guard let offs = info["data_offsets"]?.array, offs.count == 2, let begin = offs[0].int,
                let end = offs[1].int, begin >= 0, begin <= end
            else {
                throw FormatError(url, tensor: name, "'data_offsets' must be [begin, end] with 0 <= begin <= end")
            }
            guard end <= dataSize else {
                throw FormatError(
                    url, tensor: name,
                    "data_offsets [\(begin), \(end)] extend beyond the data region (\(dataSize) bytes)")
            }
            // Zero dimensions count as 1 here, so no partial product (rows, columns) can overflow.
            var nonzero = 1
            for d in shape {
                let (p, overflow) = nonzero.multipliedReportingOverflow(by: max(d, 1))
                guard !overflow else { throw FormatError(url, tensor: name, "shape \(shape) overflows") }
                nonzero = p
            }
            let count = shape.contains(0) ? 0 : nonzero
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, bytes == end - begin else {
                throw FormatError(
                    url, tensor: name,
                    "shape \(shape) of \(dtypeName) needs \(count) × \(dtype.size) bytes but data_offsets [\(begin), \(end)] span \(end - begin)"
                )
            }
            entries.append((name, begin, end, shape, dtype))
        }

        // Spans must tile the data region exactly: sorted, each starting where the last ended.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var cursor = 0
        var previous = "the start of the data region"
        for e in entries {
            if e.begin < cursor {
                throw FormatError(
                    url, tensor: e.name,
                    "data_offsets [\(e.begin), \(e.end)] overlap \(previous) (which ends at \(cursor))")
            }
            if e.begin > cursor {
                throw FormatError(
                    url, tensor: e.name,
                    "data_offsets [\(e.begin), \(e.end)] leave a hole of \(e.begin - cursor) bytes after \(previous)")
            }
            cursor = e.end
            previous = "tensor '\(e.name)'"
        }
        if cursor != dataSize {
            throw FormatError(
                url,
                "tensors cover \(cursor) bytes of the \(dataSize)-byte data region (trailing bytes after \(previous))")
        }

        var tensors: [String: SafetensorsTensor] = [:]
        for e in entries {
            tensors[e.name] = SafetensorsTensor(
                name: e.name, shape: e.shape, dtype: e.dtype, file: file, offset: dataStart + e.begin)
        }
        self.metadata = metadata
        self.tensors = tensors
        self.names = entries.map(\.name)
    }

    /// The tensor called `name`, or an error naming it and this file.
    public func tensor(_ name: String) throws -> SafetensorsTensor {
        guard let t = tensors[name] else { throw FormatError(url, tensor: name, "not found in this file") }
        return t
    }
}
