#!/usr/bin/env python3
"""A random-weight model with the real Gemma 3 1B shape, for speed measurements (issue 4).

Shape (google/gemma-3-1b): hidden 1152, 26 layers, 4 heads / 1 KV head, head_dim 256,
intermediate 6912, vocab 262144, sliding window 512, 5 local : 1 global layers, tied embeddings.
The weights are random *encoded blocks*, not quantized floats: every block gets random 4-bit
codes and a fixed, small scale, so the model is cheap to write and its values stay finite
(|w| of order 0.02). Its outputs are meaningless; only its speed is.

Writes (default --out ~/.cache/lem/synthetic):
  gemma3-1b-mlx4/   config.json + model.safetensors: MLX affine 4-bit, group 64, bf16 scales and
                    biases, bf16 norms, quantized tied embedding (what mlx_lm.convert -q makes)
  gemma3-1b-q4_0.gguf   every matrix Q4_0, norms F32
  gemma3-1b-q4_k.gguf   Q4_K where the row length is a multiple of 256 (attn_output: 1024,
                    ffn_down: 6912); Q5_0 for rows of 1152, as llama-quantize falls back for
                    Q4_K_S/Q4_K_M files of this model (1152 = 4.5 × 256)
The GGUFs carry the Gemma 3 tokenizer metadata copied from the installed 270M GGUF (same
262144-token vocabulary), so llama.cpp loads them. Prints the bytes each file reads per
decoded token (all matrices once, the tied embedding in full as the output head).

Pinned: gguf==0.19.0, numpy==2.4.6 (venv ~/.cache/lem-refs/perf).
Run:    ~/.cache/lem-refs/perf/bin/python Scripts/make_synthetic_gemma1b.py [--out DIR] [--only mlx4,q4_0,q4_k]
Takes ~1 min and ~2.2 GB of disk.
"""
import argparse, json, os, struct, sys

import numpy as np
import gguf

HIDDEN, LAYERS, HEADS, KV_HEADS, HEAD_DIM = 1152, 26, 4, 1, 256
INTERMEDIATE, VOCAB, WINDOW, PATTERN = 6912, 262144, 512, 6
CONTEXT, ROPE_GLOBAL, ROPE_LOCAL, EPS = 32768, 1_000_000.0, 10_000.0, 1e-6
TOKENIZER_SOURCE = os.path.expanduser("~/.cache/lem/models/gemma-3-270m-q4_k_m.gguf")

# (HF name suffix, GGUF name suffix, out, in) of every matrix of one layer.
LAYER_MATRICES = [
    ("self_attn.q_proj", "attn_q", HEADS * HEAD_DIM, HIDDEN),
    ("self_attn.k_proj", "attn_k", KV_HEADS * HEAD_DIM, HIDDEN),
    ("self_attn.v_proj", "attn_v", KV_HEADS * HEAD_DIM, HIDDEN),
    ("self_attn.o_proj", "attn_output", HIDDEN, HEADS * HEAD_DIM),
    ("mlp.gate_proj", "ffn_gate", INTERMEDIATE, HIDDEN),
    ("mlp.up_proj", "ffn_up", INTERMEDIATE, HIDDEN),
    ("mlp.down_proj", "ffn_down", HIDDEN, INTERMEDIATE),
]
# (HF name suffix, GGUF name suffix, size) of every norm of one layer.
LAYER_NORMS = [
    ("input_layernorm", "attn_norm", HIDDEN),
    ("post_attention_layernorm", "post_attention_norm", HIDDEN),
    ("pre_feedforward_layernorm", "ffn_norm", HIDDEN),
    ("post_feedforward_layernorm", "post_ffw_norm", HIDDEN),
    ("self_attn.q_norm", "attn_q_norm", HEAD_DIM),
    ("self_attn.k_norm", "attn_k_norm", HEAD_DIM),
]

rng = np.random.default_rng(1234)


def matrices():
    """(hf name, gguf name, out, in) of every matrix, embedding first."""
    yield ("model.embed_tokens", "token_embd", VOCAB, HIDDEN)
    for i in range(LAYERS):
        for hf, gg, out, inn in LAYER_MATRICES:
            yield (f"model.layers.{i}.{hf}", f"blk.{i}.{gg}", out, inn)


def norms():
    """(hf name, gguf name, size) of every norm."""
    for i in range(LAYERS):
        for hf, gg, n in LAYER_NORMS:
            yield (f"model.layers.{i}.{hf}.weight", f"blk.{i}.{gg}.weight", n)
    yield ("model.norm.weight", "output_norm.weight", HIDDEN)


def bf16(values):
    """float32 array → bf16 bit patterns (round to nearest even) as uint16."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


# ---------------------------------------------------------------------------------------- MLX


def write_mlx(directory):
    os.makedirs(directory, exist_ok=True)
    group = 64
    entries = []  # (name, dtype, shape, producer)

    for hf, _, out, inn in matrices():
        def packed(out=out, inn=inn):
            return rng.integers(0, 2**32, size=(out, inn // 8), dtype=np.uint32)

        def scales(out=out, inn=inn):
            return bf16(rng.uniform(0.003, 0.006, size=(out, inn // group)))

        def biases(out=out, inn=inn):
            return bf16(-8 * rng.uniform(0.003, 0.006, size=(out, inn // group)))

        entries.append((hf + ".weight", "U32", [out, inn // 8], packed))
        entries.append((hf + ".scales", "BF16", [out, inn // group], scales))
        entries.append((hf + ".biases", "BF16", [out, inn // group], biases))
    for hf, _, n in norms():
        # Gemma norms scale by (1 + w): zeros keep activations at unit RMS.
        entries.append((hf, "BF16", [n], lambda n=n: np.zeros(n, dtype=np.uint16)))

    entries.sort(key=lambda e: e[0])
    size = {"U32": 4, "BF16": 2}
    header, offset = {"__metadata__": {"format": "mlx"}}, 0
    for name, dtype, shape, _ in entries:
        nbytes = int(np.prod(shape)) * size[dtype]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path = os.path.join(directory, "model.safetensors")
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name, dtype, shape, make in entries:
            data = make()
            assert list(data.shape) == shape, (name, data.shape, shape)
            f.write(np.ascontiguousarray(data).tobytes())
    os.replace(path + ".tmp", path)

    layer_types = ["full_attention" if (i + 1) % PATTERN == 0 else "sliding_attention" for i in range(LAYERS)]
    config = {
        "architectures": ["Gemma3ForCausalLM"],
        "model_type": "gemma3_text",
        "hidden_size": HIDDEN, "intermediate_size": INTERMEDIATE, "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS, "head_dim": HEAD_DIM,
        "vocab_size": VOCAB, "max_position_embeddings": CONTEXT, "rms_norm_eps": EPS,
        "hidden_activation": "gelu_pytorch_tanh", "query_pre_attn_scalar": 256,
        "rope_theta": ROPE_GLOBAL, "rope_local_base_freq": ROPE_LOCAL, "rope_scaling": None,
        "sliding_window": WINDOW, "sliding_window_pattern": PATTERN, "layer_types": layer_types,
        "final_logit_softcapping": None, "attn_logit_softcapping": None,
        "tie_word_embeddings": True, "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0,
        "quantization": {"group_size": group, "bits": 4},
        "quantization_config": {"group_size": group, "bits": 4},
    }
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    return path


# --------------------------------------------------------------------------------------- GGUF

Q = gguf.GGMLQuantizationType


def random_blocks(qtype, rows, columns):
    """Random blocks of `qtype` for a (rows, columns) matrix, as (rows, bytes per row) uint8,
    with the f16 scale fields set so |w| stays of order 0.02."""
    block, nbytes = gguf.GGML_QUANT_SIZES[qtype]
    assert columns % block == 0, (qtype, columns)
    blocks = rng.integers(0, 256, size=(rows * (columns // block), nbytes), dtype=np.uint8)
    if qtype == Q.Q4_0:  # d, 16 bytes of nibbles: w = d (q - 8)
        d = np.full(len(blocks), 0.004, dtype=np.float16)
        blocks[:, 0:2] = d.view(np.uint8).reshape(-1, 2)
    elif qtype == Q.Q5_0:  # d, 4 bytes of high bits, 16 of nibbles: w = d (q - 16)
        d = np.full(len(blocks), 0.002, dtype=np.float16)
        blocks[:, 0:2] = d.view(np.uint8).reshape(-1, 2)
    elif qtype == Q.Q4_K:  # d, dmin, 12 bytes of 6-bit scales/mins, 128 of nibbles: w = d·sc·q − dmin·m
        d = np.full(len(blocks), 1e-4, dtype=np.float16)
        dmin = np.full(len(blocks), 1e-4, dtype=np.float16)
        blocks[:, 0:2] = d.view(np.uint8).reshape(-1, 2)
        blocks[:, 2:4] = dmin.view(np.uint8).reshape(-1, 2)
    else:
        raise ValueError(qtype)
    return blocks.reshape(rows, -1)


def copy_tokenizer(writer):
    reader = gguf.GGUFReader(TOKENIZER_SOURCE)
    fields = reader.fields
    writer.add_tokenizer_model(fields["tokenizer.ggml.model"].contents())
    writer.add_tokenizer_pre(fields["tokenizer.ggml.pre"].contents())
    writer.add_token_list(fields["tokenizer.ggml.tokens"].contents())
    writer.add_token_scores(fields["tokenizer.ggml.scores"].contents())
    writer.add_token_types(fields["tokenizer.ggml.token_type"].contents())
    for key, add in [
        ("tokenizer.ggml.bos_token_id", writer.add_bos_token_id),
        ("tokenizer.ggml.eos_token_id", writer.add_eos_token_id),
        ("tokenizer.ggml.unknown_token_id", writer.add_unk_token_id),
        ("tokenizer.ggml.padding_token_id", writer.add_pad_token_id),
        ("tokenizer.ggml.add_bos_token", writer.add_add_bos_token),
        ("tokenizer.ggml.add_eos_token", writer.add_add_eos_token),
    ]:
        if key in fields:
            add(fields[key].contents())


def write_gguf(path, kind):
    writer = gguf.GGUFWriter(path + ".tmp", "gemma3")
    writer.add_name(f"synthetic Gemma 3 1B shape ({kind}, random weights)")
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(HIDDEN)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(INTERMEDIATE)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_key_length(HEAD_DIM)
    writer.add_value_length(HEAD_DIM)
    writer.add_layer_norm_rms_eps(EPS)
    writer.add_rope_freq_base(ROPE_GLOBAL)
    writer.add_sliding_window(WINDOW)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_0 if kind == "q4_0" else gguf.LlamaFileType.MOSTLY_Q4_K_S)
    copy_tokenizer(writer)
    for _, name, out, inn in matrices():
        if kind == "q4_0":
            qtype = Q.Q4_0
        else:
            qtype = Q.Q4_K if inn % 256 == 0 else Q.Q5_0
        writer.add_tensor(name + ".weight", random_blocks(qtype, out, inn), raw_dtype=qtype)
    for _, name, n in norms():
        # llama.cpp's Gemma 3 loader adds the 1 of (1 + w) at conversion time: store ones.
        writer.add_tensor(name, np.ones(n, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(path + ".tmp", path)
    return path


def decode_bytes_per_token(kind):
    """Stored bytes one decode step reads: every matrix (the tied embedding in full, as the
    output head) and every norm."""
    total = 0
    for _, _, out, inn in matrices():
        if kind == "mlx4":
            total += out * inn // 2 + 2 * 2 * out * (inn // 64)
        else:
            qtype = Q.Q4_0 if kind == "q4_0" else (Q.Q4_K if inn % 256 == 0 else Q.Q5_0)
            block, nbytes = gguf.GGML_QUANT_SIZES[qtype]
            total += out * (inn // block) * nbytes
    total += sum(n for _, _, n in norms()) * (2 if kind == "mlx4" else 4)
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.expanduser("~/.cache/lem/synthetic"))
    parser.add_argument("--only", default="mlx4,q4_0,q4_k", help="comma-separated subset of mlx4,q4_0,q4_k")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    kinds = [k.strip() for k in args.only.split(",") if k.strip()]
    for kind in kinds:
        if kind == "mlx4":
            path = write_mlx(os.path.join(args.out, "gemma3-1b-mlx4"))
        elif kind in ("q4_0", "q4_k"):
            if not os.path.exists(TOKENIZER_SOURCE):
                sys.exit(f"{TOKENIZER_SOURCE} is missing (run Scripts/setup.sh): the GGUFs copy its tokenizer")
            path = write_gguf(os.path.join(args.out, f"gemma3-1b-{kind}.gguf"), kind)
        else:
            sys.exit(f"unknown kind {kind!r} (expected mlx4, q4_0, q4_k)")
        per_token = decode_bytes_per_token(kind)
        print(f"{kind:5s} {path}  {os.path.getsize(path) / 1e6:.1f} MB on disk, "
              f"{per_token / 1e6:.1f} MB read per decoded token")


if __name__ == "__main__":
    main()
