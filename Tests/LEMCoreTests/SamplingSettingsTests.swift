import Foundation
import LEMCore
import Testing

@Suite("SamplingSettings")
struct SamplingSettingsTests {
    func json(_ s: SamplingSettings) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(s), as: UTF8.self)
    }

    @Test("the stored JSON keeps the keys runs were stored with (a run's identity)")
    func legacyEncoding() throws {
        let s = SamplingSettings(temperature: 0.3, maxTokens: 256, seed: 7)
        #expect(
            try json(s)
                == #"{"maxTokens":256,"minP":0,"repetitionPenalty":1,"seed":7,"temperature":0.3,"topK":0,"topP":1}"#)
        var windowed = s
        windowed.repetitionWindow = 64
        #expect(try json(windowed).contains(#""repetitionWindow":64"#))
        #expect(try !json(SamplingSettings(seed: nil)).contains("seed"))
    }

    @Test("decoding fills absent keys with the defaults")
    func decoding() throws {
        let s = try JSONDecoder().decode(
            SamplingSettings.self, from: Data(#"{"temperature": 0.7, "maxTokens": 64}"#.utf8))
        #expect(s.temperature == 0.7 && s.maxTokens == 64 && s.topP == 1 && s.repetitionWindow == 0 && s.seed == nil)
        let legacy = #"{"maxTokens":256,"minP":0,"repetitionPenalty":1,"seed":7,"temperature":0.3,"topK":0,"topP":1}"#
        let back = try JSONDecoder().decode(SamplingSettings.self, from: Data(legacy.utf8))
        #expect(try json(back) == legacy)
    }

    @Test("validation names the bad setting")
    func validation() {
        #expect(SamplingSettings().validationError() == nil)
        #expect(SamplingSettings(topP: 0).validationError()?.contains("top-p") == true)
        #expect(SamplingSettings(topK: -1).validationError()?.contains("top-k") == true)
        #expect(SamplingSettings(minP: 1).validationError()?.contains("min-p") == true)
        #expect(SamplingSettings(repetitionPenalty: 0).validationError()?.contains("repetition") == true)
        #expect(SamplingSettings(temperature: .infinity).validationError()?.contains("temperature") == true)
        #expect(SamplingSettings(maxTokens: -1).validationError()?.contains("max tokens") == true)
    }
}
