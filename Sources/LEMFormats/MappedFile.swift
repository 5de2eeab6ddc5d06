import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A read-only memory mapping of a whole file.
///
/// Tensors keep a reference to the mapping they decode from, so the pages stay mapped for as
/// long as any tensor is alive and are unmapped when the last one goes. The kernel pages the file
/// in on demand; nothing is copied into a `Data`.
public final class MappedFile: @unchecked Sendable {
    /// The file that is mapped.
    public let url: URL
    /// The file's size in bytes.
    public let size: Int
    /// The start of the mapping (nil for an empty file).
    private let base: UnsafeRawPointer?

    /// Maps `url` read-only; throws a `FormatError` naming the file when it cannot be opened.
    public init(url: URL) throws {
        self.url = url
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else {
            throw FormatError(url, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw FormatError(url, "cannot stat: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FormatError(url, "not a regular file") }
        size = Int(st.st_size)
        if size == 0 {
            base = nil
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw FormatError(url, "cannot memory-map: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// The mapped bytes; valid while this object is alive.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// A pointer `offset` bytes into the mapping. The caller must keep `offset` within `size`.
    @inline(__always)
    public func pointer(at offset: Int) -> UnsafeRawPointer { base! + offset }

    /// Reads a little-endian integer at `offset` (bounds are the caller's responsibility).
    @inline(__always)
    func load<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        T(littleEndian: base!.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
