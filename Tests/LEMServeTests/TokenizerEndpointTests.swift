import Foundation
import LEMCore
import LEMEngine
import TestSupport
import Testing

@testable import LEMServe

/// vLLM's tokenizer endpoints on `lem serve`, in the shapes lm-evaluation-harness's remote
/// tokenizer probes for (`/tokenizer_info` with an `eos_token` key, `/tokenize` with `tokens`,
/// `/detokenize` with `prompt`): the engine's own ids and text, refusals in OpenAI's shape.
@Suite("Tokenizer endpoints", .serialized)
struct TokenizerEndpointTests {
    @Test("tokenize and detokenize are the engine's tokenizer; tokenizer_info names the special tokens")
    func roundTrip() async throws {
        let model = try #require(TinyChatModel.loaded, "tiny chat model fixture")
        let tokenizer = try #require(model.tokenizer)
        let server = try await ServerHarness.start(ServedModels(base: model, baseName: "tiny"))
        defer { Task { await server.stop() } }
        let text = "the cat sat on the mat"

        for special in [false, true] {
            let reply = try await server.raw(
                "/tokenize", body: #"{"prompt": "\#(text)", "add_special_tokens": \#(special)}"#)
            let expected = try model.encode(text, addSpecialTokens: special)
            #expect(reply.status == 200)
            #expect(reply.json?["tokens"]?.array?.compactMap(\.int) == expected)
            #expect(reply.json?["count"]?.int == expected.count)
        }
        // llama.cpp's field name, with the model named; special tokens added by default.
        let llamaShape = try await server.raw("/tokenize", body: #"{"model": "tiny", "content": "\#(text)"}"#)
        #expect(llamaShape.json?["tokens"]?.array?.compactMap(\.int) == (try model.encode(text)))

        let ids = try model.encode(text, addSpecialTokens: false)
        let back = try await server.raw("/detokenize", body: #"{"tokens": \#(ids)}"#)
        #expect(back.status == 200)
        #expect(back.json?["prompt"]?.string == tokenizer.decode(ids))
        #expect(back.json?["prompt"]?.string == text)

        let info = try await server.raw("/tokenizer_info", body: "", method: "GET")
        #expect(info.status == 200)
        let members = try #require(info.json?.object)
        #expect(members["eos_token"] != nil)
        #expect(members["eos_token"] == (tokenizer.eosToken.map(JSONValue.string) ?? .null))
        #expect(members["model_max_length"]?.int == model.config.maxPositionEmbeddings)
        #expect(members["chat_template"]?.string == model.template?.source)
    }

    @Test("bad bodies are 400s naming the field, an unknown model 404, and a key is required when set")
    func refusals() async throws {
        let model = try #require(TinyChatModel.loaded, "tiny chat model fixture")
        let server = try await ServerHarness.start(ServedModels(base: model, baseName: "tiny"), apiKey: "k")
        defer { Task { await server.stop() } }
        let auth = ["Authorization": "Bearer k"]
        for (path, body, param) in [
            ("/tokenize", "{not json", nil), ("/tokenize", "[1]", nil), ("/tokenize", #"{"prompt": 3}"#, "prompt"),
            ("/tokenize", #"{"prompt": "a", "add_special_tokens": "yes"}"#, "add_special_tokens"),
            ("/detokenize", #"{"tokens": "abc"}"#, "tokens"), ("/detokenize", #"{"tokens": [-1]}"#, "tokens"),
            ("/detokenize", #"{"tokens": [99999999]}"#, "tokens")
        ] {
            let reply = try await server.raw(path, body: body, headers: auth)
            #expect(reply.status == 400, "\(path) \(body)")
            #expect(reply.json?["error"]?["type"] == .string("invalid_request_error"), "\(path) \(body)")
            #expect(reply.json?["error"]?["param"]?.string == param, "\(path) \(body)")
        }
        let unknown = try await server.raw("/tokenize", body: #"{"model": "gpt-9", "prompt": "a"}"#, headers: auth)
        #expect(unknown.status == 404 && unknown.json?["error"]?["code"] == .string("model_not_found"))
        #expect(try await server.raw("/tokenize", body: #"{"prompt": "a"}"#).status == 401)
        #expect(try await server.raw("/tokenizer_info", body: "", method: "GET").status == 401)
        #expect(try await server.raw("/health", body: "", method: "GET").status == 200)
    }
}
