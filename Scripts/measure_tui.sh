#!/usr/bin/env bash
# Measures the workbench's keypress-to-screen latency, idle CPU and idle memory by driving the
# real binary in a private tmux server (needs tmux ≥ 3 and python3; no Python packages).
#
#   Scripts/measure_tui.sh [--lem .build/release/lem] [--samples 200] [--idle 30] [--model PATH|demo]
#
# Latency: tmux control mode (`tmux -C`) reports every byte the program writes as `%output`;
# a key is sent with send-keys and timed until the first output that follows it (the redrawn
# cells reaching the terminal). Keys alternate between typing `x` and Backspace in the chat
# prompt, so every key changes the screen. This is the program's part of the latency (read,
# handle, render, diff, write); the terminal emulator's own drawing is not included.
# Idle CPU: utime+stime from /proc/<pid>/stat over the idle window, after the model has loaded.
# Memory: VmRSS and VmHWM from /proc/<pid>/status at the end of the idle window.
set -euo pipefail
LEM=.build/release/lem
SAMPLES=200
IDLE=30
MODEL=""
while [ $# -gt 0 ]; do
  case "$1" in
    --lem) LEM="$2"; shift 2 ;;
    --samples) SAMPLES="$2"; shift 2 ;;
    --idle) IDLE="$2"; shift 2 ;;
    --model) MODEL="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$LEM" ] || { echo "no lem binary at $LEM (swift build -c release)" >&2; exit 1; }
exec python3 - "$LEM" "$SAMPLES" "$IDLE" "$MODEL" <<'PY'
import os, subprocess, sys, time, select, statistics, tempfile, shutil

lem, samples, idle, model = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
sock = f"lem-measure-{os.getpid()}"
tmp = tempfile.mkdtemp(prefix="lem-measure-")
args = ["--demo-chat"] if model == "demo" else (["--model", model] if model else [])
cmd = (f"exec env XDG_CONFIG_HOME={tmp}/cfg TERM=xterm-256color {os.path.abspath(lem)} workbench "
       f"--db {tmp}/lem.sqlite " + " ".join(args))

def tmux(*a):
    return subprocess.run(["tmux", "-L", sock, *a], capture_output=True, text=True).stdout

def screen():
    return tmux("capture-pane", "-p", "-t", "m")

try:
    tmux("new-session", "-d", "-s", "m", "-x", "120", "-y", "40", cmd)
    pid = int(tmux("display-message", "-p", "-t", "m", "#{pane_pid}").strip())
    deadline = time.time() + 120
    # Wait for the model to load (the "loading" status line goes away).
    while time.time() < deadline:
        s = screen()
        if "Chat · " in s and "loading" not in s:
            break
        time.sleep(0.2)
    else:
        sys.exit("the workbench did not finish loading:\n" + screen())
    time.sleep(1)

    # --- keypress-to-screen latency through control mode ---
    ctl = subprocess.Popen(["tmux", "-L", sock, "-C", "attach", "-t", "m"], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, bufsize=0)
    fd = ctl.stdout.fileno()
    buf = b""
    def drain(timeout):
        """Reads control-mode output for up to `timeout` s; returns True when a %output arrived."""
        global buf
        end = time.perf_counter() + timeout
        got = False
        while True:
            left = end - time.perf_counter()
            if left <= 0:
                return got
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                return got
            buf += os.read(fd, 65536)
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.startswith(b"%output"):
                    return True
    drain(1.0)
    lat = []
    for i in range(samples):
        key = "x" if i % 2 == 0 else "BSpace"
        drain(0.05)  # quiet period: nothing pending
        t0 = time.perf_counter()
        ctl.stdin.write(f"send-keys -t m {key}\n".encode())
        if drain(1.0):
            lat.append((time.perf_counter() - t0) * 1000)
    ctl.stdin.write(b"detach-client\n")
    ctl.wait(timeout=5)
    lat.sort()
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print(f"keypress-to-output latency over {len(lat)}/{samples} keys: median {statistics.median(lat):.2f} ms, "
          f"p95 {p(0.95):.2f} ms, max {lat[-1]:.2f} ms")

    # --- idle CPU and memory ---
    def cpu_ticks():
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    hz = os.sysconf("SC_CLK_TCK")
    time.sleep(2)
    c0, t0 = cpu_ticks(), time.time()
    time.sleep(idle)
    c1, t1 = cpu_ticks(), time.time()
    cpu = (c1 - c0) / hz / (t1 - t0) * 100
    status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status").read().splitlines() if ":" in l)
    rss = int(status["VmRSS"].split()[0]) / 1024
    hwm = int(status["VmHWM"].split()[0]) / 1024
    print(f"idle CPU over {t1 - t0:.0f} s: {cpu:.3f} % ({c1 - c0} ticks of 1/{hz} s)")
    print(f"memory while idle: RSS {rss:.1f} MB (peak {hwm:.1f} MB)")
    print(f"mode: {'demo chat (no model)' if model == 'demo' else (model or 'default model')}")
finally:
    subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)
PY
