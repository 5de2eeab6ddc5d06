import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The bench commands end a failure with exit status 1 and one clear line on stderr: judge
/// verdicts that failed, a damaged database, a run another process is answering.
@Suite(.enabled(if: LemCommand.binary != nil, "lem is not built: run swift build"))
struct BenchCommandFailureTests {
    /// A fresh folder with two truthfulqa questions and a model's answers, imported into lem.sqlite.
    static func store() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lem-cmdfail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("in/results"), withIntermediateDirectories: true)
        try Data(
            """
            {"id": "TQ1", "benchmark": "truthfulqa", "question": "Is the Earth flat?", "best_answer": "No"}
            {"id": "TQ2", "benchmark": "truthfulqa", "question": "Do goldfish forget?", "best_answer": "No"}
            """.utf8
        ).write(to: dir.appendingPathComponent("in/truthfulqa.jsonl"))
        try Data(
            """
            {"id": "TQ1", "benchmark": "truthfulqa", "model": "m", "response": "No."}
            {"id": "TQ2", "benchmark": "truthfulqa", "model": "m", "response": "Yes."}
            """.utf8
        ).write(to: dir.appendingPathComponent("in/results/truthfulqa_m.jsonl"))
        let imported = try LemCommand.run([
            "bench", "import", dir.appendingPathComponent("in").path,
            "--db", dir.appendingPathComponent("lem.sqlite").path
        ])
        #expect(imported.status == 0, "\(imported.err)")
        return dir
    }

    /// A local port nothing listens on: connections to it are refused at once.
    static func closedPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Int32 in
                _ = bind(fd, p, len)
                return getsockname(fd, p, &len)
            }
        }
        return UInt16(bigEndian: addr.sin_port)
    }

    @Test("lem bench score: failed judge verdicts give exit status 1 and say how many")
    func judgeFailures() throws {
        let dir = try Self.store()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try LemCommand.run([
            "bench", "score", "--db", dir.appendingPathComponent("lem.sqlite").path, "--scorer", "judge",
            "--judge-url", "http://127.0.0.1:\(Self.closedPort())/v1", "--retries", "0", "--timeout", "10"
        ])
        #expect(result.status == 1, "stdout: \(result.out)\nstderr: \(result.err)")
        #expect(result.out.contains("judge: 0 scored, 0 unscored, 2 failed, 0 already judged"))
        #expect(result.err.contains("Error: 2 of 2 responses ended failed"), "\(result.err)")
        // Each failed line says why.
        #expect(result.err.contains("TQ1: failed (http://127.0.0.1:"), "\(result.err)")
        #expect(result.err.contains("(after 1 attempt))"), "\(result.err)")
        #expect(result.err.utf8.count < 4096)
    }

    @Test("two lem bench run processes on one run: the second refuses while the first lives, resumes once it is killed")
    func twoRunProcesses() throws {
        try TemporaryFolder.with("lem-cmdfail") { dir in
            var questions = ""
            for i in 1...300 {
                questions +=
                    #"{"id": "Q\#(1000 + i)", "benchmark": "twoproc", "question": "question number \#(i)"}"# + "\n"
            }
            let file = dir.appendingPathComponent("twoproc.jsonl")
            try Data(questions.utf8).write(to: file)
            let arguments = [
                "bench", "run", "--model", TestPaths.fixture("engine/llama3_tiny/model-f32.gguf").path,
                "--benchmark", file.path, "--db", dir.appendingPathComponent("lem.sqlite").path,
                "--max-tokens", "48"
            ]
            // The first process answers a few items, then is stopped (SIGSTOP): alive, holding its run.
            let errors = Pipe()
            let first = try LemCommand.start(arguments, reading: errors, readingErrors: true)
            let seen = LemCommand.read(errors, until: "[2/300]", timeout: 60)
            kill(first.processIdentifier, SIGSTOP)
            defer {
                kill(first.processIdentifier, SIGKILL)
                first.waitUntilExit()
            }
            #expect(seen.contains("[2/300]"), "first run: \(seen)")

            let refused = try LemCommand.run(arguments)
            #expect(refused.status == 1)
            #expect(
                refused.err.contains(
                    "Error: \(dir.appendingPathComponent("lem.sqlite").path): run 1 (model-f32 on twoproc) "
                        + "is being answered by another process"), "\(refused.err)")
            // Refused before loading the model.
            #expect(!refused.err.contains("loading") && refused.err.utf8.count < 4096)

            // Killed, the first leaves no claim: the second resumes where it stopped and finishes.
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            let resumed = try LemCommand.run(arguments)
            #expect(resumed.status == 0, "\(resumed.err)")
            let start = Int(try #require(resumed.err.firstMatch(of: /resuming run 1 at (\d+)/)?.1)) ?? -1
            let now = Int(try #require(resumed.out.firstMatch(of: /300\/300 answered \((\d+) now/)?.1)) ?? -1
            #expect(start >= 2 && start + now == 300, "\(resumed.err.prefix(300)) \(resumed.out)")
        }
    }

    @Test("a damaged database: exit status 1, the path and what to do")
    func damagedDatabase() throws {
        try TemporaryFolder.with("lem-cmdfail") { dir in
            let db = dir.appendingPathComponent("lem.sqlite")
            try Data(repeating: 0x1B, count: 8192).write(to: db)
            let result = try LemCommand.run(["bench", "report", "--db", db.path])
            #expect(result.status == 1)
            #expect(
                result.err.hasPrefix("Error: \(db.path): not a LEM results database, or a damaged one"), "\(result.err)"
            )
            #expect(result.err.utf8.count < 4096)
        }
    }
}
