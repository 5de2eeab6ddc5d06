import Foundation
import LEMCore
import LEMFormats

/// One record of an mlx_lm dataset file, in one of its three formats.
public enum TrainingExample: Sendable, Equatable {
    /// `{"messages": [{"role", "content"}, ...]}`, rendered with the model's chat template.
    case chat([ChatMessage])
    /// `{"prompt": ..., "completion": ...}`, rendered as a user turn and an assistant turn.
    case completion(prompt: String, completion: String)
    /// `{"text": ...}`, tokenized as is, with EOS appended when missing.
    case text(String)

    /// The dataset format of a record, decided by mlx_lm from the file's first record.
    public enum Format: String, Sendable {
        case chat, completion, text
    }

    /// This record's format.
    public var format: Format {
        switch self {
        case .chat: return .chat
        case .completion: return .completion
        case .text: return .text
        }
    }
}

/// A parsed line of a dataset file, with where it came from.
public struct TrainingRecord: Sendable, Equatable {
    /// 1-based line number in the file.
    public var line: Int
    public var example: TrainingExample
    /// The number of top-level JSON keys: mlx_lm 0.32 sorts batches by this (see `BatchOrder`).
    public var keyCount: Int
}

/// A problem with a dataset folder or file, naming the file and line.
public enum DatasetError: Error, Equatable, LocalizedError, CustomStringConvertible {
    /// A line that is not a JSON object of the file's format.
    case badLine(file: String, line: Int, reason: String)
    /// `train.jsonl` is missing or empty.
    case missingTrainingSet(folder: String)
    /// A split with fewer examples than one batch (mlx_lm fails mid-run on this; we fail first).
    case tooFewExamples(file: String, count: Int, batchSize: Int)
    /// The data folder does not exist.
    case missingFolder(String)
    /// The chat template or tokenizer failed on a record.
    case rendering(file: String, line: Int, reason: String)

    /// The message: at most 4 KB, control characters escaped; line 0 means the whole file.
    public var errorDescription: String? { ErrorText.bounded(text) }

    /// The same message, for string interpolation.
    public var description: String { ErrorText.bounded(text) }

    private var text: String {
        switch self {
        case .badLine(let file, let line, let reason):
            return line > 0 ? "\(file):\(line): \(reason)" : "\(file): \(reason)"
        case .missingTrainingSet(let folder):
            return "\(folder): train.jsonl is missing or empty; a training set is required"
        case .tooFewExamples(let file, let count, let batchSize):
            return "\(file): \(count) examples, fewer than the batch size \(batchSize)"
        case .missingFolder(let folder): return "\(folder): data folder not found"
        case .rendering(let file, let line, let reason):
            return "\(file):\(line): cannot render with the chat template: \(reason)"
        }
    }
}
