import Foundation
import LEMCore
import TestSupport
import Testing

@testable import LEMTrainer

/// A stand-in chat template: `<role-id> chars… 2` per message, BOS 1 first, and `<assistant-id>`
/// as the generation prompt; text is encoded as its characters.
struct ToyRenderer: PromptRenderer {
    let eosTokenId = 2
    func roleId(_ role: String) -> Int { role == "user" ? 3 : role == "assistant" ? 4 : 5 }
    func chatTokens(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> [Int] {
        var tokens = [1]
        for m in messages {
            tokens += [roleId(m.role.rawValue)] + m.content.unicodeScalars.map { Int($0.value % 500) + 10 } + [2]
        }
        if addGenerationPrompt { tokens.append(4) }
        return tokens
    }
    func encode(_ text: String) throws -> [Int] { text.unicodeScalars.map { Int($0.value % 500) + 10 } }
}

/// Dataset folders: the real LEM training data, the three record formats, prompt masking, and
/// broken files that must stop the run with the file and line named.
@Suite struct DatasetSplitTests {
    func temporaryFolder(_ files: [String: String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lem-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return folder
    }

    @Test(.enabled(if: TestPaths.sharedLEM != nil, "../shared/lem not present"))
    func readsTheLEMTrainingSet() throws {
        let folder = try DatasetFolder(folder: TestPaths.sharedLEM!.appendingPathComponent("training"))
        #expect(folder.train?.count == 160)
        #expect(folder.valid?.count == 20)
        #expect(folder.test?.count == 231)
        #expect(folder.train?.format == .chat)
        try folder.validate(training: true, testing: true, batchSize: 4)
        let examples = try folder.train!.tokenize(with: ToyRenderer(), maskPrompt: true)
        for (example, record) in zip(examples, folder.train!.records) {
            guard case .chat(let messages) = record.example else {
                Issue.record("not chat")
                return
            }
            // The offset is where the assistant's reply starts: after the user turn and role token.
            let prompt = try ToyRenderer().chatTokens(Array(messages.dropLast()), addGenerationPrompt: true)
            #expect(example.offset == prompt.count)
            #expect(Array(example.tokens.prefix(example.offset)) == prompt)
        }
    }

    @Test func recordFormats() throws {
        let folder = try temporaryFolder([
            "train.jsonl":
                "{\"prompt\": \"ab\", \"completion\": \"c\"}\n\n{\"prompt\": \"x\", \"completion\": \"yz\"}\n",
            "valid.jsonl": "{\"text\": \"hi\"}\n{\"text\": \"there\"}\n"
        ])
        let data = try DatasetFolder(folder: folder)
        #expect(data.train?.format == .completion)
        #expect(data.train?.records.map(\.line) == [1, 3])
        #expect(data.test == nil)
        let train = try data.train!.tokenize(with: ToyRenderer(), maskPrompt: true)
        // [1, 3, a, b, 2, 4, c, 2]: the prompt with generation prompt is 6 tokens.
        #expect(train[0].tokens == [1, 3, 107, 108, 2, 4, 109, 2])
        #expect(train[0].offset == 6)
        let text = try data.valid!.tokenize(with: ToyRenderer(), maskPrompt: false)
        #expect(text[0].tokens == [114, 115, 2])
        #expect(throws: DatasetError.self) { try data.valid!.tokenize(with: ToyRenderer(), maskPrompt: true) }
    }

    @Test(arguments: [
        (
            "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}\n{\"messages\": [{\"role\": \"user\" \"content\": \"b\"}]}\n",
            2, "not valid JSON"
        ),
        ("{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}\n{\"text\": \"b\"}\n", 2, "missing \"messages\""),
        (
            "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}\n\n{\"messages\": [{\"role\": \"user\"}]}\n", 3,
            "messages[0] needs a string \"content\""
        ),
        ("[1, 2]\n", 1, "expected a JSON object"),
        ("{\"question\": \"a\"}\n", 1, "unsupported record"),
        ("{\"messages\": []}\n", 1, "non-empty list"),
        ("{\"prompt\": \"a\", \"completion\": 3}\n", 1, "\"completion\" must be a string")
    ])
    func brokenFileNamesFileAndLine(text: String, line: Int, message: String) throws {
        let folder = try temporaryFolder(["train.jsonl": text])
        do {
            _ = try DatasetFolder(folder: folder)
            Issue.record("expected an error for line \(line)")
        } catch let error as DatasetError {
            let description = error.localizedDescription
            #expect(description.contains("train.jsonl:\(line):"), "\(description)")
            #expect(description.contains(message), "\(description)")
        }
    }

    @Test func runPreconditions() throws {
        let empty = try DatasetFolder(folder: try temporaryFolder(["valid.jsonl": "{\"text\": \"a\"}\n"]))
        #expect(throws: DatasetError.self) { try empty.validate(training: true, testing: false, batchSize: 1) }
        let small = try DatasetFolder(
            folder: try temporaryFolder([
                "train.jsonl": "{\"text\": \"a\"}\n{\"text\": \"b\"}\n", "valid.jsonl": "{\"text\": \"a\"}\n"
            ]))
        try small.validate(training: true, testing: false, batchSize: 1)
        #expect(throws: DatasetError.self) { try small.validate(training: true, testing: false, batchSize: 2) }
        #expect(throws: DatasetError.self) { try small.validate(training: false, testing: true, batchSize: 1) }
        #expect(throws: DatasetError.self) { try DatasetFolder(folder: URL(fileURLWithPath: "/nonexistent/lem-data")) }
    }
}
