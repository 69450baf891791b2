"""Checks the slowhttptest suite's bar from slowhttptest's CSVs and the suite's own probe logs.

    python3 check.py <work dir> <connections> <test>...     (test: name:flag, e.g. slowloris:-H)

slowhttptest always exits 0, so its CSV is the verdict: columns Seconds, Closed, Pending,
Connected, Service Available, one row a second; Service Available is the connection count
while its probe gets an answer within -p seconds and 0 once it does not. Bar, per test: the CSV
has rows and Service Available is never 0; the attack reached its connections (at least 90% of
them created, as Closed + Pending + Connected); every probe.mjs GET got 200 in time.
Prints the `PROTOCOLS slowhttp:` line (details to stderr) and exits 1 when the bar is not met.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path


def check(work: Path, connections: int, name: str, flag: str) -> tuple[bool, str, list[str]]:
    problems: list[str] = []
    rows: list[dict[str, int]] = []
    path = work / f"{name}.csv"
    if path.is_file():
        with path.open(newline="") as f:
            for r in csv.DictReader(f):
                try:
                    rows.append({k.strip().lower(): int(v) for k, v in r.items() if k})
                except (TypeError, ValueError):
                    problems.append(f"unreadable CSV row {r}")
    if not rows:
        problems.append(f"no rows in {path}")
    down = [r["seconds"] for r in rows if r.get("service available", 0) == 0]
    if down:
        problems.append(f"slowhttptest saw the service unavailable at second(s) {' '.join(map(str, down))}")
    opened = max((r.get("closed", 0) + r.get("pending", 0) + r.get("connected", 0) for r in rows), default=0)
    peak = max((r.get("connected", 0) for r in rows), default=0)
    if opened < 0.9 * connections:
        problems.append(f"the attack created only {opened} of {connections} connections")
    last = rows[-1]["seconds"] if rows else 0

    probes = []
    plog = work / f"probe-{name}.log"
    if plog.is_file():
        probes = [line.split() for line in plog.read_text().splitlines() if line.strip()]
    ok = sum(1 for p in probes if p[1] == "ok")
    slowest = max((int(p[3]) for p in probes if p[1] == "ok"), default=0)
    if not probes:
        problems.append(f"no probe results in {plog}")
    fails = [" ".join(p) for p in probes if p[1] != "ok"]
    if fails:
        problems.append(f"{len(fails)} probe GETs failed, first: {fails[0]}")

    text = (f"{name} ({flag}) available {len(rows) - len(down)}/{len(rows)} s to second {last}, "
            f"peak {peak} connected, probe {ok}/{len(probes)} (slowest {slowest} ms)")
    return not problems, text, [f"{name}: {p}" for p in problems]


def main() -> int:
    work, connections = Path(sys.argv[1]), int(sys.argv[2])
    parts, problems = [], []
    for spec in sys.argv[3:]:
        name, flag = spec.split(":", 1)
        _, text, probs = check(work, connections, name, flag)
        parts.append(text)
        problems += probs
    print(f"PROTOCOLS slowhttp: {'FAIL' if problems else 'PASS'} {connections} connections each: " + "; ".join(parts))
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
