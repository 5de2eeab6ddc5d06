import Foundation
import Panels

/// The user's theme and key bindings: built-in defaults with the files in the config directory
/// (`$XDG_CONFIG_HOME/lem`, else `~/.config/lem`) laid over them.
///
/// - `keys`: key binding overrides (`chat.send = ctrl-s`); unknown actions or key names are errors.
/// - `themes/<name>.theme`: extra themes, laid over the built-in dark theme.
/// - `theme`: colour overrides applied to whichever theme is selected; a `name = <theme>` line
///   selects the theme (the `--theme` option wins).
struct WorkbenchConfig {
    var theme: Theme
    var keys: KeyMap
    var themeNames: [String]
    /// Problems found in the user's files, each naming the file and line.
    var problems: [String]
    let directory: URL
    var userThemeOverrides: String?

    /// Loads the configuration; bad user files are reported in `problems` and otherwise ignored.
    static func load(environment: [String: String], directory dir: URL, themeName: String?) -> WorkbenchConfig {
        var problems: [String] = []
        var keys = KeyMap.builtin
        let keysURL = dir.appendingPathComponent("keys")
        if let text = try? String(contentsOf: keysURL, encoding: .utf8) {
            do { keys = try keys.overriding(with: text, source: keysURL.path) } catch { problems.append("\(error)") }
            // The built-in table has no conflicts, so any is the file's doing.
            problems += keys.conflicts().map { "\(keysURL.path): \($0)" }
        }
        let overridesURL = dir.appendingPathComponent("theme")
        let overrides = try? String(contentsOf: overridesURL, encoding: .utf8)
        var names = Theme.builtinNames
        let userThemes =
            (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("themes").path)) ?? []
        for f in userThemes.sorted() where f.hasSuffix(".theme") {
            let n = String(f.dropLast(6))
            if !names.contains(n) { names.append(n) }
        }
        let selected = themeName ?? overrides.flatMap(Self.selectedName) ?? environment["LEM_THEME"] ?? "dark"
        var config = WorkbenchConfig(
            theme: .dark, keys: keys, themeNames: names, problems: problems, directory: dir,
            userThemeOverrides: overrides)
        config.selectTheme(selected)
        return config
    }

    /// The `name = x` line of a theme override file, if any.
    static func selectedName(_ text: String) -> String? {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, parts[0] == "name" { return parts[1] }
        }
        return nil
    }

    /// Switches to a theme by name (built-in or user), then applies the user's overrides.
    mutating func selectTheme(_ name: String) {
        var t: Theme
        if let b = Theme.builtin(name) {
            t = b
        } else {
            let url = directory.appendingPathComponent("themes/\(name).theme")
            do {
                let text = try String(contentsOf: url, encoding: .utf8)
                t = try Theme.dark.overriding(with: text, source: url.path, name: name)
            } catch let e as ConfigError {
                problems.append(e.description)
                t = .dark
            } catch {
                problems.append(
                    "unknown theme '\(name)' (built-in: \(Theme.builtinNames.joined(separator: ", ")); user themes go in \(directory.path)/themes/)"
                )
                t = .dark
            }
        }
        if let o = userThemeOverrides {
            do { t = try t.overriding(with: o, source: directory.appendingPathComponent("theme").path) } catch {
                problems.append("\(error)")
            }
        }
        theme = t
    }

    /// Remembers `name` as the theme of the next start: the `name = …` line of the `theme` file
    /// in `directory` is replaced (or added first), its colour overrides kept. Returns the file.
    @discardableResult
    static func rememberTheme(_ name: String, in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent("theme")
        var lines = ((try? String(contentsOf: url, encoding: .utf8)) ?? "")
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let entry = "name = \(name)"
        if let i = lines.firstIndex(where: { selectedName($0) != nil }) {
            lines[i] = entry
        } else {
            lines.insert(entry, at: 0)
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// The theme after the current one in the list.
    func nextThemeName() -> String {
        let i = themeNames.firstIndex(of: theme.name) ?? -1
        return themeNames[(i + 1) % themeNames.count]
    }
}
