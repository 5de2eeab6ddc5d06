#!/usr/bin/env python3
"""Independent reference for `lem bench consensus --votes`: Matrix-8 consensus statistics.

Reads a votes file (one JSON object per line: item, judge, first, second, winner) and writes the
statistics `lem bench consensus --format json` must print, computed here with numpy/scipy (and
statsmodels' fleiss_kappa when it is installed) by other algorithms than the Swift code:

- a judge's two orders of a pair on an item combine into one verdict (disagreement -> tie);
- Bradley-Terry log-strengths by scipy's trust-region Newton (trust-exact) from a start of
  Hunter's MM steps (Swift uses its own damped Newton), the full fit cross-checked with BFGS; a
  tie is half a win each side; when no finite maximum exists (the "beats" graph is not strongly connected) every model gets
  0.01 of a win over every other model; theta is normalised to mean 0;
- a 95 % percentile bootstrap over items: 1,000 resamples drawn with SplitMix64 seeded with 0,
  index = next() % n over the items in code-point order, percentiles interpolated linearly
  (numpy's default), so the interval is the one the Swift code computes;
- Fleiss' kappa over (item, pair) subjects with judges as raters and categories {the pair's
  alphabetically first model wins, the other wins, tie}.

Usage:
  python3 Scripts/consensus_reference.py VOTES.jsonl EXPECTED.json
  python3 Scripts/consensus_reference.py --write-votes VOTES.jsonl [--dominant]

Environment that wrote the committed fixtures: numpy 2.4.6, scipy 1.17.1, statsmodels 0.15.0
(python3 -m venv V && V/bin/pip install numpy==2.4.6 scipy==1.17.1 statsmodels==0.15.0). The votes
files were written with --write-votes (seed 19) and --write-votes --dominant (seed 7).
"""

import argparse
import json
import sys

import numpy as np
from scipy.optimize import minimize

EPSILON = 0.01
RESAMPLES = 1000
MASK = (1 << 64) - 1


class SplitMix64:
    """Steele, Lea and Flood's SplitMix64 (the generator java.util.SplittableRandom uses)."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def read_votes(path):
    votes = []
    seen = set()
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            v = json.loads(line)
            for key in ("item", "judge", "first", "second", "winner"):
                if not isinstance(v.get(key), str):
                    sys.exit(f"{path}:{number}: `{key}` must be a string")
            if v["first"] == v["second"] or v["winner"] not in (v["first"], v["second"], "tie"):
                sys.exit(f"{path}:{number}: bad vote {line.strip()}")
            key = (v["item"], v["judge"], v["first"], v["second"])
            if key in seen:
                sys.exit(f"{path}:{number}: duplicate vote")
            seen.add(key)
            votes.append(v)
    return votes


def combined_verdicts(votes):
    """{(item, (a, b)): {judge: winner-or-tie}} with a < b; disagreeing orders become a tie."""
    orders = {}
    for v in votes:
        pair = tuple(sorted((v["first"], v["second"])))
        orders.setdefault((v["item"], pair), {}).setdefault(v["judge"], []).append(v["winner"])
    return {
        subject: {judge: (w[0] if len(set(w)) == 1 else "tie") for judge, w in judges.items()}
        for subject, judges in orders.items()
    }


def win_matrix(subjects, models, weights=None):
    index = {m: i for i, m in enumerate(models)}
    w = np.zeros((len(models), len(models)))
    for (item, (a, b)), judges in subjects.items():
        k = 1.0 if weights is None else weights.get(item, 0)
        if k == 0:
            continue
        for winner in judges.values():
            i, j = index[a], index[b]
            if winner == "tie":
                w[i, j] += 0.5 * k
                w[j, i] += 0.5 * k
            elif winner == a:
                w[i, j] += k
            else:
                w[j, i] += k
    return w


def strongly_connected(w):
    k = len(w)
    beats = w > 0
    for start in range(k):
        seen = {start}
        stack = [start]
        while stack:
            i = stack.pop()
            for j in range(k):
                if beats[i, j] and j not in seen:
                    seen.add(j)
                    stack.append(j)
        if len(seen) < k:
            return False
    return True


def regularised(w):
    if strongly_connected(w):
        return w, False
    return w + EPSILON * (1 - np.eye(len(w))), True


def fit(w):
    """Bradley-Terry by scipy's trust-region Newton on the negative log-likelihood (theta_last = 0),
    started from a few hundred of Hunter's MM steps; returns mean-zero log-strengths."""
    k = len(w)
    if k == 1:
        return np.zeros(1)
    n = w + w.T
    wins = w.sum(axis=1)
    p = np.ones(k)
    for _ in range(300):
        p = wins / (n / (p[:, None] + p[None, :])).sum(axis=1)
        p /= p[-1]

    def parts(x):
        theta = np.append(x, 0.0)
        diff = theta[:, None] - theta[None, :]
        s = 1 / (1 + np.exp(-diff))
        value = float((w * np.logaddexp(0, -diff)).sum())
        grad = -(wins - (n * s).sum(axis=1))
        weight = n * s * (1 - s)
        hess = np.diag(weight.sum(axis=1)) - weight
        return value, grad[:-1], hess[:-1, :-1]

    result = minimize(
        lambda x: parts(x)[0], np.log(p[:-1]), jac=lambda x: parts(x)[1], hess=lambda x: parts(x)[2],
        method="trust-exact", options={"gtol": 1e-12})
    x = result.x
    # trust-exact stops on its own float64 precision test; two exact Newton steps polish the last digits.
    for _ in range(2):
        _, grad, hess = parts(x)
        x = x - np.linalg.solve(hess, grad)
    if np.max(np.abs(parts(x)[1])) > 1e-9 * max(1.0, w.sum()):
        raise RuntimeError(f"Bradley-Terry fit did not converge: {result.message}")
    theta = np.append(x, 0.0)
    return theta - theta.mean()


def fit_bfgs(w):
    k = len(w)

    def nll(x):
        theta = np.append(x, 0.0)
        diff = theta[:, None] - theta[None, :]
        return float((w * np.logaddexp(0, -diff)).sum())

    result = minimize(nll, np.zeros(k - 1), method="BFGS", options={"gtol": 1e-10})
    theta = np.append(result.x, 0.0)
    return theta - theta.mean()


def percentile(sorted_values, q):
    h = (len(sorted_values) - 1) * q
    lo = int(np.floor(h))
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


def fleiss(subjects):
    rows = []
    for (_, (a, b)), judges in sorted(subjects.items()):
        if len(judges) < 2:
            continue
        row = [0, 0, 0]
        for winner in judges.values():
            row[0 if winner == a else 1 if winner == b else 2] += 1
        rows.append(row)
    if not rows:
        return None, None
    table = np.array(rows, dtype=float)
    n = table.sum(axis=1)
    p_subject = ((table**2).sum(axis=1) - n) / (n * (n - 1))
    p_category = table.sum(axis=0) / n.sum()
    expected = float((p_category**2).sum())
    if expected == 1:
        return None, table
    return (float(p_subject.mean()) - expected) / (1 - expected), table


def analyse(votes):
    subjects = combined_verdicts(votes)
    models = sorted({m for (_, pair) in subjects for m in pair})
    items = sorted({item for (item, _) in subjects})
    w, reg = regularised(win_matrix(subjects, models))
    theta = fit(w)
    if len(models) > 1:
        check = fit_bfgs(w)
        assert np.max(np.abs(check - theta)) < 1e-5, (theta, check)

    rng = SplitMix64(0)
    samples = np.zeros((RESAMPLES, len(models)))
    for r in range(RESAMPLES):
        counts = {}
        for _ in range(len(items)):
            item = items[rng.next() % len(items)]
            counts[item] = counts.get(item, 0) + 1
        sample, _ = regularised(win_matrix(subjects, models, counts))
        samples[r] = fit(sample)

    tally = {m: {"wins": 0, "losses": 0, "ties": 0} for m in models}
    unanimous = 0
    for (_, (a, b)), judges in subjects.items():
        winners = set(judges.values())
        if len(winners) == 1 and "tie" not in winners:
            unanimous += 1
        for winner in judges.values():
            if winner == "tie":
                tally[a]["ties"] += 1
                tally[b]["ties"] += 1
            else:
                loser = b if winner == a else a
                tally[winner]["wins"] += 1
                tally[loser]["losses"] += 1

    kappa, table = fleiss(subjects)
    try:
        from statsmodels.stats.inter_rater import fleiss_kappa

        if table is not None and len(set(table.sum(axis=1))) == 1 and kappa is not None:
            assert abs(fleiss_kappa(table) - kappa) < 1e-12, (fleiss_kappa(table), kappa)
            print("statsmodels fleiss_kappa agrees", file=sys.stderr)
    except ImportError:
        print("statsmodels not installed: kappa not cross-checked", file=sys.stderr)

    out = {"models": {}, "items": len(items), "pairs": len(subjects)}
    for i, m in enumerate(models):
        column = np.sort(samples[:, i])
        out["models"][m] = {
            "theta": float(theta[i]),
            "ci": [float(percentile(column, 0.025)), float(percentile(column, 0.975))],
            **tally[m],
        }
    out["unanimous_share"] = unanimous / len(subjects)
    out["fleiss_kappa"] = kappa
    if reg:
        print("no finite maximum: regularised with 0.01 wins between every pair", file=sys.stderr)
    return out


def write_votes(path, dominant):
    """A simulated judging run: three models, eight judges of differing bias and noise, 30 items."""
    rng = np.random.default_rng(19 if not dominant else 7)
    strengths = {"gemma3-270m": 0.0, "gemma3-270m-lek": 2.2, "smollm2-135m": -1.8}
    if dominant:
        strengths = {"gemma3-270m": 0.0, "gemma3-270m-lek": 9.0, "smollm2-135m": -0.4}
    models = sorted(strengths)
    items = [f"P{n:02d}" for n in range(1, 31 if not dominant else 7)]
    judges = [f"judge-{n}" for n in range(1, 9)]
    first_bias = rng.normal(0, 0.3, len(judges))
    tie_rate = rng.uniform(0.01, 0.08, len(judges))
    lines = []
    for item in items:
        difficulty = rng.normal(0, 1.5)
        for x in range(len(models)):
            for y in range(x + 1, len(models)):
                a, b = models[x], models[y]
                gap = strengths[a] - strengths[b] + difficulty * (1 if x == 0 else -1) * 0.5
                for j, judge in enumerate(judges):
                    orders = [(a, b), (b, a)]
                    if rng.uniform() < 0.06:
                        orders = [orders[int(rng.integers(2))]]
                    for first, second in orders:
                        if dominant:
                            winner = "gemma3-270m-lek" if "gemma3-270m-lek" in (first, second) else None
                            if winner is not None:
                                lines.append((item, judge, first, second, winner))
                                continue
                        if rng.uniform() < tie_rate[j]:
                            winner = "tie"
                        else:
                            edge = gap if first == a else -gap
                            p_first = 1 / (1 + np.exp(-(edge + first_bias[j])))
                            winner = first if rng.uniform() < p_first else second
                        lines.append((item, judge, first, second, winner))
    with open(path, "w", encoding="utf-8") as f:
        for item, judge, first, second, winner in lines:
            record = {"item": item, "judge": judge, "first": first, "second": second, "winner": winner}
            f.write(json.dumps(record, separators=(",", ":")) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("votes")
    parser.add_argument("expected", nargs="?")
    parser.add_argument("--write-votes", action="store_true", help="write a simulated votes file")
    parser.add_argument("--dominant", action="store_true", help="with --write-votes: one model wins all")
    args = parser.parse_args()
    if args.write_votes:
        write_votes(args.votes, args.dominant)
        return
    result = analyse(read_votes(args.votes))
    text = json.dumps(result, indent=2, sort_keys=True) + "\n"
    if args.expected:
        with open(args.expected, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
