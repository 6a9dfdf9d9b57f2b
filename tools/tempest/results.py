"""Reading a tempest run's results (stestr's subunit stream) into per-service counts and failures."""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import re
import subprocess

DUMP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_subunit_dump.py")
PASSED = {"success", "xfail"}
FAILED = {"fail", "uxsuccess"}
SKIPPED = {"skip"}


@dataclasses.dataclass
class Outcome:
    test_id: str
    status: str
    details: str
    seconds: float | None

    @property
    def service(self) -> str:
        """identity/image/compute/network... from the test id (setUpClass ids name the class in parentheses)."""
        m = re.search(r"tempest\.api\.(\w+)\.", self.test_id)
        return m.group(1) if m else "other"

    @property
    def last_line(self) -> str:
        lines = [line.strip() for line in self.details.splitlines() if line.strip()]
        return lines[-1] if lines else "(no details)"


def load(venv: str, workspace: str) -> list[Outcome]:
    """Outcomes of the last run in ``workspace``, read with the tempest venv's stestr and subunit."""
    stream = subprocess.run([os.path.join(venv, "bin", "stestr"), "last", "--subunit"], cwd=workspace,
                            capture_output=True, check=False)
    if stream.returncode not in (0, 1) or not stream.stdout:
        raise RuntimeError(f"stestr last --subunit failed: {stream.stderr.decode(errors='replace')[-2000:]}")
    dumped = subprocess.run([os.path.join(venv, "bin", "python"), DUMP], input=stream.stdout, capture_output=True,
                            check=True)
    out = []
    for line in dumped.stdout.decode().splitlines():
        item = json.loads(line)
        if item["status"] in ("exists", "inprogress", None):
            continue
        out.append(Outcome(item["id"], item["status"], item["details"], item["seconds"]))
    return out


def summarize(outcomes: list[Outcome]) -> dict[str, dict[str, int]]:
    """service -> {"passed", "failed", "skipped"}; failed includes class setup errors."""
    table: dict[str, dict[str, int]] = collections.defaultdict(lambda: {"passed": 0, "failed": 0, "skipped": 0})
    for o in outcomes:
        kind = "passed" if o.status in PASSED else "failed" if o.status in FAILED else \
            "skipped" if o.status in SKIPPED else None
        if kind:
            table[o.service][kind] += 1
    return dict(sorted(table.items()))


def skip_reasons(outcomes: list[Outcome]) -> dict[str, int]:
    reasons = collections.Counter(o.last_line for o in outcomes if o.status in SKIPPED)
    return dict(reasons.most_common())


def render(table: dict[str, dict[str, int]], outcomes: list[Outcome]) -> str:
    lines = [f"{'service':<12}{'passed':>8}{'failed':>8}{'skipped':>9}"]
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    for service, row in table.items():
        lines.append(f"{service:<12}{row['passed']:>8}{row['failed']:>8}{row['skipped']:>9}")
        for k in totals:
            totals[k] += row[k]
    lines.append(f"{'total':<12}{totals['passed']:>8}{totals['failed']:>8}{totals['skipped']:>9}")
    failures = [o for o in outcomes if o.status in FAILED]
    if failures:
        lines.append("")
        lines.append(f"failures ({len(failures)}), each with its last line:")
        lines += [f"  {o.test_id}\n      {o.last_line}" for o in sorted(failures, key=lambda o: o.test_id)]
    return "\n".join(lines)
