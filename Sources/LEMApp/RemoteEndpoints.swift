import Foundation
import LEMCore
import LEMFormats

/// An OpenAI-compatible server the Chat panel can talk to (`lem serve`, llama.cpp's server,
/// vLLM, Ollama, a hosted API). In the pickers it is `name (remote)`; the chat's model path for
/// it is `remote:<name>`, which is also what a saved session records.
public struct RemoteEndpoint: Hashable, Sendable {
    /// The name in the pickers: letters, digits, `.`, `_`, `-`, `:` and `/`.
    public var name: String
    /// The API root, e.g. `http://127.0.0.1:8080/v1`.
    public var url: URL
    /// The server's name for the model; nil asks `/v1/models` and takes the first.
    public var model: String?
    /// The environment variable holding the API key, if the server wants one.
    public var keyEnv: String?

    /// Creates an endpoint.
    public init(name: String, url: URL, model: String? = nil, keyEnv: String? = nil) {
        self.name = name
        self.url = url
        self.model = model
        self.keyEnv = keyEnv
    }

    /// The prefix of a remote model path.
    public static let pathPrefix = "remote:"

    /// The chat's model path for this endpoint.
    public var modelPath: String { Self.pathPrefix + name }

    /// The name in a `remote:<name>` model path, nil for a local path.
    public static func name(inModelPath path: String) -> String? {
        path.hasPrefix(pathPrefix) ? String(path.dropFirst(pathPrefix.count)) : nil
    }

    /// `name (remote)`, as the pickers show it.
    public var title: String { name + " (remote)" }

    /// The endpoint's line in the endpoints file.
    public var line: String {
        var out = "\(name) = \(url.absoluteString)"
        if let model { out += " \(model)" }
        if let keyEnv { out += " key-env \(keyEnv)" }
        return out
    }

    static func validName(_ s: Substring) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-:/".contains($0)) }
    }

    /// An API root as typed: `http`/`https` with a host.
    static func apiRoot(_ text: Substring) -> URL? {
        guard let url = URL(string: String(text)), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { return nil }
        return url
    }

    /// An endpoint from what a person types in the settings form: `URL [model] [key-env VAR]`,
    /// named `host:port` (`/model` added when a model is given).
    public static func typed(_ text: String) throws -> RemoteEndpoint {
        let words = text.split(whereSeparator: \.isWhitespace)
        guard let first = words.first, let url = apiRoot(first) else {
            throw AppError(
                "a remote model is `URL [model] [key-env VARIABLE]` with an http(s) URL, "
                    + "e.g. http://127.0.0.1:8080/v1; got `\(ErrorText.clip(text, limit: 80))`")
        }
        let (model, keyEnv) = try options(words.dropFirst(), where: "the remote model")
        var name = url.host! + (url.port.map { ":\($0)" } ?? "")
        if let model { name += "/" + model }
        return RemoteEndpoint(name: name, url: url, model: model, keyEnv: keyEnv)
    }

    /// `[model] [key-env VAR]` after the URL.
    private static func options(_ words: ArraySlice<Substring>, where place: String) throws -> (String?, String?) {
        var rest = Array(words)
        var keyEnv: String?
        if let k = rest.firstIndex(of: "key-env") {
            guard k + 1 < rest.count, validName(rest[k + 1]) else {
                throw AppError("\(place): `key-env` needs the name of an environment variable")
            }
            keyEnv = String(rest[k + 1])
            rest.removeSubrange(k...k + 1)
        }
        guard rest.count <= 1 else {
            throw AppError("\(place): expected `URL [model] [key-env VARIABLE]`, found extra `\(rest[1])`")
        }
        return (rest.first.map(String.init), keyEnv)
    }

    /// One line of the endpoints file (`name = URL [model] [key-env VAR]`); nil for a blank or
    /// `#` comment line.
    static func parse(_ line: Substring, place: String) throws -> RemoteEndpoint? {
        let text = line.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, !text.hasPrefix("#") else { return nil }
        let parts = text.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { throw AppError("\(place): expected `name = URL [model] [key-env VARIABLE]`") }
        let name = parts[0].trimmingCharacters(in: .whitespaces)
        guard validName(name[...]) else {
            throw AppError(
                "\(place): the name `\(ErrorText.clip(name, limit: 60))` may hold only letters, digits, .-_:/")
        }
        let words = parts[1].split(whereSeparator: \.isWhitespace)
        guard let first = words.first, let url = apiRoot(first) else {
            throw AppError("\(place): expected an http(s) URL after `=`")
        }
        let (model, keyEnv) = try options(words.dropFirst(), where: place)
        return RemoteEndpoint(name: name, url: url, model: model, keyEnv: keyEnv)
    }
}

/// The remote chat models saved in `<config>/endpoints`, one per line:
///
///     # name = API root [model] [key-env VARIABLE]
///     laptop = http://127.0.0.1:8080/v1 smollm2
///     hosted = https://api.example.com/v1 some-model key-env EXAMPLE_API_KEY
///
/// API keys are never written to the file, only the name of the variable that holds one.
public struct RemoteEndpoints: Sendable {
    /// The file read and written.
    public let file: URL
    /// The endpoints, in file order.
    public private(set) var list: [RemoteEndpoint]

    /// Endpoints to be saved in `file`.
    public init(file: URL, list: [RemoteEndpoint] = []) {
        self.file = file
        self.list = list
    }

    /// The endpoints in `file` (none when it does not exist); a bad line is an error naming the
    /// file and line.
    public static func load(_ file: URL) throws -> RemoteEndpoints {
        guard FileManager.default.fileExists(atPath: file.path) else { return RemoteEndpoints(file: file, list: []) }
        let text: String
        do { text = try String(contentsOf: file, encoding: .utf8) } catch {
            throw AppError("\(file.path): cannot read (\(error.localizedDescription))")
        }
        var list: [RemoteEndpoint] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let e = try RemoteEndpoint.parse(line, place: "\(file.path):\(i + 1)") else { continue }
            list.removeAll { $0.name == e.name }
            list.append(e)
        }
        return RemoteEndpoints(file: file, list: list)
    }

    /// The endpoint called `name`.
    public func endpoint(named name: String) -> RemoteEndpoint? { list.first { $0.name == name } }

    /// Adds `endpoint` (replacing one of the same name) and rewrites the file atomically, keeping
    /// its comments and other lines.
    public mutating func save(_ endpoint: RemoteEndpoint) throws {
        var lines: [String] = []
        if let text = try? String(contentsOf: file, encoding: .utf8) {
            lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
        } else {
            lines = ["# Remote chat models: name = API root [model] [key-env VARIABLE]"]
        }
        let mine = lines.firstIndex { (try? RemoteEndpoint.parse($0[...], place: ""))?.name == endpoint.name }
        if let mine { lines[mine] = endpoint.line } else { lines.append(endpoint.line) }
        do {
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file, options: .atomic)
        } catch {
            throw AppError("\(file.path): cannot save the remote model (\(error.localizedDescription))")
        }
        if let i = list.firstIndex(where: { $0.name == endpoint.name }) {
            list[i] = endpoint
        } else {
            list.append(endpoint)
        }
    }
}
