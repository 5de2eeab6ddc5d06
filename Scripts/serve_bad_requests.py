#!/usr/bin/env python3
"""Sends hostile requests to a running `lem serve` and checks it refuses each and stays up.

Usage: serve_bad_requests.py BASE_URL [--model M]   (BASE_URL: the API root, e.g. http://127.0.0.1:8080/v1)

Malformed JSON, an unknown model, negative max_tokens, a 10 MB body (with and without a
Content-Length), a request head that never ends (the server must close it), and a streaming
client that leaves mid-answer (its slot must be freed: `/health` shows nothing running). After
each, `/health` must answer and a small chat request must succeed. Prints one line per case and
a JSON summary; exits 1 if any case failed. Standard library only; loopback only.
"""
import argparse
import http.client
import json
import socket
import sys
import time
import urllib.parse


def request(host, port, method, path, body=None, headers=None, timeout=120):
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        try:
            payload = json.loads(data)
        except ValueError:
            payload = None
        return response.status, payload
    finally:
        connection.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("--model")
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.base_url)
    host, port, root = url.hostname, url.port or 80, url.path.rstrip("/")
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loopback only")
    chat = root + "/chat/completions"
    json_headers = {"Content-Type": "application/json"}
    health_path = root.removesuffix("/v1") + "/health"

    def chat_body(**extra):
        body = {"messages": [{"role": "user", "content": "Say hi."}], "temperature": 0, "max_tokens": 4}
        if args.model:
            body["model"] = args.model
        body.update(extra)
        return json.dumps(body)

    def still_up():
        status, health = request(host, port, "GET", health_path)
        ok_status, reply = request(host, port, "POST", chat, chat_body(), json_headers)
        return status == 200 and ok_status == 200 and bool(reply and reply.get("choices")), health

    results = []

    def check(name, passed, detail):
        up, health = still_up()
        results.append({"case": name, "passed": bool(passed and up), "detail": detail, "health": health})
        print(f"{name}: {'ok' if passed and up else 'FAILED'} {detail} health={health}", file=sys.stderr)

    status, payload = request(host, port, "POST", chat, "{not json", json_headers)
    check("malformed JSON", status == 400 and payload and "error" in payload, status)
    status, payload = request(host, port, "POST", chat, chat_body(model="no-such-model"), json_headers)
    check("unknown model", status == 404 and payload["error"].get("code") == "model_not_found", status)
    status, payload = request(host, port, "POST", chat, chat_body(max_tokens=-5), json_headers)
    check("negative max_tokens", status == 400 and payload["error"].get("param") == "max_tokens", status)
    big = b"{" + b" " * (10 << 20) + b"}"
    try:
        status, payload = request(host, port, "POST", chat, big, json_headers)
    except (ConnectionError, http.client.HTTPException) as error:
        status, payload = repr(error), None
    check("10 MB body", status == 413, status)

    # A chunked body has no length to refuse up front: the server reads up to its limit, answers
    # 413 and closes, usually while the client is still sending — so read the answer off the
    # socket after the send fails.
    chunked = socket.create_connection((host, port), timeout=120)
    answer = b""
    try:
        chunked.sendall(
            f"POST {chat} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode())
        for _ in range(10):
            chunked.sendall(b"%x\r\n" % (1 << 20) + b" " * (1 << 20) + b"\r\n")
        chunked.sendall(b"0\r\n\r\n")
    except OSError:
        pass
    try:
        while chunk := chunked.recv(65536):
            answer += chunk
    except OSError:
        pass
    chunked.close()
    check("10 MB chunked body", answer.startswith(b"HTTP/1.1 413"), answer[:12])

    slow = socket.create_connection((host, port), timeout=120)
    slow.sendall(f"POST {chat} HTTP/1.1\r\nHost: x\r\n".encode())
    start = time.monotonic()
    closed = False
    try:
        closed = slow.recv(4096) == b""
    except (ConnectionError, socket.timeout):
        closed = True
    slow.close()
    check("slow headers", closed, f"closed after {time.monotonic() - start:.1f} s")

    body = chat_body(max_tokens=1000, stream=True).encode()
    leaver = socket.create_connection((host, port), timeout=120)
    leaver.sendall(
        f"POST {chat} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body)
    received = leaver.recv(4096)
    leaver.close()
    freed = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        _, health = request(host, port, "GET", health_path)
        if health and health.get("running") == 0:
            freed = True
            break
        time.sleep(0.1)
    check("disconnect mid-stream", received.startswith(b"HTTP/1.1 200") and freed, f"slot freed: {freed}")

    summary = {"cases": len(results), "passed": sum(r["passed"] for r in results),
               "failed": [r["case"] for r in results if not r["passed"]]}
    print(json.dumps(summary))
    return 0 if not summary["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
