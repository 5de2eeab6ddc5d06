#!/usr/bin/env python3
"""Short-style config.json files and the full configs transformers expands them to.

Checkpoints saved by transformers 4.x leave out every key whose value equals the default of the
model type's config class (`to_diff_dict`); the published Gemma 3 4B/12B/27B folders, for
example, give `text_config` only its sizes that differ from Gemma3TextConfig's. lem must read
such a config to the same ModelConfig as the full one. For each short config below, this script
lets transformers instantiate the config class and writes `<name>.full.json` (`to_dict()`, every
key spelled out, transformers-5 key names) beside `<name>.short.json`.

Reference env (outside the repo, no torch needed for configs):
  python3 -m venv ~/.cache/lem-refs/tf && ~/.cache/lem-refs/tf/bin/pip install transformers==5.25.0
Run: ~/.cache/lem-refs/tf/bin/python Scripts/fixtures_short_configs.py
Writes Tests/Fixtures/formats/short-configs/*.json (a few KB).
"""
import json
import os

import transformers
from transformers import AutoConfig

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "Fixtures", "formats", "short-configs")

# name -> the short config as a 4.x checkpoint carries it.
SHORT = {
    # google/gemma-3-4b-it's config.json as published (vision part cut down: lem ignores it).
    "gemma3-4b": {
        "architectures": ["Gemma3ForConditionalGeneration"], "boi_token_index": 255999,
        "eoi_token_index": 256000, "eos_token_id": [1, 106], "image_token_index": 262144,
        "initializer_range": 0.02, "mm_tokens_per_image": 256, "model_type": "gemma3",
        "text_config": {
            "hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
            "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
            "sliding_window": 1024,
        },
        "torch_dtype": "bfloat16", "transformers_version": "4.50.0.dev0",
        "vision_config": {"model_type": "siglip_vision_model", "vision_use_head": False},
    },
    # The 27B's shape: a query_pre_attn_scalar and head count that differ from the defaults.
    "gemma3-27b": {
        "architectures": ["Gemma3ForConditionalGeneration"], "eos_token_id": [1, 106], "model_type": "gemma3",
        "text_config": {
            "head_dim": 128, "hidden_size": 5376, "intermediate_size": 21504, "model_type": "gemma3_text",
            "num_attention_heads": 32, "num_hidden_layers": 62, "num_key_value_heads": 16,
            "query_pre_attn_scalar": 168, "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
            "sliding_window": 1024,
        },
        "vision_config": {"model_type": "siglip_vision_model"},
    },
    # No text_config at all: Gemma3TextConfig's defaults throughout.
    "gemma3-no-text-config": {"model_type": "gemma3"},
    "gemma3-text-empty": {"model_type": "gemma3_text"},
    "gemma3-text-1b": {
        "model_type": "gemma3_text", "hidden_size": 1152, "intermediate_size": 6912, "num_hidden_layers": 26,
        "num_attention_heads": 4, "num_key_value_heads": 1, "sliding_window": 512, "vocab_size": 262144,
        "sliding_window_pattern": 6, "max_position_embeddings": 32768,
    },
    "llama-empty": {"model_type": "llama"},
    "llama-short": {"model_type": "llama", "hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 3,
                    "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300},
    "mistral-empty": {"model_type": "mistral"},
    "mistral-short": {"model_type": "mistral", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                      "vocab_size": 32768, "sliding_window": None, "rope_theta": 1000000.0},
    "qwen2-empty": {"model_type": "qwen2"},
    "qwen2-short": {"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 4,
                    "num_attention_heads": 8, "num_key_value_heads": 2, "use_sliding_window": True, "max_window_layers": 2,
                    "sliding_window": 16},
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, short in SHORT.items():
        cls = type(AutoConfig.for_model(short["model_type"]))
        full = cls(**{k: v for k, v in short.items() if k != "model_type"}).to_dict()
        full["transformers_version"] = transformers.__version__
        for suffix, cfg in (("short", short), ("full", full)):
            with open(os.path.join(OUT, f"{name}.{suffix}.json"), "w") as f:
                json.dump(cfg, f, indent=1, sort_keys=True)
                f.write("\n")
    print(f"wrote {2 * len(SHORT)} files to {os.path.normpath(OUT)} (transformers {transformers.__version__})")


if __name__ == "__main__":
    main()
