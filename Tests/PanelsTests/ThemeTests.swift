import Foundation
import Testing

@testable import Panels

@Suite struct ThemeTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func shippedThemeFilesParseAndMatchTheBuiltins() throws {
        for name in Theme.builtinNames {
            let url = Self.repo.appendingPathComponent("themes/\(name).theme")
            let text = try String(contentsOf: url, encoding: .utf8)
            let fromFile = try Theme.dark.overriding(with: text, source: url.path, name: name)
            #expect(fromFile == Theme.builtin(name), "themes/\(name).theme differs from the built-in copy")
        }
        #expect(Theme.builtinNames.count >= 4)
        // The dark theme names every role, so every other theme is complete.
        for role in Role.allCases { #expect(Theme.dark.colors[role] != nil, "dark theme lacks \(role.rawValue)") }
    }

    @Test func userOverridesOnlyWhatTheyName() throws {
        let t = try Theme.dark.overriding(with: "# mine\nborder.focus = #ff0000\ntext = default\n", source: "user")
        #expect(t.color(.borderFocus) == RGB(255, 0, 0))
        #expect(t.color(.text) == nil)
        #expect(t.color(.lossVal) == Theme.dark.color(.lossVal))
    }

    @Test func badLinesNameFileLineAndProblem() {
        #expect(throws: ConfigError(source: "t", line: 2, "unknown colour role 'border.fokus'")) {
            try Theme.parse("text = #ffffff\nborder.fokus = #000000", source: "t")
        }
        #expect(throws: ConfigError(source: "t", line: 1, "colour for 'text' must be #rrggbb or default, got 'blue'")) {
            try Theme.parse("text = blue", source: "t")
        }
        #expect(throws: ConfigError.self) { try Theme.parse("nonsense", source: "t") }
    }

    @Test func heatScaleRunsLowMidHigh() {
        let t = Theme.dark
        #expect(t.heat(0) == t.color(.heatLow))
        #expect(t.heat(255) == t.color(.heatHigh))
        #expect(t.resolve(.heat(128)) != nil)
    }

    @Test func colourDegradation() {
        #expect(ColorDepth.xterm256(RGB(255, 0, 0)) == 196)
        #expect(ColorDepth.xterm256(RGB(0, 0, 0)) == 16)
        #expect(ColorDepth.xterm256(RGB(128, 128, 128)) == 244)
        #expect(ColorDepth.xterm256(RGB(0x5f, 0xaf, 0xff)) == 75)
        #expect(ColorDepth.ansi8(RGB(255, 0, 0)) == 1)
        #expect(ColorDepth.ansi8(RGB(0x5f, 0xaf, 0xff)) == 4)
        #expect(ColorDepth.ansi8(RGB(0x5f, 0xd7, 0xd7)) == 6)
        #expect(ColorDepth.ansi8(RGB(0xd0, 0xd0, 0xd0)) == 7)
        #expect(ColorDepth.ansi8(RGB(0x1c, 0x1c, 0x1c)) == 0)
        #expect(ColorDepth.ansi8(RGB(255, 255, 0)) == 3)
        for i in 16..<256 { #expect(ColorDepth.xterm256(ColorDepth.rgbOfXterm256(i)) == i || i >= 232) }
    }

    @Test func eightColoursNeverDrawTextInItsBackgroundsColour() throws {
        // Dim grey on a dark (default) screen was drawn black (ESC[30m): it is the default colour now.
        #expect(ColorDepth.ansi8(RGB(0x80, 0x80, 0x80)) == 0)
        #expect(ColorDepth.ansi8Foreground(RGB(0x80, 0x80, 0x80), on: nil) == nil)
        #expect(ColorDepth.ansi8Foreground(RGB(0xd0, 0xd0, 0xd0), on: nil) == 7)
        #expect(ColorDepth.ansi8Foreground(RGB(0x1c, 0x1c, 0x1c), on: RGB(255, 255, 255)) == 0)
        #expect(ColorDepth.ansi8Foreground(RGB(0xf0, 0xf0, 0xf0), on: RGB(255, 255, 255)) == 0)
        for name in Theme.builtinNames {
            let theme = try #require(Theme.builtin(name))
            let background = theme.color(.background)
            let under = background.map(ColorDepth.ansi8) ?? 0
            for role in Role.allCases {
                guard let fg = theme.color(role) else { continue }
                #expect(
                    ColorDepth.ansi8Foreground(fg, on: background).map { $0 != under } ?? (under == 0),
                    "\(name) \(role)")
            }
        }
    }

    @Test func theLightThemeSetsItsOwnBackground() throws {
        let light = try #require(Theme.builtin("light"))
        #expect(light.color(.background) == RGB(255, 255, 255))
        #expect(Theme.dark.color(.background) == nil)
    }

    @Test func depthDetectionHonoursNoColor() {
        #expect(ColorDepth.detect(environment: ["NO_COLOR": ""], colors: 256) == .none)
        #expect(ColorDepth.detect(environment: [:], colors: 256) == .xterm256)
        #expect(ColorDepth.detect(environment: [:], colors: 8) == .ansi8)
        #expect(ColorDepth.detect(environment: [:], colors: 0x1000000) == .truecolor)
        #expect(
            ColorDepth.directTerm(environment: ["COLORTERM": "truecolor", "TERM": "xterm-256color"]) == "xterm-direct")
        #expect(
            ColorDepth.directTerm(environment: ["COLORTERM": "truecolor", "TERM": "xterm-256color", "NO_COLOR": "1"])
                == nil)
    }
}

@Suite struct KeyMapTests {
    @Test func shippedKeyFileMatchesTheBuiltins() throws {
        let url = ThemeTests.repo.appendingPathComponent("keys/default.keys")
        let text = try String(contentsOf: url, encoding: .utf8)
        let parsed = try KeyMap.parse(text, source: url.path, known: nil)
        let fromFile = KeyMap(bindings: Dictionary(parsed.map { ($0.action, $0.keys) }, uniquingKeysWith: { $1 }))
        #expect(fromFile == KeyMap.builtin)
        #expect(KeyMap.builtin.action(for: .ctrl("p"), in: "global") == "palette")
        #expect(KeyMap.builtin.action(for: .char("?"), in: "global") == "help")
    }

    @Test func keyNamesRoundTrip() {
        for name in ["q", "Q", "?", "ctrl-p", "alt-enter", "backtab", "f1", "pgdn", "space", "ctrl-right", ":"] {
            #expect(KeyEvent(name: name)?.name == name, "\(name)")
        }
        #expect(KeyEvent(name: "Ctrl-P") == .ctrl("p"))
        #expect(KeyEvent(name: "shift-tab") == KeyEvent(.backTab))
        #expect(KeyEvent(name: "hyper-x") == nil)
        #expect(KeyEvent(name: "f99") == nil)
    }

    @Test func userFileOverridesOnlyNamedActions() throws {
        let k = try KeyMap.builtin.overriding(with: "global.quit = ctrl-x\n", source: "keys")
        #expect(k.action(for: .ctrl("x"), in: "global") == "quit")
        #expect(k.action(for: .char("q"), in: "global") == nil)
        #expect(k.action(for: .ctrl("p"), in: "global") == "palette")
    }

    @Test func unknownActionsAndKeysAreErrorsWithTheirNames() {
        #expect(throws: ConfigError(source: "keys", line: 1, "unknown action 'global.qiut'")) {
            try KeyMap.builtin.overriding(with: "global.qiut = q", source: "keys")
        }
        #expect(throws: ConfigError(source: "keys", line: 2, "unknown key name 'ctrl-banana' for 'global.quit'")) {
            try KeyMap.builtin.overriding(with: "# c\nglobal.quit = ctrl-banana", source: "keys")
        }
    }
}
