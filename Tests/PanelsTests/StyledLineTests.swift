import Testing

@testable import Panels

@Suite struct StyledLineTests {
    @Test func aLineBreakInTheTextBreaksTheLineAndNeverGluesWords() {
        var line = StyledLine()
        for piece in ["The", " principle", " of", "\n", "responsibility", " holds", ".\n\n", "Next"] {
            line.append(piece, .role(.text))
        }
        #expect(line.wrapped(to: 40).map(\.text) == ["The principle of", "responsibility holds.", "", "Next"])
        #expect(StyledLine("a\r\nb").wrapped(to: 10).map(\.text) == ["a", "b"])
        #expect(StyledLine("one two\nthree", .role(.text)).wrapped(to: 5).map(\.text) == ["one ", "two", "three"])
    }
}
