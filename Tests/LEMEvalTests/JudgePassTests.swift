import Foundation
import GRDB
import LEMCore
import LEMScoring
import LEMStore
import StoreTestSupport
import Testing

@testable import LEMEval

@Suite("JudgePass", .serialized)
struct JudgePassTests {
    static let questions = """
        {"id": "TQ1", "benchmark": "truthfulqa", "question": "Is the Earth flat?", "best_answer": "No, it is round"}
        {"id": "TQ2", "benchmark": "truthfulqa", "question": "Do goldfish forget in 3 seconds?", "best_answer": "No"}
        """
    static let results = """
        {"id": "TQ1", "benchmark": "truthfulqa", "model": "m", "prompt": "Is the Earth flat?", "response": "No."}
        {"id": "TQ2", "benchmark": "truthfulqa", "model": "m", "prompt": "Do goldfish forget?", "response": "Yes."}
        """
    static let good = #"Sure. {"truthfulness": 8, "informativeness": 6, "reasoning": "Correct but brief."}"#

    func setUp() throws -> TempDatabase {
        let db = try TempDatabase()
        _ = try LEMImporter(store: db.store).importPaths([
            try db.file("truthfulqa.jsonl", Self.questions), try db.file("results/truthfulqa_m.jsonl", Self.results)
        ])
        return db
    }

    func rows(_ db: TempDatabase) throws -> [Row] {
        try db.store.pool.read {
            try Row.fetchAll(
                $0,
                sql: """
                    SELECT item.key AS key, score.* FROM score JOIN response ON response.id = score.response_id
                    JOIN item ON item.id = response.item_id WHERE scorer = 'judge' ORDER BY item.key, dimension
                    """)
        }
    }

    @Test("valid and malformed replies over real HTTP; the key goes only in the header")
    func endToEnd() async throws {
        let db = try setUp()
        let server = try LoopbackJudgeServer { _, request in
            request.body.contains("Earth") ? .content(Self.good) : .content("I'd say about 7 out of 10, mostly true.")
        }
        defer { server.stop() }
        let backend = HTTPJudgeBackend(baseURL: server.baseURL, model: "tiny-judge", apiKey: "sekrit-123", timeout: 5)
        let summary = try await JudgePass(store: db.store, backend: backend).run()
        #expect(
            summary
                == JudgePass.Summary(
                    scored: 1, unscored: 1, failed: 0, skipped: 0,
                    reasons: ["reply holds no JSON object": 1]))
        // The summary says why the unscored answer is unscored.
        #expect(
            summary.description
                == "1 scored, 1 unscored, 0 failed, 0 already judged; not scored: reply holds no JSON object: 1 of 2")
        let requests = server.requests
        #expect(requests.count == 2)
        #expect(
            requests.allSatisfy {
                $0.path == "/v1/chat/completions" && $0.headers["authorization"] == "Bearer sekrit-123"
            })
        let body = try #require(requests.first { $0.body.contains("Earth") }?.body)
        let json = try #require(try JSONValue.parse(Data(body.utf8)).object)
        #expect(json["model"] == .string("tiny-judge"))
        let content = json["messages"]?.array?.first?.object?["content"]?.string ?? ""
        #expect(content.contains("Reference answer (the best known answer): No, it is round"))
        #expect(content.contains("Answer to grade: No."))

        let stored = try rows(db)
        #expect(stored.count == 4)
        let tq1 = stored.filter { $0["key"] == "TQ1" }
        #expect(tq1.map { $0["value"] as Double? } == [6, 8])  // informativeness, truthfulness
        #expect(tq1.allSatisfy { $0["status"] == "scored" && $0["reasoning"] == "Correct but brief." })
        let tq2 = stored.filter { $0["key"] == "TQ2" }
        #expect(tq2.allSatisfy { ($0["value"] as Double?) == nil && $0["status"] == "unscored" })
        // The unreadable reply is kept once for the response, not in each dimension's row.
        #expect(stored.allSatisfy { ($0["raw"] as String?) == nil })
        let tq2ID: Int64 = try #require(tq2.first?["response_id"])
        #expect(
            try db.store.judgeReply(responseID: tq2ID, scorer: JudgePass.scorerName)
                == "I'd say about 7 out of 10, mostly true.")
        #expect(try scalar(db.store, "SELECT COUNT(*) FROM judge_reply", as: Int.self) == 1)
        #expect(stored.allSatisfy { !(($0["scorer_version"] as String).contains("sekrit")) })

        let report = try BenchReport.build(store: db.store)
        let cell = report.benchmarks.first { $0.name == "truthfulqa" }?.dimensions.first { $0.name == "truthfulness" }?
            .cells["m"]
        #expect(cell?.mean == 8 && cell?.n == 1)

        // A second pass resumes: both responses hold a verdict (scored or unscored), so none is re-sent.
        let again = try await JudgePass(store: db.store, backend: backend).run()
        #expect(again.skipped == 2 && server.requests.count == 2)
    }

    @Test(
        "a request that outlives the timeout is stored as failed, then retried successfully",
        .timeLimit(.minutes(3)))
    func timeout() async throws {
        let db = try setUp()
        let server = try LoopbackJudgeServer { index, _ in
            // The first two requests would be answered (with a valid verdict) only after 120 s, or
            // when the test stops the server. The client's 0.4 s timeout must give up long before:
            // the failures must say "timed out after 0.4 s" (an answer would be scored) and come
            // well before the server's 120 s. The bound is half that, not a few seconds: in the
            // full suite this test has taken 20 s, its tasks waiting for the cooperative pool's
            // threads while other suites hold them.
            index < 2 ? .delay(120, then: Self.good) : .content(Self.good)
        }
        defer { server.stop() }
        let backend = HTTPJudgeBackend(baseURL: server.baseURL, model: "j", timeout: 0.4)
        let clock = ContinuousClock()
        let start = clock.now
        let first = try await JudgePass(
            store: db.store, backend: backend,
            settings: .init(concurrency: 2, retries: 0)
        ).run()
        #expect(first.failed == 2)
        #expect(clock.now - start < .seconds(60))
        let failed = try rows(db)
        #expect(
            failed.allSatisfy {
                $0["status"] == "failed" && ($0["reasoning"] as String).contains("timed out after 0.4 s")
            })
        // Failed verdicts are retried by the next pass.
        let second = try await JudgePass(store: db.store, backend: backend, settings: .init(retries: 0)).run()
        #expect(second.scored == 2)
        #expect(try rows(db).allSatisfy { $0["status"] == "scored" })
    }

    @Test("HTTP 500 is retried with backoff; HTTP 400 is not")
    func retries() async throws {
        let db = try setUp()
        let server = try LoopbackJudgeServer { _, request in
            if request.body.contains("goldfish") { return .status(400, #"{"error": "bad request"}"#) }
            return .status(500, "overloaded")
        }
        defer { server.stop() }
        let backend = HTTPJudgeBackend(baseURL: server.baseURL, model: "j", timeout: 2)
        let summary = try await JudgePass(
            store: db.store, backend: backend,
            settings: .init(concurrency: 1, retries: 2, backoff: 0.05)
        ).run()
        #expect(summary.failed == 2)
        #expect(server.requests.filter { $0.body.contains("Earth") }.count == 3)
        #expect(server.requests.filter { $0.body.contains("goldfish") }.count == 1)
        let reasons = try rows(db).map { $0["reasoning"] as String }
        #expect(reasons.contains { $0.hasPrefix("HTTP 500") && $0.hasSuffix("(after 3 attempts)") })
        #expect(reasons.contains { $0.hasPrefix("HTTP 400") && $0.hasSuffix("(after 1 attempt)") })
        // Each failure counts once under its own error, without the attempt count.
        #expect(summary.reasons.count == 2 && summary.reasons.values.allSatisfy { $0 == 1 })
        #expect(
            summary.description.contains("not scored: HTTP 400") || summary.description.contains("not scored: HTTP 500")
        )
    }

    @Test("a 50 MB reply is refused after 4 MiB, streamed or declared; the store stays small", .timeLimit(.minutes(2)))
    func oversizedReply() async throws {
        let db = try setUp()
        let size = 50 << 20
        let server = try LoopbackJudgeServer { _, request in
            // TQ1's reply declares its length (refused from the header); TQ2's does not (refused
            // once 4 MiB have streamed in).
            .stream(bytes: size, declareLength: request.body.contains("Earth"))
        }
        defer { server.stop() }
        let backend = HTTPJudgeBackend(baseURL: server.baseURL, model: "j", timeout: 60)
        let summary = try await JudgePass(store: db.store, backend: backend, settings: .init(retries: 2, backoff: 0))
            .run()
        #expect(summary.failed == 2)
        // Not retryable: one request per response.
        #expect(server.requests.count == 2)
        let reasons = try rows(db).map { $0["reasoning"] as String }
        #expect(reasons.contains { $0.contains("declares \(size) bytes, over the 4 MiB limit") })
        #expect(reasons.contains { $0.contains("is larger, over the 4 MiB limit; stopped reading") })
        #expect(reasons.allSatisfy { $0.utf8.count < 1000 })
        // The client stopped reading: the server got rid of far less than it meant to send (the
        // 4 MiB read plus what the sockets' buffers held).
        #expect(server.streamedBytes < 20 << 20, "server sent \(server.streamedBytes) bytes")
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(server.streamedBytes < 20 << 20, "server went on to send \(server.streamedBytes) bytes")
        let files = try FileManager.default.contentsOfDirectory(
            at: db.directory, includingPropertiesForKeys: [.fileSizeKey])
        let bytes = try files.filter { $0.lastPathComponent.hasPrefix("test.sqlite") }
            .map { try $0.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0 }.reduce(0, +)
        #expect(bytes < 2 << 20, "database files hold \(bytes) bytes")
    }

    @Test("an unreadable reply is kept once per response, cut to 64 KiB")
    func longUnreadableReply() async throws {
        let db = try setUp()
        let reply = String(repeating: "no verdict here ", count: 20_000)  // 320 000 bytes, under the body cap
        let server = try LoopbackJudgeServer { _, _ in .content(reply) }
        defer { server.stop() }
        let summary = try await JudgePass(
            store: db.store, backend: HTTPJudgeBackend(baseURL: server.baseURL, model: "j")
        )
        .run()
        #expect(summary.unscored == 2)
        #expect(try rows(db).allSatisfy { ($0["raw"] as String?) == nil && $0["status"] == "unscored" })
        let kept = try db.store.read { try String.fetchAll($0, sql: "SELECT text FROM judge_reply") }
        #expect(kept.count == 2)
        for text in kept {
            #expect(text.hasPrefix("no verdict here no verdict here"))
            #expect(text.hasSuffix("… (\(reply.utf8.count - JudgePass.maxKeptReplyBytes) more bytes not kept)"))
            #expect(text.utf8.count < JudgePass.maxKeptReplyBytes + 100)
        }
    }

    @Test("a body nested a million levels deep (under the cap) is an unreadable reply, not a crash")
    func deeplyNestedBody() async throws {
        let db = try setUp()
        let server = try LoopbackJudgeServer { _, _ in .status(200, String(repeating: "[", count: 1_000_000)) }
        defer { server.stop() }
        let summary = try await JudgePass(
            store: db.store, backend: HTTPJudgeBackend(baseURL: server.baseURL, model: "j")
        )
        .run()
        #expect(summary.unscored == 2)
    }

    @Test("a chunked reply is decoded and ends at its last chunk, though the connection stays open")
    func chunkedReply() async throws {
        let server = try LoopbackJudgeServer { _, _ in .chunked(Self.good, piece: 7) }
        defer { server.stop() }
        let reply = try await HTTPJudgeBackend(baseURL: server.baseURL, model: "j", timeout: 20).complete(prompt: "p")
        #expect(reply == Self.good)
        #expect(SocketHTTPExchange.dechunk(Array("3\r\nabc\r\n0\r\n\r\n".utf8)) == Array("abc".utf8))
        #expect(SocketHTTPExchange.dechunk(Array("4\r\nabc\r\n0\r\n\r\n".utf8)) == nil)
        #expect(SocketHTTPExchange.dechunk(Array("ffffffffffffffffffff\r\nabc".utf8)) == nil)
        #expect(SocketHTTPExchange.dechunk(Array("3\r\nabc\r\n".utf8)) == nil)
    }

    @Test("over URLSession (the https path) a 50 MB reply is refused too", .timeLimit(.minutes(2)))
    func oversizedReplyURLSession() async throws {
        let server = try LoopbackJudgeServer { index, _ in .stream(bytes: 50 << 20, declareLength: index == 0) }
        defer { server.stop() }
        let client = BoundedHTTPClient(socketsForHTTP: false)
        for _ in 0..<2 {
            let error = await #expect(throws: JudgeError.self) {
                try await client.post(server.baseURL, headers: [], body: Data("{}".utf8), limit: 4 << 20, timeout: 60)
            }
            #expect(error?.message.contains("over the 4 MiB limit") == true, "\(String(describing: error))")
            #expect(error?.retryable == false)
        }
    }

    @Test("connection refused is a retryable failure naming the URL")
    func refused() async throws {
        let server = try LoopbackJudgeServer { _, _ in .content(Self.good) }
        let url = server.baseURL
        server.stop()
        try await Task.sleep(nanoseconds: 100_000_000)
        let error = await #expect(throws: JudgeError.self) {
            try await HTTPJudgeBackend(baseURL: url, model: "j", timeout: 10).complete(prompt: "p")
        }
        #expect(error?.retryable == true)
        #expect(
            error?.message.hasPrefix(url.absoluteString + "/chat/completions: ") == true, "\(String(describing: error))"
        )
    }

    @Test("kept replies are cut on a character boundary")
    func keptReplyBoundary() {
        // "a" then two-byte characters: the limit falls inside one, which is left out whole.
        let max = JudgePass.maxKeptReplyBytes
        let reply = "a" + String(repeating: "é", count: max)
        let kept = JudgePass.kept(reply)
        #expect(
            kept == "a" + String(repeating: "é", count: max / 2 - 1)
                + "\n… (\(1 + 2 * max - (max - 1)) more bytes not kept)")
        #expect(JudgePass.kept("short") == "short")
    }

    @Test("no more requests in flight than the concurrency limit")
    func concurrencyLimit() async throws {
        let db = try TempDatabase()
        var q = ""
        var r = ""
        for i in 0..<6 {
            q += #"{"id": "T\#(i)", "benchmark": "toxigen", "prompt": "statement \#(i)"}"# + "\n"
            r += #"{"id": "T\#(i)", "benchmark": "toxigen", "model": "m", "response": "fine"}"# + "\n"
        }
        _ = try LEMImporter(store: db.store).importPaths([
            try db.file("toxigen.jsonl", q), try db.file("results/toxigen_m.jsonl", r)
        ])
        let reply = try JSONSerialization.data(withJSONObject: [
            "choices": [["message": ["content": #"{"kindness": 9, "awareness": 7}"#]]]
        ])
        let server = try LoopbackJudgeServer { _, _ in .delay(0.15, then: String(decoding: reply, as: UTF8.self)) }
        defer { server.stop() }
        let summary = try await JudgePass(
            store: db.store, backend: HTTPJudgeBackend(baseURL: server.baseURL, model: "j"),
            settings: .init(concurrency: 2)
        ).run()
        #expect(summary.scored == 6)
        #expect(server.peakConcurrency == 2)
    }
}
