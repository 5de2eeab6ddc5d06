import Foundation
import LEMCore
import Testing

@testable import LEMEval

@Suite("OpenAIClient: server-sent events, streamed chats, bounded replies")
struct ServerSentEventsTests {
    static let stream =
        ": keep-alive\r\ndata: {\"a\":1}\r\n\r\nevent: message\nid: 7\ndata: first\ndata:second\n\ndata: lone-cr\r\rdata: [DONE]\n\n"

    @Test("events parse the same fed whole or one byte at a time: CRLF, LF and lone CR, multi-line data, comments")
    func pieces() throws {
        let expected = ["{\"a\":1}", "first\nsecond", "lone-cr", "[DONE]"]
        var whole = ServerSentEvents()
        #expect(try whole.feed(Array(Self.stream.utf8)) == expected)
        var bytewise = ServerSentEvents()
        var got: [String] = []
        for b in Self.stream.utf8 { got += try bytewise.feed([b]) }
        #expect(got == expected)
        var open = ServerSentEvents()
        #expect(try open.feed(Array("data: tail".utf8)).isEmpty)
        #expect(open.finish() == "tail")
        var bounded = ServerSentEvents(maxLine: 8)
        #expect(throws: ServerSentEvents.LineTooLong.self) { try bounded.feed(Array("data: 123456789".utf8)) }
    }

    @Test("a streamed chat from a server that is not streaming, or fails, throws saying so")
    func streamErrors() async throws {
        let server = try LoopbackJudgeServer(handler: { index, _ in
            switch index {
            case 0: .content("a whole reply, not a stream")
            case 1: .status(500, #"{"error":{"message":"overloaded"}}"#)
            default: .status(200, "data: {\"error\":{\"message\":\"model exploded\"}}\n\n")
            }
        })
        defer { server.stop() }
        let client = OpenAIClient(baseURL: URL(string: "http://127.0.0.1:\(server.port)/v1")!, timeout: 10)
        func attempt() async -> OpenAIClientError? {
            do {
                _ = try await client.streamChat(model: "m", messages: [.user("hi")], temperature: 0, maxTokens: 4) {
                    _ in
                }
                return nil
            } catch { return error as? OpenAIClientError }
        }
        let notStream = await attempt()
        #expect(notStream?.message.contains("not an event stream") == true, "\(String(describing: notStream))")
        let failed = await attempt()
        #expect(failed?.status == 500 && failed?.retryable == true && failed?.message.contains("overloaded") == true)
        let exploded = await attempt()
        #expect(exploded?.message.contains("model exploded") == true, "\(String(describing: exploded))")
        let body = try #require(server.requests.first?.body)
        let json = try JSONValue.parse(Data(body.utf8))
        #expect(json["stream"]?.bool == true && json["stream_options"]?["include_usage"]?.bool == true)
    }

    @Test(
        "a remote engine's reply past the client's limit fails, not retryable, without reading on; a GET is bounded too"
    )
    func boundedReplies() async throws {
        let server = try LoopbackJudgeServer(handler: { index, _ in
            index == 0 ? .stream(bytes: 64 << 20, declareLength: false) : .stream(bytes: 64 << 20, declareLength: true)
        })
        defer { server.stop() }
        let client = OpenAIClient(
            baseURL: URL(string: "http://127.0.0.1:\(server.port)/v1")!, timeout: 10, maxReplyBytes: 1000)
        let chat = await #expect(throws: OpenAIClientError.self) {
            try await client.chat(model: "m", messages: [.user("hi")], temperature: 0, maxTokens: 4)
        }
        #expect(chat?.retryable == false && chat?.message.contains("over the 1000 bytes limit") == true)
        let models = await #expect(throws: OpenAIClientError.self) { try await client.get("models") }
        #expect(models?.message.contains("declares") == true, "\(String(describing: models))")
        #expect(server.requests.map(\.path) == ["/v1/chat/completions", "/v1/models"])
        // The client stopped reading: the server got rid of what the sockets' buffers held, not 64 MiB.
        #expect(server.streamedBytes < 16 << 20, "the server sent \(server.streamedBytes) bytes")
    }
}
