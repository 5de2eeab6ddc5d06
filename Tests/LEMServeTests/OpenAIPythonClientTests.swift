import Foundation
import LEMCore
import LEMEngine
import LEMServe
import TestSupport
import Testing

/// The official `openai` Python client against `lem serve` (Scripts/openai_client_check.py):
/// models, chat whole and streamed, prompt log-probabilities equal to the engine's log-softmax
/// within 1e-4, and refusals raised as the client's own exceptions.
@Suite(
    "openai Python client",
    .enabled(
        if: PythonOpenAI.python != nil,
        "no openai client: python3 -m venv ~/.cache/lem-refs/openai && ~/.cache/lem-refs/openai/bin/pip install openai")
)
struct OpenAIPythonClientTests {
    @Test("the openai package talks to lem serve")
    func pythonClient() async throws {
        let model = try #require(TinyChatModel.loaded)
        let server = try await ServerHarness.start(ServedModels(base: model, baseName: "tiny"))
        defer { Task { await server.stop() } }
        let process = Process()
        guard let python = PythonOpenAI.python else { return }
        process.executableURL = python
        process.arguments = [
            TestPaths.repoRoot.appendingPathComponent("Scripts/openai_client_check.py").path,
            "http://127.0.0.1:\(server.port)/v1", "tiny"
        ]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(status == 0, "\(stderr)")
        let seen = try JSONValue.parse(stdout)
        #expect(seen["models"]?.array == [.string("tiny")])

        let ids = try model.encode("the cat sat on the mat", addSpecialTokens: true)
        let logits = try model.model.forward(tokens: ids, cache: model.model.makeCache(), logits: .all)
        let v = model.config.vocabSize
        let expected = (1..<ids.count).map { i -> Double in
            let row = logits[((i - 1) * v)..<(i * v)].map(Double.init)
            let m = row.max()!
            return row[ids[i]] - (m + log(row.reduce(0) { $0 + exp($1 - m) }))
        }
        let got = try #require(seen["prompt_logprobs"]?.array).dropFirst().compactMap(\.double)
        #expect(checkClose(got, expected, tol: 1e-4, label: "openai client prompt logprobs") == nil)
    }
}

/// Where the `openai` client's environment is, if installed.
enum PythonOpenAI {
    static let python: URL? = {
        let url = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(
            ".cache/lem-refs/openai/bin/python")
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }()
}
