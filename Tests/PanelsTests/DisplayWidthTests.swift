import Testing

@testable import Panels

@Suite struct DisplayWidthTests {
    @Test func asciiIsOneColumnAndControlsZero() {
        #expect(DisplayWidth.width(of: "hello") == 5)
        #expect(DisplayWidth.width(of: "a\tb") == 2)
    }

    @Test func cjkAndFullwidthAreTwoColumns() {
        #expect(DisplayWidth.width(of: "漢字") == 4)
        #expect(DisplayWidth.width(of: "한국어") == 6)
        #expect(DisplayWidth.width(of: "ＡＢ") == 4)
        #expect(DisplayWidth.width(of: "ｱｲ") == 2)  // halfwidth katakana stays narrow
    }

    @Test func emojiAndClusters() {
        #expect(DisplayWidth.width(of: "👍") == 2)
        #expect(DisplayWidth.width(of: "👨‍👩‍👧") == 2)  // ZWJ family is one cluster
        #expect(DisplayWidth.width(of: "🇫🇷") == 2)  // regional-indicator flag
        #expect(DisplayWidth.width(of: "❤️") == 2)  // text-default heart with VS16
        #expect(DisplayWidth.width(of: "❤") == 1)
        #expect(DisplayWidth.width(of: "👍🏽") == 2)  // skin-tone modifier
    }

    @Test func combiningMarksAddNothing() {
        #expect(DisplayWidth.width(of: "e\u{301}") == 1)
        #expect(DisplayWidth.width(of: "\u{200B}") == 0)
        #expect(DisplayWidth.width(of: "Z\u{0335}\u{0336}") == 1)
    }

    @Test func truncateRespectsWideCharacters() {
        #expect(DisplayWidth.truncate("漢字漢字", to: 5) == "漢字…")
        #expect(DisplayWidth.truncate("abc", to: 3) == "abc")
        #expect(DisplayWidth.truncate("abcd", to: 0) == "")
        #expect(DisplayWidth.pad("漢", to: 4) == "漢  ")
        #expect(DisplayWidth.pad("ab", to: 4, alignRight: true) == "  ab")
    }
}
