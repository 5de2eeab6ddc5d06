import LEMCore

/// An error answered in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}` with
/// the matching HTTP status, so any OpenAI client raises its usual exception.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status code.
    public var status: Int
    /// What went wrong, for a person.
    public var message: String
    /// OpenAI's error type (`invalid_request_error`, `authentication_error`, …).
    public var type: String
    /// The request field at fault, if one is.
    public var param: String?
    /// A machine-readable code (`model_not_found`, `context_length_exceeded`, …).
    public var code: String?

    /// An error with every field given.
    public init(status: Int, message: String, type: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    /// 400: a field is missing, of the wrong kind or out of range.
    public static func invalid(_ message: String, param: String? = nil) -> APIError {
        APIError(status: 400, message: message, type: "invalid_request_error", param: param)
    }

    /// 401: no or a wrong API key.
    public static let unauthorized = APIError(
        status: 401, message: "missing or incorrect API key: send `Authorization: Bearer <key>`",
        type: "authentication_error", code: "invalid_api_key")

    /// 404: no such model.
    public static func modelNotFound(_ name: String, served: [String]) -> APIError {
        APIError(
            status: 404,
            message: "the model `\(name)` does not exist; this server has: \(served.joined(separator: ", "))",
            type: "invalid_request_error", param: "model", code: "model_not_found")
    }

    /// 413: the body is over the limit.
    public static func tooLarge(limit: Int) -> APIError {
        APIError(
            status: 413, message: "request body larger than \(limit) bytes", type: "invalid_request_error",
            code: "request_too_large")
    }

    /// 429: the queue is full.
    public static func busy(queue: Int) -> APIError {
        APIError(
            status: 429, message: "the server is busy (\(queue) requests waiting); retry later",
            type: "rate_limit_error", code: "rate_limit_exceeded")
    }

    /// The JSON body.
    public var json: JSONValue {
        .object([
            "error": .object(
                JSONObject(members: [
                    ("message", .string(message)), ("type", .string(type)),
                    ("param", param.map(JSONValue.string) ?? .null), ("code", code.map(JSONValue.string) ?? .null)
                ]))
        ])
    }

    public var description: String { "\(status) \(type): \(message)" }
}
