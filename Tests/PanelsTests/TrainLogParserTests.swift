import Panels
import Testing

@Suite struct TrainLogParserTests {
    @Test func parsesTypedAndInferredRecordsWithAliases() {
        let lines = [
            #"{"type": "start", "total_steps": 100}"#,
            #"{"type": "train", "step": 10, "loss": 2.5, "lr": 1e-4, "tokens_per_sec": 1500, "trained_tokens": 5120, "peak_memory_gb": 1.25, "elapsed": 5}"#,
            #"{"iter": 20, "train_loss": "2.25", "learning_rate": 2e-4}"#,
            #"{"step": 20, "val_loss": 2.4}"#,
            "",
            #"{"type": "saved", "step": 20, "path": "adapters/0000020.safetensors"}"#,
            #"{"type": "eval_extra", "step": 20}"#,
        ]
        let (records, issues) = TrainLogParser.parse(lines, source: "log")
        #expect(issues.isEmpty)
        #expect(records.map(\.type) == ["start", "train", "train", "val", "saved", "eval_extra"])
        #expect(records[1].learningRate == 1e-4 && records[1].tokensPerSecond == 1500 && records[1].peakMemoryGB == 1.25)
        #expect(records[2].step == 20 && records[2].loss == 2.25 && records[2].learningRate == 2e-4)
        #expect(records[3].loss == 2.4)
        var m = TrainViewModel()
        m.apply(records)
        #expect(m.trainLoss == [LossPoint(step: 10, value: 2.5), LossPoint(step: 20, value: 2.25)])
        #expect(m.validationLoss.count == 1 && m.bestValidation?.step == 20)
        #expect(m.totalSteps == 100 && m.step == 20 && m.checkpointPaths == ["adapters/0000020.safetensors"])
        #expect(m.eta == 40)  // 5 s after 10 steps → 0.5 s/step, 80 steps left
    }

    @Test func readsTheTrainersOwnEventLines() {
        let lines = [
            #"{"event":"validation","step":0,"val_loss":2.5,"val_time":0.1}"#,
            #"{"event":"train","it_per_sec":2,"loss":2.25,"lr":0.001,"peak_mem_mb":512,"step":10,"tokens_per_sec":100,"trained_tokens":640}"#,
            #"{"event":"failed","error":"cancelled","step":13}"#,
        ]
        let (records, issues) = TrainLogParser.parse(lines, source: "train-log.jsonl")
        #expect(issues.isEmpty)
        #expect(records.map(\.type) == ["val", "train", "failed"])
        #expect(records[1].peakMemoryGB == 0.5 && records[1].trainedTokens == 640 && records[1].learningRate == 0.001)
    }

    @Test func badLinesAreReportedWithTheirLineNumbersAndSkipped() {
        let lines = [#"{"type": "train", "step": 1, "loss": 3}"#, "not json", #"{"type": "train", "step": 2}"#, #"{"foo": 1}"#, "[1,2]"]
        let (records, issues) = TrainLogParser.parse(lines, source: "run/train-log.jsonl", firstLine: 11)
        #expect(records.count == 1)
        #expect(issues.map(\.line) == [12, 13, 14, 15])
        #expect(issues[0].description.hasPrefix("run/train-log.jsonl:12: expected a JSON object"))
        #expect(issues[1].reason == "train record needs 'step' and 'loss'")
    }

    @Test func partialLinesWaitForTheirNewline() {
        var pending = ""
        #expect(TrainLogParser.completeLines(appending: "{\"a\":1}\n{\"b\"", pending: &pending) == ["{\"a\":1}"])
        #expect(pending == "{\"b\"")
        #expect(TrainLogParser.completeLines(appending: ":2}\n", pending: &pending) == ["{\"b\":2}"])
        #expect(pending.isEmpty)
    }

    @Test func emaMatchesTheBiasCorrectedFormula() {
        let pts = [LossPoint(step: 1, value: 4), LossPoint(step: 2, value: 2), LossPoint(step: 3, value: 3)]
        let s = TrainViewModel.ema(pts, alpha: 0.5).map(\.value)
        // Raw sums 2, 2, 2.5 over bias weights 0.5, 0.75, 0.875.
        #expect(abs(s[0] - 4) < 1e-12)
        #expect(abs(s[1] - (0.5 * 2 + 0.5 * 2) / 0.75) < 1e-12)
        #expect(abs(s[2] - (0.5 * 2 + 0.5 * 3) / 0.875) < 1e-12)
        #expect(TrainViewModel.ema(pts, alpha: 0) == pts)
    }
}
