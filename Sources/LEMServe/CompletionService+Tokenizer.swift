import Foundation
import LEMCore
import LEMEngine

extension CompletionService {
    /// `POST /tokenize`, in vLLM's shape, which lm-evaluation-harness's remote tokenizer reads:
    /// `{"model"?, "prompt": text, "add_special_tokens"?: true}` → `{"count", "max_model_len",
    /// "tokens"}`. llama.cpp's field name `content` is read as well as `prompt`.
    func tokenize(body data: Data) throws -> JSONValue {
        let (object, model) = try tokenizerRequest(data)
        guard let text = (object["prompt"] ?? object["content"])?.string else {
            throw APIError.invalid("prompt must be a string", param: "prompt")
        }
        var addSpecial = true
        if let flag = object["add_special_tokens"], !flag.isNull {
            guard let value = flag.bool else {
                throw APIError.invalid("add_special_tokens must be a boolean", param: "add_special_tokens")
            }
            addSpecial = value
        }
        let ids: [Int]
        do {
            ids = try model.encode(text, addSpecialTokens: addSpecial)
        } catch {
            throw APIError.invalid("\(error)", param: "prompt")
        }
        return .object(
            JSONObject(members: [
                ("count", .int(ids.count)), ("max_model_len", .int(model.config.maxPositionEmbeddings)),
                ("tokens", .array(ids.map(JSONValue.int)))
            ]))
    }

    /// `POST /detokenize` (vLLM's shape): `{"model"?, "tokens": [ids]}` → `{"prompt": text}`,
    /// special tokens kept.
    func detokenize(body data: Data) throws -> JSONValue {
        let (object, model) = try tokenizerRequest(data)
        let tokenizer = try tokenizer(of: model)
        guard let items = object["tokens"]?.array else {
            throw APIError.invalid("tokens must be a list of token ids", param: "tokens")
        }
        let ids = try items.map { item -> Int in
            guard let id = item.int, (0..<tokenizer.vocabSize).contains(id) else {
                throw APIError.invalid(
                    "tokens must be ids in 0..<\(tokenizer.vocabSize), got \(item.jsonText())", param: "tokens")
            }
            return id
        }
        return .object(["prompt": .string(tokenizer.decode(ids, skipSpecialTokens: false))])
    }

    /// `GET /tokenizer_info` (vLLM's shape): the first served model's special tokens, chat
    /// template and context length (its adapters share the tokenizer). `eos_token` is always
    /// present (null when the model has none): lm-evaluation-harness probes for the key.
    func tokenizerInfo() throws -> JSONValue {
        let model = try tokenizerModel(named: nil)
        let tokenizer = try tokenizer(of: model)
        func text(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return .object(
            JSONObject(members: [
                ("tokenizer_class", .string("lem")), ("bos_token", text(tokenizer.bosToken)),
                ("eos_token", text(tokenizer.eosToken)), ("pad_token", .null),
                ("chat_template", text(model.template?.source ?? tokenizer.chatTemplate)),
                ("model_max_length", .int(model.config.maxPositionEmbeddings))
            ]))
    }

    /// The body's object and the model its optional `model` names.
    private func tokenizerRequest(_ data: Data) throws -> (JSONObject, LoadedModel) {
        let object = try OpenAIRequest.object(data)
        if let name = object["model"], !name.isNull, name.string == nil {
            throw APIError.invalid("model must be a string", param: "model")
        }
        return (object, try tokenizerModel(named: object["model"]?.string))
    }

    private func tokenizerModel(named name: String?) throws -> LoadedModel {
        guard let model = models.model(named: name) else {
            throw APIError.modelNotFound(name ?? "", served: models.names)
        }
        _ = try tokenizer(of: model)
        return model
    }

    private func tokenizer(of model: LoadedModel) throws -> Tokenizer {
        guard let tokenizer = model.tokenizer else {
            throw APIError.invalid("the model has no tokenizer; send token ids")
        }
        return tokenizer
    }
}
