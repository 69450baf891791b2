"""Compares two kosoku (Autobahn-format) reports: the echo run directly and through Portico.

    python compare.py <direct report dir> <portico report dir> <out dir> <expected case count>

Writes results-direct.tsv, results-portico.tsv (case, behavior, behaviorClose, remoteCloseCode)
and diff.txt to <out dir>, prints the `PROTOCOLS autobahn:` summary line, and exits 1 when the
bar is not met: every case present in both, every case passed directly (so the echo itself is
a correct backend), and the same per-case results through Portico as direct.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}


def case_key(case_id: str) -> tuple[int, ...]:
    return tuple(int(p) for p in case_id.split("."))


def load(report_dir: Path) -> dict[str, tuple[str, str, str]]:
    index = report_dir / "index.json"
    if not index.is_file():
        return {}
    agents = json.loads(index.read_text())
    results: dict[str, tuple[str, str, str]] = {}
    for cases in agents.values():
        for case_id, r in cases.items():
            results[case_id] = (r["behavior"], r["behaviorClose"], str(r.get("remoteCloseCode")))
    return results


def counts(results: dict[str, tuple[str, str, str]]) -> str:
    c = collections.Counter(b for b, _, _ in results.values())
    order = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED", "ERROR"]
    return " ".join(f"{k} {c[k]}" for k in order if c[k]) or "none"


def write_tsv(path: Path, results: dict[str, tuple[str, str, str]]) -> None:
    lines = ["case\tbehavior\tbehaviorClose\tremoteCloseCode"]
    for case_id in sorted(results, key=case_key):
        lines.append("\t".join((case_id, *results[case_id])))
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    direct_dir, portico_dir, out_dir = (Path(a) for a in sys.argv[1:4])
    expected = int(sys.argv[4])
    direct, portico = load(direct_dir), load(portico_dir)
    write_tsv(out_dir / "results-direct.tsv", direct)
    write_tsv(out_dir / "results-portico.tsv", portico)

    problems: list[str] = []
    diffs: list[str] = []
    for case_id in sorted(set(direct) | set(portico), key=case_key):
        d, p = direct.get(case_id), portico.get(case_id)
        if d != p:
            diffs.append(f"{case_id}\tdirect {d or 'missing'}\tportico {p or 'missing'}")
    (out_dir / "diff.txt").write_text("".join(line + "\n" for line in diffs))
    if len(direct) != expected:
        problems.append(f"direct run has {len(direct)} cases, expected {expected}")
    if len(portico) != expected:
        problems.append(f"Portico run has {len(portico)} cases, expected {expected}")
    not_passed = [c for c, (b, bc, _) in direct.items() if b not in PASSING or bc not in PASSING]
    if not_passed:
        problems.append(f"{len(not_passed)} cases did not pass directly (the echo is wrong): {' '.join(sorted(not_passed, key=case_key)[:10])}")
    if diffs:
        problems.append(f"{len(diffs)} cases differ through Portico (diff.txt): {' '.join(d.split(chr(9))[0] for d in diffs[:10])}")

    verdict = "FAIL" if problems else "PASS"
    same = "same results through Portico" if not diffs else f"{len(diffs)} differ"
    print(f"PROTOCOLS autobahn: {verdict} {len(direct)} cases direct ({counts(direct)}), "
          f"{len(portico)} through Portico ({counts(portico)}), {same}")
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
