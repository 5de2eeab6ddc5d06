#!/usr/bin/env python3
"""GPT-OSS's harmony chat format rendered by its own template (Tests/Fixtures/tokenizer/harmony.json).

Pinned environment: venv ~/.cache/lem-refs/torch (transformers 5.23.0, jinja2 as installed there).
Run:  ~/.cache/lem-refs/torch/bin/python Scripts/fixtures_harmony.py

Template: Tests/Fixtures/tokenizer/templates/gpt_oss.jinja, the gpt-oss chat template as llama.cpp
ships it (vendor/llama.cpp/models/templates/openai-gpt-oss-120b.jinja of llama-cpp-python 0.3.36's
sdist; the template of openai/gpt-oss-20b/120b's tokenizer_config.json). Rendered with transformers'
own renderer (render_jinja_template) with its `strftime_now` clock pinned to 2026-01-15, so the "Current
date" line is fixed. Cases: plain conversations (system → developer instructions, assistant turns
as final-channel messages), a last assistant turn with `thinking` and add_generation_prompt false,
and reasoning_effort low/high.
"""
import json
import os

import datetime

import transformers.utils.chat_template_utils as ctu
from transformers.utils.chat_template_utils import render_jinja_template

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(REPO, "Tests", "Fixtures", "tokenizer")
DATE = "2026-01-15"
SYS = {"role": "system", "content": "You are a careful assistant.\nAnswer briefly."}
U1 = {"role": "user", "content": "What is the capital of France?"}
A1 = {"role": "assistant", "content": "Paris is the capital of France."}
U2 = {"role": "user", "content": "  And of Japan? Use \"quotes\" & <tags>, émojis 🎉 and\ttabs.  \n"}
A2T = {"role": "assistant", "content": "Tokyo.", "thinking": "The user asks about Japan."}
CASES = [
    ([U1], True, None), ([SYS, U1], True, None), ([U1, A1, U2], True, None), ([SYS, U1, A1, U2], True, None),
    ([U1, A1], False, None), ([SYS, U1, A1, U2, A2T], False, None), ([{"role": "user", "content": ""}], True, None),
    ([U1], True, "low"), ([SYS, U1], True, "high"),
]


class PinnedDate(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return cls(2026, 1, 15, 12, 0, 0)


def main():
    ctu.datetime = PinnedDate  # the template's strftime_now reads datetime.now()
    template = open(os.path.join(DIR, "templates", "gpt_oss.jinja"), encoding="utf-8").read()
    out = []
    for messages, gen, effort in CASES:
        extra = {}
        if effort:
            extra["reasoning_effort"] = effort
        rendered, _ = render_jinja_template(conversations=[messages], chat_template=template,
                                            add_generation_prompt=gen, **extra)
        out.append({"messages": messages, "add_generation_prompt": gen, "reasoning_effort": effort,
                    "date": DATE, "expected": rendered[0]})
    json.dump(out, open(os.path.join(DIR, "harmony.json"), "w"), ensure_ascii=False, indent=1)
    print(len(out), "cases")
    print(out[3]["expected"])


if __name__ == "__main__":
    main()
