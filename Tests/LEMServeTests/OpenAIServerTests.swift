import Foundation
import LEMCore
import LEMEngine
import LEMEval
import TestSupport
import Testing

@testable import LEMServe

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `lem serve` over real HTTP on loopback: answers equal to the engine's own, SSE framing,
/// log-probabilities, and every refusal in OpenAI's error shape.
@Suite("OpenAI server", .serialized)
struct OpenAIServerTests {
    static func tiny() throws -> LoadedModel { try #require(TinyChatModel.loaded, "tiny chat model fixture") }

    /// What `lem generate` prints for a request: every token's text, untrimmed.
    static func engineText(_ model: LoadedModel, _ request: GenerationRequest) -> (String, GenerationStats?) {
        var text = ""
        var stats: GenerationStats?
        model.generator.run(request) { event in
            if case .token(_, let piece) = event { text += piece }
            if case .finished(let s) = event { stats = s }
        }
        return (text, stats)
    }

    static func body(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(members: members.map { (key: $0.0, value: $0.1) }))
    }

    static let question: JSONValue = .array([
        .object(["role": .string("user"), "content": .string("Say something short.")])
    ])

    @Test("health, the model list, and a greedy chat answer equal to the engine's")
    func chatGreedy() async throws {
        let model = try Self.tiny()
        let server = try await ServerHarness.start(
            ServedModels(base: model, baseName: "tiny", adapters: [("tiny-b", model)]))
        defer { Task { await server.stop() } }
        let health = try await server.client.get("health")
        #expect(health.status == 404)  // /health lives at the root, not under /v1
        let root = try await server.raw("/health", body: "", method: "GET")
        #expect(root.status == 200 && root.json?["status"] == .string("ok"))
        let models = try await server.client.get("models")
        #expect(models.json?["data"]?.array?.compactMap { $0["id"]?.string } == ["tiny", "tiny-b"])

        let reply = try await server.client.post(
            "chat/completions",
            json: Self.body([
                ("model", .string("tiny")), ("messages", Self.question), ("temperature", .int(0)),
                ("max_tokens", .int(12))
            ]))
        #expect(reply.status == 200)
        let json = try #require(reply.json)
        let request = try model.chatRequest(
            messages: [.user("Say something short.")], sampling: SamplingSettings(maxTokens: 12))
        let (expected, stats) = Self.engineText(model, request)
        #expect(json["choices"]?.array?.first?["message"]?["content"]?.string == expected)
        #expect(json["object"] == .string("chat.completion") && json["model"] == .string("tiny"))
        #expect(json["usage"]?["prompt_tokens"]?.int == request.promptIds.count)
        #expect(json["usage"]?["completion_tokens"]?.int == stats?.generatedTokens)
        let finish = json["choices"]?.array?.first?["finish_reason"]?.string
        #expect(finish == (stats?.stopReason == .maxTokens ? "length" : "stop"))
    }

    @Test(
        "a completion answer, error or not, says Connection: close (its disconnect watch ends the connection); a GET keeps it"
    )
    func connectionClose() async throws {
        let model = try #require(TinyChatModel.loaded)
        let server = try await ServerHarness.start(ServedModels(base: model, baseName: "tiny"))
        func connection(_ path: String, _ body: String?) async throws -> String {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)\(path)")!, timeoutInterval: 30)
            if let body {
                request.httpMethod = "POST"
                request.httpBody = Data(body.utf8)
            }
            let (_, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Connection") ?? "").lowercased()
        }
        let ok = #"{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":1}"#
        #expect(try await connection("/v1/chat/completions", ok) == "close")
        #expect(try await connection("/v1/chat/completions", #"{"model":"nope","messages":[]}"#) == "close")
        #expect(try await connection("/v1/completions", #"{"model":"tiny","prompt":"hi","max_tokens":-1}"#) == "close")
        #expect(try await connection("/v1/models", nil) != "close")
        await server.stop()
    }

    @Test("stream: role first, content deltas adding up to the whole answer, a finish chunk, usage, [DONE]")
    func chatStream() async throws {
        let model = try Self.tiny()
        let server = try await ServerHarness.start(ServedModels(base: model, baseName: "tiny"))
        defer { Task { await server.stop() } }
        let whole = try await server.client.post(
            "chat/completions",
            json: Self.body([
                ("messages", Self.question), ("temperature", .int(0)), ("max_tokens", .int(10))
            ]))
        let text = try #require(whole.json?["choices"]?.array?.first?["message"]?["content"]?.string)
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.port)/v1/chat/completions")!)
        request.httpMethod = "POST"
        request.httpBody = Data(
            Self.body([
                ("messages", Self.question), ("temperature", .int(0)), ("max_tokens", .int(10)),
                ("stream", .bool(true)),
                ("stream_options", .object(["include_usage": .bool(true)]))
            ]).jsonText().utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type") == "text/event-stream")
        let sse = String(decoding: data, as: UTF8.self)
        #expect(sse.hasSuffix("data: [DONE]\n\n"))
        let events = sse.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.allSatisfy { $0.hasPrefix("data: ") && !$0.dropFirst(6).contains("\n") })
        let chunks = events.dropLast().map { try? JSONValue.parse(String($0.dropFirst(6))) }
        #expect(chunks.allSatisfy { $0?["object"] == .string("chat.completion.chunk") })
        let deltas = chunks.compactMap { $0?["choices"]?.array?.first?["delta"] }
        #expect(deltas.first?["role"] == .string("assistant"))
        #expect(deltas.compactMap { $0["content"]?.string }.joined() == text)
        let finishes = chunks.compactMap { $0?["choices"]?.array?.first?["finish_reason"]?.string }
        #expect(finishes.count == 1)
        #expect(chunks.last??["usage"]?["completion_tokens"]?.int != nil)
        #expect(chunks.last??["choices"]?.array == [])
    }

    @Test("completions: echo + logprobs with max_tokens 0 and 1 equal the log-softmax of the engine's logits")
    func promptLogprobs() async throws {
        let model = try Self.tiny()
        let server = try await ServerHarness.start(ServedModels(base: model, baseName: "tiny"))
        defer { Task { await server.stop() } }
        let ids = try model.encode("the cat sat on the mat", addSpecialTokens: true)
        let logits = try model.model.forward(tokens: ids, cache: model.model.makeCache(), logits: .all)
        let v = model.config.vocabSize
        var expected: [Double] = []
        for i in 1..<ids.count {
            let row = logits[((i - 1) * v)..<(i * v)].map(Double.init)
            let m = row.max()!
            let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
            expected.append(row[ids[i]] - lse)
        }
        for maxTokens in [0, 1] {
            let reply = try await server.client.post(
                "completions",
                json: Self.body([
                    ("prompt", .array([.array(ids.map(JSONValue.int))])), ("max_tokens", .int(maxTokens)),
                    ("echo", .bool(true)),
                    ("logprobs", .int(1)), ("temperature", .int(0))
                ]))
            #expect(reply.status == 200)
            let lp = try #require(reply.json?["choices"]?.array?.first?["logprobs"])
            let tokenLogprobs = try #require(lp["token_logprobs"]?.array)
            #expect(tokenLogprobs.count == ids.count + maxTokens)
            #expect(tokenLogprobs.first == .null)
            let got = tokenLogprobs[1..<ids.count].compactMap(\.double)
            #expect(checkClose(got, expected, tol: 1e-4, label: "prompt logprobs, max_tokens \(maxTokens)") == nil)
            let tops = try #require(lp["top_logprobs"]?.array)
            #expect(tops.count == tokenLogprobs.count)
            #expect(tops[1].object?.count == 1)
            #expect(lp["tokens"]?.array?.count == tokenLogprobs.count)
            if maxTokens == 1 {
                // The generated token is greedy: its logprob is its position's best.
                let last = try #require(tokenLogprobs.last?.double)
                #expect(tops.last?.object?.first?.value.double == last)
            }
        }
        // A text prompt echoes the text as given.
        let text = try await server.client.post(
            "completions",
            json: Self.body([
                ("prompt", .string("the cat")), ("max_tokens", .int(0)), ("echo", .bool(true))
            ]))
        #expect(text.json?["choices"]?.array?.first?["text"] == .string("the cat"))
    }

    @Test("requests decoded together (--max-batch 4) get the answers they get alone")
    func batchedAnswersEqualTheEngines() async throws {
        let model = try Self.tiny()
        let server = try await ServerHarness.start(
            ServedModels(base: model, baseName: "tiny"), lane: BatchedLane(width: 4))
        defer { Task { await server.stop() } }
        let questions = (0..<6).map { "Question \($0): say \(String(repeating: "so ", count: $0 + 1))" }
        let replies = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for (i, question) in questions.enumerated() {
                group.addTask {
                    let reply = try await server.client.post(
                        "chat/completions",
                        json: Self.body([
                            ("model", .string("tiny")),
                            ("messages", .array([.object(["role": .string("user"), "content": .string(question)])])),
                            ("temperature", .int(0)), ("max_tokens", .int(6 + i))
                        ]))
                    return (i, reply.json?["choices"]?.array?.first?["message"]?["content"]?.string)
                }
            }
            var out = [String?](repeating: nil, count: questions.count)
            for try await (i, text) in group { out[i] = text }
            return out
        }
        for (i, question) in questions.enumerated() {
            let request = try model.chatRequest(
                messages: [.user(question)], sampling: SamplingSettings(maxTokens: 6 + i))
            #expect(replies[i] == Self.engineText(model, request).0, "request \(i)")
        }
        #expect(server.service.scheduler.load.served == questions.count)
    }

    @Test("refusals in OpenAI's shape: 400, 401, 404, 413, 429; the server stays up")
    func errors() async throws {
        let model = try Self.tiny()
        var configuration = ServeConfiguration(port: 0, maxBodyBytes: 4096, maxTokensLimit: 64, maxQueue: 0)
        configuration.requestTimeout = 30
        let lane = ScriptedLane(interval: 0.01)
        let server = try await ServerHarness.start(
            ServedModels(base: model, baseName: "tiny"), configuration: configuration,
            lane: lane)
        defer { Task { await server.stop() } }
        func expectError(
            _ r: (status: Int, json: JSONValue?), _ status: Int, _ type: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            #expect(r.status == status, sourceLocation: sourceLocation)
            #expect(r.json?["error"]?["type"] == .string(type), sourceLocation: sourceLocation)
            #expect(r.json?["error"]?["message"]?.string?.isEmpty == false, sourceLocation: sourceLocation)
        }
        let chat = "/v1/chat/completions"
        expectError(try await server.raw(chat, body: "{not json"), 400, "invalid_request_error")
        expectError(try await server.raw(chat, body: "[]"), 400, "invalid_request_error")
        expectError(try await server.raw(chat, body: #"{"messages": []}"#), 400, "invalid_request_error")
        let negative = try await server.raw(
            chat, body: #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": -1}"#)
        expectError(negative, 400, "invalid_request_error")
        #expect(negative.json?["error"]?["param"] == .string("max_tokens"))
        expectError(
            try await server.raw(chat, body: #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 65}"#),
            400, "invalid_request_error")
        expectError(
            try await server.raw(
                chat, body: #"{"messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}"#),
            400, "invalid_request_error")
        expectError(
            try await server.raw("/v1/completions", body: #"{"prompt": [999999]}"#), 400, "invalid_request_error")
        let unknown = try await server.raw(
            chat, body: #"{"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}"#)
        expectError(unknown, 404, "invalid_request_error")
        #expect(unknown.json?["error"]?["code"] == .string("model_not_found"))
        expectError(try await server.raw("/v1/nothing", body: "{}"), 404, "invalid_request_error")
        expectError(
            try await server.raw(chat, body: String(repeating: " ", count: 10_000)), 413, "invalid_request_error")

        // Queue of 0: one request runs, the next is refused with 429 until it ends.
        let long = Task {
            try await server.raw(chat, body: #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 60}"#)
        }
        while server.service.scheduler.load.running == 0 { try await Task.sleep(nanoseconds: 5_000_000) }
        expectError(
            try await server.raw(chat, body: #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}"#),
            429, "rate_limit_error")
        #expect(try await long.value.status == 200)
        let after = try await server.raw(
            chat, body: #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}"#)
        #expect(after.status == 200)
    }

    @Test("an API key is required on /v1 when set, compared exactly; /health stays open")
    func apiKey() async throws {
        let model = try Self.tiny()
        let server = try await ServerHarness.start(ServedModels(base: model, baseName: "tiny"), apiKey: "sekrit")
        defer { Task { await server.stop() } }
        let missing = try await server.raw("/v1/models", body: "", method: "GET")
        #expect(missing.status == 401 && missing.json?["error"]?["type"] == .string("authentication_error"))
        let wrong = try await server.raw(
            "/v1/models", body: "", method: "GET", headers: ["Authorization": "Bearer sekrit2"])
        #expect(wrong.status == 401)
        #expect(try await server.client.get("models").status == 200)
        #expect(try await server.raw("/health", body: "", method: "GET").status == 200)
        #expect(ServeConfiguration(host: "0.0.0.0").validationError() != nil)
        #expect(ServeConfiguration(host: "0.0.0.0", apiKey: "k").validationError() == nil)
    }

    @Test("a client leaving mid-stream cancels its generation and frees the engine")
    func disconnect() async throws {
        let model = try Self.tiny()
        let lane = ScriptedLane(interval: 0.02)
        let server = try await ServerHarness.start(ServedModels(base: model, baseName: "tiny"), lane: lane)
        defer { Task { await server.stop() } }
        let connection = try RawConnection(port: server.port)
        let body = #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2000, "stream": true}"#
        connection.send(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n" + body)
        while server.service.scheduler.load.running == 0 { try await Task.sleep(nanoseconds: 5_000_000) }
        try await Task.sleep(nanoseconds: 100_000_000)
        shutdown(connection.fd, Int32(SHUT_RDWR))
        let start = ContinuousClock.now
        while server.service.scheduler.load.running > 0 {
            try await Task.sleep(nanoseconds: 10_000_000)
            if ContinuousClock.now - start > .seconds(10) { break }
        }
        #expect(server.service.scheduler.load.running == 0)
        #expect(lane.counts.cancelled == 1)
    }

    @Test("a request head that never ends is dropped after the idle timeout")
    func slowHead() async throws {
        let model = try Self.tiny()
        var configuration = ServeConfiguration(port: 0)
        configuration.idleTimeout = 0.5
        let server = try await ServerHarness.start(
            ServedModels(base: model, baseName: "tiny"), configuration: configuration)
        defer { Task { await server.stop() } }
        let connection = try RawConnection(port: server.port)
        connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        let start = ContinuousClock.now
        let (_, closed) = connection.readToClose()
        #expect(closed)
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(try await server.raw("/health", body: "", method: "GET").status == 200)
    }

    @Test(
        "SmolLM2: a greedy chat answer over HTTP equals the engine's (what `lem generate --chat` prints)",
        .enabled(if: TestPaths.smolLM2 != nil, "SmolLM2-135M-Instruct not installed: run Scripts/setup.sh"))
    func smolLM2Greedy() async throws {
        let model = try LoadedModel.load(ModelKey(model: try #require(TestPaths.smolLM2)))
        let server = try await ServerHarness.start(ServedModels(base: model, baseName: "smol"))
        defer { Task { await server.stop() } }
        let reply = try await server.client.chat(
            model: "smol", messages: [.user("What is the capital of France?")], temperature: 0, maxTokens: 24)
        let request = try model.chatRequest(
            messages: [.user("What is the capital of France?")],
            sampling: SamplingSettings(maxTokens: 24))
        let (expected, _) = Self.engineText(model, request)
        #expect(reply.content == expected)
        #expect(!expected.isEmpty)
    }
}
