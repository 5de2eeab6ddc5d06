import Foundation

/// A dictionary key comparing strings byte for byte (Swift `String` equality is canonical
/// equivalence, which would merge distinct vocabulary entries such as "é" and "e\u{301}").
public struct PieceKey: Hashable, Sendable {
    /// The piece text.
    public let text: String

    /// Wraps a piece.
    public init(_ text: String) { self.text = text }

    public static func == (a: PieceKey, b: PieceKey) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }

    public func hash(into hasher: inout Hasher) {
        var copy = text
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
