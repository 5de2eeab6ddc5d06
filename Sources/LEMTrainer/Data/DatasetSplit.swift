import Foundation
import LEMCore

/// One dataset file (`train.jsonl`, `valid.jsonl` or `test.jsonl`), parsed and checked line by
/// line as mlx_lm reads it.
///
/// The format is decided by the first record, in mlx_lm's order (`prompt` + `completion`, then
/// `messages`, then `text`); every later record must carry that format's fields. Any line that
/// is not valid JSON or lacks a field is an error naming the file and line, so a broken file
/// stops the run before training starts. Blank lines are skipped (mlx_lm fails on them).
public struct DatasetSplit: Sendable {
    public let file: URL
    public let format: TrainingExample.Format
    public let records: [TrainingRecord]

    /// The number of examples.
    public var count: Int { records.count }

    /// Reads and validates a `.jsonl` file.
    public init(file: URL) throws {
        self.file = file
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw DatasetError.badLine(file: file.path, line: 0, reason: "cannot read: \(error.localizedDescription)")
        }
        var records: [TrainingRecord] = []
        var format: TrainingExample.Format?
        var lineNumber = 0
        // Lines end at LF; a CR before it is dropped (Python's json.loads, which mlx_lm uses,
        // accepts the CRLF lines Windows editors write). Each line is decoded on its own, so a
        // bad byte is reported on its line.
        for bytes in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            let content = bytes.last == 0x0D ? bytes.dropLast() : bytes
            guard let line = String(validating: content, as: UTF8.self) else {
                let offset = Self.firstInvalidUTF8(content)
                throw DatasetError.badLine(
                    file: file.path, line: lineNumber,
                    reason: "not UTF-8 text (bad byte at column \(offset + 1))")
            }
            if line.allSatisfy(\.isWhitespace) { continue }
            let record = try Self.parse(line: Substring(line), number: lineNumber, file: file.path, format: &format)
            records.append(record)
        }
        self.format = format ?? .text
        self.records = records
    }

    static func parse(line: Substring, number: Int, file: String, format: inout TrainingExample.Format?) throws
        -> TrainingRecord
    {
        func bad(_ reason: String) -> DatasetError { .badLine(file: file, line: number, reason: reason) }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
        } catch {
            throw bad("not valid JSON (\(Self.describe(error)))")
        }
        guard let record = object as? [String: Any] else { throw bad("expected a JSON object") }
        if format == nil {
            if record["prompt"] != nil && record["completion"] != nil {
                format = .completion
            } else if record["messages"] != nil {
                format = .chat
            } else if record["text"] != nil {
                format = .text
            } else {
                throw bad(
                    "unsupported record with keys \(record.keys.sorted()); expected \"messages\", \"prompt\" + \"completion\" or \"text\""
                )
            }
        }
        func string(_ key: String) throws -> String {
            guard let value = record[key] else {
                throw bad("missing \"\(key)\" (the file's first record set the \(format!.rawValue) format)")
            }
            guard let text = value as? String else { throw bad("\"\(key)\" must be a string") }
            return text
        }
        let example: TrainingExample
        switch format! {
        case .completion:
            example = .completion(prompt: try string("prompt"), completion: try string("completion"))
        case .text:
            example = .text(try string("text"))
        case .chat:
            guard let value = record["messages"] else {
                throw bad("missing \"messages\" (the file's first record set the chat format)")
            }
            guard let list = value as? [Any], !list.isEmpty else { throw bad("\"messages\" must be a non-empty list") }
            example = .chat(
                try list.enumerated().map { index, item in
                    guard let message = item as? [String: Any] else {
                        throw bad("messages[\(index)] must be an object")
                    }
                    guard let role = message["role"] as? String else {
                        throw bad("messages[\(index)] needs a string \"role\"")
                    }
                    guard let content = message["content"] as? String else {
                        throw bad("messages[\(index)] needs a string \"content\"")
                    }
                    return ChatMessage(role: ChatRole(rawValue: role), content: content)
                })
        }
        return TrainingRecord(line: number, example: example, keyCount: record.count)
    }

    /// The offset of the first byte that does not start or continue a valid UTF-8 sequence.
    static func firstInvalidUTF8(_ bytes: some Collection<UInt8>) -> Int {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s): offset += UTF8.width(s)
            case .emptyInput, .error: return offset
            }
        }
    }

    private static func describe(_ error: Error) -> String {
        let nsError = error as NSError
        return (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
    }
}

/// A dataset folder in mlx_lm's layout: `train.jsonl`, `valid.jsonl`, `test.jsonl`, each
/// optional except the training set when training.
public struct DatasetFolder: Sendable {
    public let folder: URL
    public let train: DatasetSplit?
    public let valid: DatasetSplit?
    public let test: DatasetSplit?

    /// Reads every split present; throws on the first bad line of any file.
    public init(folder: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw DatasetError.missingFolder(folder.path)
        }
        self.folder = folder
        func split(_ name: String) throws -> DatasetSplit? {
            let url = folder.appendingPathComponent("\(name).jsonl")
            return FileManager.default.fileExists(atPath: url.path) ? try DatasetSplit(file: url) : nil
        }
        train = try split("train")
        valid = try split("valid")
        test = try split("test")
    }

    /// Checks the folder can serve a run: a non-empty training set when training, and every
    /// split used holding at least one batch.
    public func validate(training: Bool, testing: Bool, batchSize: Int) throws {
        if training {
            guard let train, train.count > 0 else { throw DatasetError.missingTrainingSet(folder: folder.path) }
            try Self.requireBatch(train, batchSize)
            if let valid, valid.count > 0 { try Self.requireBatch(valid, batchSize) }
        }
        if testing {
            guard let test, test.count > 0 else {
                throw DatasetError.badLine(
                    file: folder.appendingPathComponent("test.jsonl").path, line: 0,
                    reason: "test set missing or empty; required by --test")
            }
            try Self.requireBatch(test, batchSize)
        }
    }

    private static func requireBatch(_ split: DatasetSplit, _ batchSize: Int) throws {
        guard split.count >= batchSize else {
            throw DatasetError.tooFewExamples(file: split.file.path, count: split.count, batchSize: batchSize)
        }
    }
}
