import Foundation

/// An LLM-judge rubric: which benchmarks it applies to, the dimensions it asks for (each 1–10)
/// and the prompt template the judge receives.
///
/// Templates name fields in braces: `{prompt}`, `{response}` and any reference field of the item
/// (`{best_answer}`, `{risk_area}`, …). The judge must answer with one JSON object holding an
/// integer per dimension and a `reasoning` string. Rubrics are data: the project's files live in
/// `kernel/rubrics/*.json` and match `JudgeRubric.builtIn`.
public struct JudgeRubric: Sendable, Codable, Equatable {
    /// The rubric's name, e.g. `truthfulqa`.
    public var name: String
    /// Bumped when the wording changes; stored with every judge score.
    public var version: String
    /// Benchmarks whose items this rubric judges.
    public var benchmarks: [String]
    /// Dimension names, each scored 1–10.
    public var dimensions: [String]
    /// The prompt template.
    public var template: String
    /// Responses are cut to this many characters before they are shown to the judge.
    public var responseLimit = 1500

    /// The placeholder names the template uses, in order of first use.
    public var placeholders: [String] {
        var out: [String] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else { break }
            let name = String(after[..<close])
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0 == "_" }), !out.contains(name) { out.append(name) }
            rest = after[after.index(after: close)...]
        }
        return out
    }

    /// The judge prompt for one item, or the name of a reference field the item lacks.
    public func render(prompt: String, response: String, reference: [String: String]) -> Result<String, MissingField> {
        var text = template
        for name in placeholders {
            let value: String
            switch name {
            case "prompt", "question": value = prompt
            case "response": value = String(response.prefix(responseLimit))
            default:
                guard let v = reference[name] else { return .failure(MissingField(name: name)) }
                value = v
            }
            text = text.replacingOccurrences(of: "{\(name)}", with: value)
        }
        return .success(text)
    }

    /// A reference field a template needs but the item does not have.
    public struct MissingField: Error, Sendable, Equatable {
        /// The field's name.
        public var name: String
    }

    /// Loads every `*.json` rubric in a directory, sorted by file name; errors name the file.
    public static func load(directory: URL) throws -> [JudgeRubric] {
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        return try files.map { url in
            do { return try JSONDecoder().decode(JudgeRubric.self, from: Data(contentsOf: url)) } catch {
                throw PatternError(
                    message:
                        "\(url.path): not a rubric {name, version, benchmarks, dimensions, template, responseLimit} (\(error))"
                )
            }
        }
    }
}
