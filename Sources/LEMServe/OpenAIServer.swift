import Foundation
import Hummingbird
import LEMCore
import Logging
import NIOCore

/// `lem serve`: the engine behind the OpenAI-compatible HTTP API, on Hummingbird (SwiftNIO).
///
/// Routes: `GET /health`, `GET /v1/models`, `POST /v1/chat/completions`, `POST /v1/completions`,
/// and vLLM's `POST /tokenize`, `POST /detokenize`, `GET /tokenizer_info`.
/// Every error, unknown routes and oversized bodies included, is answered in OpenAI's JSON shape;
/// nothing a client sends reaches a `fatalError`. A client that disconnects cancels its request:
/// a non-streaming one through Hummingbird's inbound-close watch, a streaming one at its next
/// write.
public struct OpenAIServer: Sendable {
    /// The endpoints' logic.
    public let service: CompletionService
    private var configuration: ServeConfiguration { service.configuration }

    /// A server for `service`, listening as `service.configuration` says.
    public init(service: CompletionService) { self.service = service }

    /// Serves until the task is cancelled (or, with `handleSignals`, until SIGINT/SIGTERM);
    /// `onListening` receives the bound port once the socket is open.
    public func run(handleSignals: Bool = false, onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws
    {
        if let message = configuration.validationError() { throw APIError.invalid(message) }
        let router = Router(context: BasicRequestContext.self)
        router.add(
            middleware: OpenAIErrorMiddleware(apiKey: configuration.apiKey, maxBodyBytes: configuration.maxBodyBytes))
        router.get("/health") { _, _ in
            let load = service.scheduler.load
            return Self.json(
                .object(
                    JSONObject(members: [
                        ("status", .string("ok")), ("waiting", .int(load.waiting)), ("running", .int(load.running)),
                        ("served", .int(load.served))
                    ])))
        }
        router.get("/v1/models") { _, _ in Self.json(service.modelList()) }
        router.post("/v1/chat/completions") { request, _ in try await completion(request, chat: true) }
        router.post("/v1/completions") { request, _ in try await completion(request, chat: false) }
        // vLLM's tokenizer endpoints (lm-evaluation-harness finds and uses them).
        router.post("/tokenize") { request, _ in Self.json(try service.tokenize(body: try await collect(request))) }
        router.post("/detokenize") { request, _ in
            Self.json(try service.detokenize(body: try await collect(request)))
        }
        router.get("/tokenizer_info") { _, _ in Self.json(try service.tokenizerInfo()) }

        var logger = Logger(label: "lem.serve")
        // Request errors go to the client; embedded (tests), cancelling the task is the normal
        // stop, which Hummingbird would log as an error.
        logger.logLevel = handleSignals ? .error : .critical
        let idle = TimeAmount.milliseconds(Int64(configuration.idleTimeout * 1000))
        let app = Application(
            router: router, server: .http1(configuration: .init(idleTimeout: idle)),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "lem"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) }, logger: logger)
        if handleSignals {
            try await app.runService()
        } else {
            try await app.run()
        }
    }

    /// A body read whole under the size limit.
    private func collect(_ request: Request) async throws -> Data {
        try refuseDeclaredTooLarge(request)
        do {
            return Data(try await request.body.collect(upTo: configuration.maxBodyBytes).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge(limit: configuration.maxBodyBytes)
        }
    }

    /// 413 at once when the Content-Length says the body is over the limit.
    private func refuseDeclaredTooLarge(_ request: Request) throws {
        let limit = configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.tooLarge(limit: limit)
        }
    }

    /// A completion request: the body read under the size limit, checked, then answered whole
    /// or as server-sent events.
    private func completion(_ request: Request, chat: Bool) async throws -> Response {
        try refuseDeclaredTooLarge(request)
        let limit = configuration.maxBodyBytes
        return try await request.body.consumeWithCancellationOnInboundClose { body in
            let buffer: ByteBuffer
            do {
                buffer = try await body.collect(upTo: limit)
            } catch is NIOTooManyBytesError {
                throw APIError.tooLarge(limit: limit)
            }
            let prepared = try service.prepare(body: Data(buffer.readableBytesView), chat: chat)
            if prepared.body.stream {
                let events = service.stream(prepared)
                var headers = HTTPFields()
                headers[.contentType] = "text/event-stream"
                headers[.cacheControl] = "no-cache"
                return Response(
                    status: .ok, headers: headers,
                    body: ResponseBody { writer in
                        // A failed write (the client left) ends the loop, which cancels the generation.
                        for await payload in events {
                            try await writer.write(ByteBuffer(string: "data: \(payload)\n\n"))
                        }
                        try await writer.finish(nil)
                    })
            }
            return Self.json(try await service.complete(prepared))
        }
    }

    /// A JSON response.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: status, headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonText(sortedKeys: false))))
    }
}

/// Checks the bearer key on every route but `/health` and turns every error into OpenAI's JSON shape.
struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let apiKey: String?
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await respond(request, context: context, next: next)
        // The completion routes watch the connection's inbound side for a disconnect, which ends
        // the connection after the response: say so, or a keep-alive client (httpx, the openai
        // package) sends its next request into a closing connection and sees no answer.
        if request.method == .post, Self.watchedPaths.contains(request.uri.path) {
            response.headers[.connection] = "close"
        }
        return response
    }

    /// The routes that watch for a client leaving (`consumeWithCancellationOnInboundClose`).
    static var watchedPaths: Set<String> { ["/v1/chat/completions", "/v1/completions"] }

    private func respond(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            if let apiKey, request.uri.path != "/health",
                !Self.authorized(request.headers[.authorization], key: apiKey)
            {
                throw APIError.unauthorized
            }
            return try await next(request, context)
        } catch let error as APIError {
            return OpenAIServer.json(error.json, status: .init(code: error.status))
        } catch let error as any HTTPResponseError {
            let status = error.status
            let api: APIError
            switch status.code {
            case 404:
                api = APIError(
                    status: 404, message: "no route \(request.method) \(request.uri.path)",
                    type: "invalid_request_error", code: "not_found")
            case 405:
                api = APIError(
                    status: 405, message: "\(request.method) is not allowed on \(request.uri.path)",
                    type: "invalid_request_error")
            case 413: api = APIError.tooLarge(limit: maxBodyBytes)
            default: api = APIError(status: status.code, message: status.reasonPhrase, type: "invalid_request_error")
            }
            return OpenAIServer.json(api.json, status: status)
        } catch is CancellationError {
            // The client is gone; nobody reads this.
            return OpenAIServer.json(
                APIError(status: 499, message: "cancelled", type: "server_error").json,
                status: .init(code: 499))
        } catch {
            return OpenAIServer.json(
                APIError(status: 500, message: "\(error)", type: "server_error").json,
                status: .internalServerError)
        }
    }

    /// Compares `Bearer <key>` in time independent of where the first difference is.
    static func authorized(_ header: String?, key: String) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let given = Array(header.dropFirst(7).utf8)
        let expected = Array(key.utf8)
        var difference = given.count ^ expected.count
        for i in 0..<expected.count { difference |= Int(expected[i] ^ (i < given.count ? given[i] : 0)) }
        return difference == 0
    }
}
