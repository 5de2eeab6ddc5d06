import Testing

@testable import Panels

@Suite struct ScreenBufferTests {
    @Test func zeroSizeBufferAcceptsAllWrites() {
        var b = ScreenBuffer(width: 0, height: 0)
        b.put("hello", x: 0, y: 0)
        b.fill(Rect(x: -3, y: -3, width: 10, height: 10), with: Cell("x"))
        b.set(5, 5, Cell("y"))
        #expect(b.lines.isEmpty)
        #expect(ScreenBuffer(width: -2, height: 3).width == 0)
    }

    @Test func wideCharactersTakeTwoCellsAndAreClipped() {
        var b = ScreenBuffer(width: 5, height: 1)
        let next = b.put("a漢字", x: 0, y: 0)
        #expect(next == 5)
        #expect(b.line(0) == "a漢字")
        #expect(b[2, 0]?.isContinuation == true)
        // A wide character that would straddle the edge becomes a space.
        var c = ScreenBuffer(width: 4, height: 1)
        c.put("ab漢字", x: 1, y: 0)
        #expect(c.line(0) == " ab ")
    }

    @Test func overwritingHalfAWideCharacterBlanksTheOtherHalf() {
        var b = ScreenBuffer(width: 4, height: 1)
        b.put("漢字", x: 0, y: 0)
        b.put("x", x: 1, y: 0)
        #expect(b.line(0) == " x字")
        b.put("y", x: 2, y: 0)
        #expect(b.line(0) == " xy ")
    }

    @Test func negativeStartClipsOnTheLeft() {
        var b = ScreenBuffer(width: 4, height: 1)
        b.put("abcdef", x: -2, y: 0)
        #expect(b.line(0) == "cdef")
    }

    @Test func resizeKeepsTheTopLeftAndNeverSplitsWideCharacters() {
        var b = ScreenBuffer(width: 6, height: 2)
        b.put("ab漢字", x: 0, y: 0)
        b.resize(width: 3, height: 3)
        #expect(b.lines == ["ab ", "   ", "   "])
        b.resize(width: 0, height: 0)
        #expect(b.cells.isEmpty)
    }

    @Test func snapshotListsStyleRuns() {
        var b = ScreenBuffer(width: 6, height: 2)
        b.put("hi", x: 1, y: 0, style: .role(.accent, .bold))
        b.put("漢", x: 0, y: 1, style: Style(fg: .heat(10), bg: .role(.selection)))
        #expect(b.snapshot == "size 6x2\n| hi   |\n|漢    |\nstyles\n0: 1-2 accent/-/bold\n1: 0-1 heat10/selection\n")
    }

    @Test func wrapBreaksAtSpacesAndInsideLongWords() {
        let l = StyledLine("the quick brown fox")
        #expect(l.wrapped(to: 10).map(\.text) == ["the quick ", "brown fox"])
        #expect(StyledLine("abcdefghij").wrapped(to: 4).map(\.text) == ["abcd", "efgh", "ij"])
        #expect(StyledLine("漢字漢字漢").wrapped(to: 5).map(\.text) == ["漢字", "漢字", "漢"])
        #expect(
            StyledLine("- item one two", .plain).wrapped(to: 8, indent: 2).map(\.text) == ["- item ", "  one ", "  two"]
        )
        #expect(StyledLine("x").wrapped(to: 0).isEmpty)
    }
}
