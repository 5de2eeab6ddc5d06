"""Helpers the fixture scripts share: float32 text for JSON fixtures, a plain safetensors writer
and the llama_cpp import used by the llama.cpp scripts. Only numpy is needed to import it."""
import json
import os
import sys

import numpy as np


def f32(x):
    """Shortest decimal that round-trips the float32 value (<= 9 significant digits)."""
    return float(f"{float(x):.9g}")


def f32_list(a):
    """A float32 array of any rank as nested lists of `f32` values."""
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 1:
        return [f32(v) for v in a]
    return [f32_list(r) for r in a]


SAFETENSORS_DTYPES = {np.dtype(np.uint8): "U8", np.dtype(np.float32): "F32"}


def save_safetensors(path, arrays, metadata):
    """Writes `arrays` (name -> uint8 or float32 array, in order) as safetensors with `metadata`;
    the header is padded with spaces to a multiple of 8 bytes."""
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, a in arrays.items():
        a = np.ascontiguousarray(a)
        b = a.tobytes()
        header[name] = {"dtype": SAFETENSORS_DTYPES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little") + h + b"".join(blobs))


def import_llama_cpp():
    """llama_cpp from the venv, or else from the unpacked sdist plus its built libraries.

    The sdist build on this machine was stopped after libllama/libggml were linked (the rest is
    multimodal tooling); LEM_LLAMA_CPP_PY (sdist dir), LLAMA_CPP_LIB_PATH (dir with libllama.so)
    and LEM_PYDEPS (extra site dir, e.g. diskcache) point at them."""
    try:
        import llama_cpp
        return llama_cpp
    except ImportError:
        pass
    base = os.path.expanduser("~/.cache/lem-refs")
    sys.path.insert(0, os.environ.get("LEM_LLAMA_CPP_PY", base + "/src/llama-cpp-python"))
    sys.path.insert(1, os.environ.get("LEM_PYDEPS", base + "/work/pydeps"))
    os.environ.setdefault("LLAMA_CPP_LIB_PATH", base + "/work/lcpplib")
    import llama_cpp
    return llama_cpp
