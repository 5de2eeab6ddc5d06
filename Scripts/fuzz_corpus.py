#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (Fuzz/Corpus/<target>/), each file small.

Seeds come from the committed fixtures (templates, config.json, a tiny tokenizer.json, the
training recipe) plus a few built here: a GGUF of a one-layer llama with an 8-token vocabulary
and a chat template, and a two-tensor safetensors file. Standard library only; rerun after
changing a fixture: python3 Scripts/fuzz_corpus.py
"""
import json
import os
import shutil
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CORPUS = os.path.join(ROOT, "Fuzz", "Corpus")
FIX = os.path.join(ROOT, "Tests", "Fixtures")


def target(name):
    path = os.path.join(CORPUS, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_value(v):
    # (type code, payload) for the value kinds the seed uses.
    if isinstance(v, bool):
        return 7, struct.pack("<B", v)
    if isinstance(v, int):
        return 4, struct.pack("<I", v)
    if isinstance(v, float):
        return 6, struct.pack("<f", v)
    if isinstance(v, str):
        return 8, gguf_string(v)
    if isinstance(v, list):
        code, _ = gguf_value(v[0])
        return 9, struct.pack("<IQ", code, len(v)) + b"".join(gguf_value(x)[1] for x in v)
    raise TypeError(v)


def tiny_gguf():
    c, heads, kv, hd, ff = 8, 2, 1, 4, 16
    tokens = ["a", "b", "c", "ab", "<s>", "</s>", "Ġ", "abc"]
    meta = {
        "general.architecture": "llama",
        "llama.block_count": 1, "llama.embedding_length": c, "llama.feed_forward_length": ff,
        "llama.attention.head_count": heads, "llama.attention.head_count_kv": kv,
        "llama.context_length": 64, "llama.rope.freq_base": 10000.0,
        "llama.attention.layer_norm_rms_epsilon": 1e-5,
        "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "llama-bpe", "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.token_type": [1, 1, 1, 1, 3, 3, 1, 1], "tokenizer.ggml.merges": ["a b", "ab c"],
        "tokenizer.ggml.bos_token_id": 4, "tokenizer.ggml.eos_token_id": 5,
        "tokenizer.chat_template": "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}",
    }
    shapes = {  # GGUF ne order: contiguous dimension first
        "token_embd.weight": [c, len(tokens)], "output_norm.weight": [c],
        "blk.0.attn_norm.weight": [c], "blk.0.ffn_norm.weight": [c],
        "blk.0.attn_q.weight": [c, heads * hd], "blk.0.attn_k.weight": [c, kv * hd],
        "blk.0.attn_v.weight": [c, kv * hd], "blk.0.attn_output.weight": [heads * hd, c],
        "blk.0.ffn_gate.weight": [c, ff], "blk.0.ffn_up.weight": [c, ff], "blk.0.ffn_down.weight": [ff, c],
    }
    out = b"GGUF" + struct.pack("<IQQ", 3, len(shapes), len(meta))
    for k, v in meta.items():
        code, payload = gguf_value(v)
        out += gguf_string(k) + struct.pack("<I", code) + payload
    offset, data = 0, b""
    for name, ne in shapes.items():
        n = 1
        for d in ne:
            n *= d
        out += gguf_string(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", d) for d in ne)
        out += struct.pack("<IQ", 0, offset)  # F32
        blob = b"".join(struct.pack("<f", ((i * 37) % 17 - 8) / 16) for i in range(n))
        blob += b"\0" * ((-len(blob)) % 32)
        data += blob
        offset += len(blob)
    out += b"\0" * ((-len(out)) % 32)
    return out + data


def tiny_safetensors():
    header = {
        "__metadata__": {"format": "pt"},
        "a.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
        "b.bias": {"dtype": "F16", "shape": [2], "data_offsets": [16, 20]},
    }
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + struct.pack("<4f", 1, 2, 3, 4) + b"\x00\x3c\x00\x40"


def main():
    with open(os.path.join(target("gguf"), "llama-tiny.gguf"), "wb") as f:
        f.write(tiny_gguf())
    with open(os.path.join(target("safetensors"), "two-tensors.safetensors"), "wb") as f:
        f.write(tiny_safetensors())
    d = target("config")
    for model in ["llama3_tiny", "gemma3_tiny", "qwen2_tiny"]:
        shutil.copy(os.path.join(FIX, "engine", model, "config.json"), os.path.join(d, model + ".json"))
    d = target("tokenizer")
    shutil.copy(os.path.join(FIX, "engine", "gemma3_tiny_lcpp", "tokenizer.json"), os.path.join(d, "gemma3-tiny.json"))
    d = target("jinja")
    for name in sorted(os.listdir(os.path.join(FIX, "tokenizer", "templates"))):
        shutil.copy(os.path.join(FIX, "tokenizer", "templates", name), os.path.join(d, name))
    with open(os.path.join(d, "features.jinja"), "w") as f:
        f.write("{% macro m(a, b=2) %}{{ a ~ b }}{% endmacro %}{% set ns = namespace(n=0) %}"
                "{% for i in range(3) if i > 0 %}{{ m(i) }}{{ loop.index }}{% set ns.n = ns.n + i ** 2 // 1 %}"
                "{% endfor %}{{ ns.n | string | indent(2) }}{{ [1, 'a', none] | tojson(indent=2) }}"
                "{{ 'x' * 3 }}{{ {'k': [1, 2][1:]} | items | list }}{{ 7 % 3 - -1 }}{{ '%s-%d' % ('a', 1) }}")
    d = target("jsonl")
    with open(os.path.join(d, "chat.jsonl"), "w") as f:
        f.write('{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}\n'
                '{"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}\r\n')
    with open(os.path.join(d, "completion.jsonl"), "w") as f:
        f.write('{"prompt": "Q", "completion": "A"}\n\n{"prompt": "\\u00e9", "completion": "b"}\n')
    with open(os.path.join(d, "text.jsonl"), "w") as f:
        f.write('{"text": "one"}\n{"text": "two"}\n')
    d = target("yaml")
    shutil.copy(os.path.join(ROOT, "recipes", "gemma3-270m-lek.yaml"), os.path.join(d, "recipe.yaml"))
    with open(os.path.join(d, "schedule.yaml"), "w") as f:
        f.write("lr_schedule:\n  name: cosine_decay\n  arguments: [1e-5, 100]\n  warmup: 10\n"
                "optimizer: adamw\noptimizer_config:\n  adamw:\n    betas: [0.9, 0.98]\n    weight_decay: 0.01\n"
                "lora_parameters: {rank: 4, scale: 10, keys: [self_attn.q_proj]}\n")
    d = target("judge")
    replies = [
        '{"sovereignty": 7, "privacy": 8, "reasoning": "ok"}',
        'Sure! Here is my verdict:\n```json\n{"sovereignty": "6/10", "privacy": null}\n```',
        '{"problem": "refused", "sovereignty": 1.5e0}',
    ]
    for i, r in enumerate(replies):
        with open(os.path.join(d, "reply%d.txt" % i), "w") as f:
            f.write(r)


if __name__ == "__main__":
    main()
