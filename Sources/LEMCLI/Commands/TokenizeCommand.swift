import ArgumentParser
import Foundation
import LEMEngine

/// `lem tokenize`: token ids and pieces of a text, or a load/encode benchmark.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids and pieces of a text (model folder, tokenizer folder, tokenizer.json or .gguf).")

    @Option(help: "Model folder, tokenizer folder, tokenizer.json or .gguf file.") var model: String
    @Option(help: "Text to tokenize.") var text: String?
    @Flag(help: "Print {\"ids\": [...], \"pieces\": [...]} as JSON.") var json = false
    @Flag(name: .customLong("no-special"), help: "Leave out the BOS/EOS the post-processor would add.") var noSpecial =
        false
    @Flag(help: "Measure loading and encoding speed instead (1 MB of English text, or --file).") var bench = false
    @Option(help: "With --bench: a UTF-8 text file to encode instead of the generated English text.") var file: String?

    func run() throws {
        let url = URL(fileURLWithPath: (model as NSString).expandingTildeInPath)
        let start = Date()
        let tokenizer = try Tokenizer.load(from: url)
        let loadSeconds = Date().timeIntervalSince(start)
        if bench {
            try runBench(tokenizer, loadSeconds: loadSeconds)
            return
        }
        guard let text else { throw ValidationError("--text is required (or use --bench)") }
        let ids = try tokenizer.encode(text, addSpecialTokens: !noSpecial)
        let pieces = ids.map { tokenizer.tokenString($0) ?? "" }
        if json {
            let data = try JSONSerialization.data(
                withJSONObject: ["ids": ids, "pieces": pieces], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for (id, piece) in zip(ids, pieces) { print("\(id)\t\(piece.debugDescription)") }
            print("\(ids.count) tokens")
        }
    }

    private func runBench(_ tokenizer: Tokenizer, loadSeconds: Double) throws {
        let text: String
        if let file {
            text = try String(
                contentsOf: URL(fileURLWithPath: (file as NSString).expandingTildeInPath), encoding: .utf8)
        } else {
            text = Self.englishText(bytes: 1 << 20)
        }
        let start = Date()
        let ids = try tokenizer.encode(text, addSpecialTokens: false)
        let seconds = Date().timeIntervalSince(start)
        let decodeStart = Date()
        let back = tokenizer.decode(ids)
        let decodeSeconds = Date().timeIntervalSince(decodeStart)
        let mb = Double(text.utf8.count) / 1_048_576
        print(String(format: "load: %.3f s (vocab %d)", loadSeconds, tokenizer.vocabSize))
        print(
            String(
                format: "encode: %.2f MB in %.3f s = %.2f MB/s, %d tokens (%.0f tokens/s)",
                mb, seconds, mb / seconds, ids.count, Double(ids.count) / seconds))
        print(String(format: "decode: %.3f s, round trip %@", decodeSeconds, back == text ? "exact" : "differs"))
    }

    /// Deterministic English-like prose: common words, capitals, punctuation, numbers, paragraphs.
    static func englishText(bytes: Int) -> String {
        let words =
            ("the of and to in is was he for it with as his on be at by had are but from or have an they which one "
            + "you were all we her she there would their will when who him been has more if no out do so can what up said "
            + "about other into than its time only could new them man some these then two first may any like now my such "
            + "make over our even most me state after also made many did must before back see through way where get much "
            + "go well your know should down work year because come people just say each those take day good how long "
            + "little use very great still men here life both between old under last never place same another think house "
            + "while high right might came off find states since used give against three himself language model training "
            + "weights tokenizer attention gradient evaluation benchmark consent sovereignty axiom ethical reasoning")
            .split(separator: " ")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        var out = ""
        out.reserveCapacity(bytes + 64)
        var sentenceStart = true
        while out.utf8.count < bytes {
            var word = String(words[next(words.count)])
            if sentenceStart { word = word.prefix(1).uppercased() + word.dropFirst() }
            out += word
            sentenceStart = false
            switch next(40) {
            case 0...2:
                out += ". "
                sentenceStart = true
            case 3: out += ", "
            case 4: out += " \(next(2000)) "
            case 5:
                out += ".\n\n"
                sentenceStart = true
            case 6: out += "'s "
            default: out += " "
            }
        }
        return out
    }
}
