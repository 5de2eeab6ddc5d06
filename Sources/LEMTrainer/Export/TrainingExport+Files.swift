import Foundation
import LEMCore

extension TrainingExport {
    /// A split as JSON lines in the target's format, one record per line, blank lines dropped.
    ///
    /// mlx_lm gets each record in the format it came in (`messages`, `prompt` + `completion` or
    /// `text`), with only that format's fields. TRL gets `text` and `messages` unchanged, a
    /// `prompt`/`completion` pair as a conversational pair (one user turn, one assistant turn: the
    /// turns mlx_lm renders it as), and, under `mask_prompt`, a chat record split into its earlier
    /// turns and its last turn (the only turn mlx_lm computes the loss on).
    func dataLines(_ split: DatasetSplit) -> String {
        split.records.map { record in
            let value: JSONValue
            switch format {
            case .mlxLM: value = Self.mlxLMRecord(record.example)
            case .trl: value = Self.trlRecord(record.example, promptCompletion: trlUsesPromptCompletion)
            }
            return value.jsonText(sortedKeys: false) + "\n"
        }.joined()
    }

    /// One record in mlx_lm's dataset format.
    static func mlxLMRecord(_ example: TrainingExample) -> JSONValue {
        switch example {
        case .chat(let messages): return .object(["messages": turns(messages)])
        case .completion(let prompt, let completion):
            return ordered(["prompt": .string(prompt), "completion": .string(completion)])
        case .text(let text): return .object(["text": .string(text)])
        }
    }

    /// An object with `members` in the order written (a record reads as the format shows it).
    private static func ordered(_ members: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(JSONObject(members: members.map { (key: $0.key, value: $0.value) }))
    }

    /// One record in TRL's SFT dataset format.
    static func trlRecord(_ example: TrainingExample, promptCompletion: Bool) -> JSONValue {
        switch example {
        case .chat(let messages) where promptCompletion && messages.count > 1:
            return ordered([
                "prompt": turns(Array(messages.dropLast())), "completion": turns([messages[messages.count - 1]])
            ])
        case .chat(let messages): return .object(["messages": turns(messages)])
        case .completion(let prompt, let completion):
            return ordered([
                "prompt": turns([ChatMessage(role: .user, content: prompt)]),
                "completion": turns([ChatMessage(role: .assistant, content: completion)])
            ])
        case .text(let text): return .object(["text": .string(text)])
        }
    }

    private static func turns(_ messages: [ChatMessage]) -> JSONValue {
        .array(messages.map { ordered(["role": .string($0.role.rawValue), "content": .string($0.content)]) })
    }

    /// The README: how to run, how the adapter comes back to lem, and what differs.
    func readme(folder: URL, notes: [String]) -> String {
        let tool = format == .mlxLM ? "mlx_lm" : "TRL"
        var text = "# \(tool) LoRA run exported by `lem train --export \(format.rawValue)`\n\n"
        if !problems.isEmpty {
            text += "**Before you run it:**\n\n" + problems.map { "- \($0)\n" }.joined() + "\n"
        }
        if let local = model.localNote { text += "Note: \(local).\n\n" }
        let splits = [data.train, data.valid, data.test].compactMap { $0 }.filter { $0.count > 0 }
        text +=
            "Files: `config.yaml`, `launch.sh`, `data/` ("
            + splits.map { "\($0.file.lastPathComponent): \($0.count) examples" }.joined(separator: ", ") + ").\n\n"
        switch format {
        case .mlxLM:
            text += """
                ## Run

                ```sh
                mlx_lm lora -c \(folder.path)/config.yaml
                # several Macs (mlx_lm and this folder at the same path on each):
                mlx.launch --hosts mac1,mac2 -- mlx_lm lora -c \(folder.path)/config.yaml
                ```

                The adapter (`adapters.safetensors`, `adapter_config.json`, checkpoints) goes to
                `\(adapterPath(in: folder))`. lem loads that folder as it is:
                `lem chat --model MODEL --adapter-path \(adapterPath(in: folder))`.

                """
        case .trl:
            text += """
                ## Run

                ```sh
                pip install trl peft
                trl sft --config \(folder.path)/config.yaml
                # N GPUs:
                accelerate launch --num_processes N -m trl.scripts.sft --config \(folder.path)/config.yaml
                # no GPU (a check, slowly): add --bf16 false --use_cpu true
                ```

                The PEFT adapter (`adapter_model.safetensors`, `adapter_config.json`) goes to
                `\(adapterPath(in: folder))`. lem loads that folder as it is:
                `lem chat --model MODEL --adapter-path \(adapterPath(in: folder))`.

                LoRA scale: mlx_lm multiplies the low-rank path by `scale`, PEFT by `lora_alpha / r`, so
                `lora_alpha = rank × scale`. Module names: mlx_lm's `self_attn.q_proj` is PEFT's `q_proj`.

                """
        }
        if !notes.isEmpty {
            text += "\n## Differences from `lem train`\n\n" + notes.map { "- \($0)\n" }.joined()
        }
        return text
    }
}
