#!/usr/bin/env python3
"""Checks `lem pull` against the real huggingface_hub, on a loopback fake Hub.

Starts a small HTTP server answering the Hub endpoints lem and huggingface_hub use
(`/api/models/ORG/NAME/revision/REV`, `/api/models/ORG/NAME/tree/REV` — huggingface_hub's file list —,
`HEAD|GET /ORG/NAME/resolve/COMMIT/PATH` with LFS files
redirected to `/cdn/<sha256>` carrying `X-Linked-Etag`/`X-Linked-Size`, ranges on the CDN), then
1. `huggingface_hub.snapshot_download` fills cache A from it (so the fake answers as the Hub does,
   as far as the reference client can tell);
2. `lem pull` fills cache B from it (HF_ENDPOINT, HF_HUB_CACHE, HF_TOKEN);
3. `scan_cache_dir` reads B, and the two caches must hold the same repos, revisions, refs, blob
   names, snapshot files and symlink targets.
Reference env: python3 -m venv ~/.cache/lem-refs/tf && ~/.cache/lem-refs/tf/bin/pip install huggingface_hub
Run: ~/.cache/lem-refs/tf/bin/python Scripts/check_pull_huggingface_hub.py [path/to/lem]
"""
import hashlib
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading

import huggingface_hub
from huggingface_hub import scan_cache_dir, snapshot_download

REPO, COMMIT, TOKEN = "org/tiny", "0123456789abcdef0123456789abcdef01234567", "secret"
FILES = {  # name -> (bytes, lfs)
    "config.json": (b'{"model_type": "llama"}', False),
    "model.safetensors": (bytes((i * 2654435761 >> 13) & 255 for i in range(300_000)), True),
    "sub/notes.txt": (b"hello", False),
}


def git_blob_id(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Hub(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, headers=(), body=b""):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith("/cdn/"):
            for data, _ in FILES.values():
                if hashlib.sha256(data).hexdigest() == path[5:]:
                    start = 0
                    rng = self.headers.get("Range", "")
                    if rng.startswith("bytes=") and rng.endswith("-"):
                        start = int(rng[6:-1])
                        return self.reply(206, [("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")], data[start:])
                    return self.reply(200, [], data)
            return self.reply(404)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.reply(401, [("X-Error-Code", "GatedRepo")], b'{"error": "gated"}')
        if path in (f"/api/models/{REPO}/revision/main", f"/api/models/{REPO}/revision/{COMMIT}"):
            body = json.dumps({"id": REPO, "sha": COMMIT, "siblings": [{"rfilename": f} for f in sorted(FILES)]}).encode()
            return self.reply(200, [("Content-Type", "application/json")], body)
        if path in (f"/api/models/{REPO}/tree/main", f"/api/models/{REPO}/tree/{COMMIT}"):
            # huggingface_hub 1.x/2.x list files with the tree API (one page here, no Link header).
            entries = [{"type": "directory", "oid": "0" * 40, "size": 0, "path": "sub"}]
            for name, (data, lfs) in sorted(FILES.items()):
                e = {"type": "file", "oid": git_blob_id(data), "size": len(data), "path": name}
                if lfs:
                    e["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
                entries.append(e)
            return self.reply(200, [("Content-Type", "application/json")], json.dumps(entries).encode())
        for rev in ("main", COMMIT):
            prefix = f"/{REPO}/resolve/{rev}/"
            if path.startswith(prefix) and path[len(prefix):] in FILES:
                data, lfs = FILES[path[len(prefix):]]
                common = [("X-Repo-Commit", COMMIT), ("ETag", f'"{git_blob_id(data)}"')]
                if lfs:
                    sha = hashlib.sha256(data).hexdigest()
                    # The Hub redirects LFS files to a CDN on another host (clients do not follow
                    # that on HEAD: the X-Linked-* headers are read from this answer); here "localhost".
                    cdn = f"http://localhost:{self.server.server_address[1]}/cdn/{sha}"
                    return self.reply(302, common + [("Location", cdn), ("X-Linked-Etag", f'"{sha}"'),
                                                     ("X-Linked-Size", str(len(data)))])
                return self.reply(200, common, data)
        return self.reply(404, [("X-Error-Code", "EntryNotFound")])


def layout(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            # huggingface_hub's own bookkeeping, which lem does not write: lock files, the
            # CACHEDIR.TAG marker and 2.x's cached file listings (trees/<commit>.json).
            if ".locks" in rel.split(os.sep) or rel == "CACHEDIR.TAG" or os.sep + "trees" + os.sep in os.sep + rel:
                continue
            out[rel] = ("->" + os.readlink(p)) if os.path.islink(p) else open(p, "rb").read()
    return out


def main():
    lem = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".build", "release", "lem")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        os.environ["HF_ENDPOINT"] = endpoint
        # huggingface_hub reads HF_ENDPOINT at import in some versions: pass it explicitly too.
        snapshot_download(REPO, cache_dir=a, token=TOKEN, endpoint=endpoint)
        env = dict(os.environ, HF_ENDPOINT=endpoint, HF_HUB_CACHE=b, HF_TOKEN=TOKEN)
        subprocess.run([lem, "pull", REPO], env=env, check=True)
        info = scan_cache_dir(b)
        repos = {r.repo_id: r for r in info.repos}
        assert list(repos) == [REPO], repos
        revs = list(repos[REPO].revisions)
        assert [r.commit_hash for r in revs] == [COMMIT] and revs[0].refs == frozenset({"main"}), revs
        assert sorted(f.file_name for f in revs[0].files) == ["config.json", "model.safetensors", "notes.txt"], revs[0].files
        assert not info.warnings, info.warnings
        la, lb = layout(a), layout(b)
        # huggingface_hub names small files' blobs by the git blob id from ETag; so does lem.
        assert la == lb, (sorted(set(la) ^ set(lb)), [k for k in la if k in lb and la[k] != lb[k]])
        local = snapshot_download(REPO, cache_dir=b, local_files_only=True)
        assert open(os.path.join(local, "model.safetensors"), "rb").read() == FILES["model.safetensors"][0]
    server.shutdown()
    print(f"ok: lem pull and huggingface_hub {huggingface_hub.__version__} write the same cache "
          f"({len(lb)} entries); scan_cache_dir sees {REPO}@{COMMIT[:12]} with refs/main")


if __name__ == "__main__":
    main()
