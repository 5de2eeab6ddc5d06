#!/usr/bin/env python3
"""Drives `lem serve` with the official `openai` Python client (a client nobody here wrote).

Usage: openai_client_check.py BASE_URL MODEL
  BASE_URL  the API root, e.g. http://127.0.0.1:8080/v1
  MODEL     a model name the server lists

Install the client in its own environment, outside the repository:
  python3 -m venv ~/.cache/lem-refs/openai && ~/.cache/lem-refs/openai/bin/pip install openai

Checks: the model list, a chat completion (whole and streamed, equal text), a completion with
echo + logprobs and max_tokens 0, and that refusals raise the client's own exception types.
Prints one JSON line with what it saw; exits 1 with a message on the first failed check.
"""
import json
import sys

import openai


def main() -> int:
    base_url, model = sys.argv[1], sys.argv[2]
    client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=60)
    seen = {"openai": openai.__version__}

    ids = [m.id for m in client.models.list().data]
    assert model in ids, f"{model} not in {ids}"
    seen["models"] = ids

    messages = [{"role": "user", "content": "Say something short."}]
    whole = client.chat.completions.create(model=model, messages=messages, temperature=0, max_tokens=12)
    text = whole.choices[0].message.content
    assert whole.usage.completion_tokens > 0, whole.usage
    pieces = []
    for chunk in client.chat.completions.create(
        model=model, messages=messages, temperature=0, max_tokens=12, stream=True
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
    assert "".join(pieces) == text, (pieces, text)
    seen["chat"] = text

    completion = client.completions.create(
        model=model, prompt="the cat sat on the mat", max_tokens=0, echo=True, logprobs=1, temperature=0
    )
    logprobs = completion.choices[0].logprobs
    assert logprobs.token_logprobs[0] is None
    assert all(isinstance(x, float) for x in logprobs.token_logprobs[1:])
    assert len(logprobs.tokens) == len(logprobs.token_logprobs) == len(logprobs.top_logprobs)
    seen["prompt_logprobs"] = logprobs.token_logprobs

    try:
        client.chat.completions.create(model="no-such-model", messages=messages)
        raise AssertionError("unknown model accepted")
    except openai.NotFoundError as error:
        assert error.body and error.body.get("code") == "model_not_found", error.body
    try:
        client.chat.completions.create(model=model, messages=messages, max_tokens=-1)
        raise AssertionError("negative max_tokens accepted")
    except openai.BadRequestError as error:
        assert error.body and error.body.get("param") == "max_tokens", error.body

    print(json.dumps(seen))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as failure:
        print(f"check failed: {failure}", file=sys.stderr)
        sys.exit(1)
