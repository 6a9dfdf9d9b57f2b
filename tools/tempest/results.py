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
EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*: \S")


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
        """The last line of the error: its last ``Name: message`` line at the margin (tempest's
        ``Details: ...`` when it gives them), not the response body a schema error dumps after it."""
        lines = [line.rstrip() for line in self.details.splitlines() if line.strip()]
        errors = [line for line in lines if EXCEPTION_LINE.match(line)]
        return (errors or lines or ["(no details)"])[-1].strip()


def load(venv: str, stream_path: str) -> list[Outcome]:
    """Outcomes in the subunit v2 stream tempest wrote (``tempest run --subunit``), read with the tempest
    venv's subunit. A stream cut short (an interrupted run) yields the tests that ended before the cut."""
    if not os.path.exists(stream_path) or os.path.getsize(stream_path) == 0:
        raise RuntimeError(f"no results in {stream_path}")
    with open(stream_path, "rb") as stream:
        dumped = subprocess.run([os.path.join(venv, "bin", "python"), DUMP], stdin=stream, capture_output=True,
                                check=False)
    if dumped.returncode != 0:
        raise RuntimeError(f"reading {stream_path} failed: {dumped.stderr.decode(errors='replace')[-2000:]}")
    out = []
    for line in dumped.stdout.decode().splitlines():
        item = json.loads(line)
        if item["status"] in ("exists", "inprogress", None):
            continue
        out.append(Outcome(item["id"], item["status"], item["details"], item["seconds"]))
    return out


def listed(venv: str, workspace: str, regex: str) -> list[str]:
    """The ids of the tests ``regex`` selects (``stestr list``), to count those that never reported."""
    proc = subprocess.run([os.path.join(venv, "bin", "stestr"), "list", regex], cwd=workspace, capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"stestr list failed: {proc.stderr[-2000:]}")
    return [line.strip() for line in proc.stdout.splitlines() if line.startswith("tempest.")]


COLUMNS = ("passed", "failed", "skipped", "not run")


def _class_of(test_id: str) -> str:
    """``setUpClass (a.b.C)`` -> ``a.b.C``; ``a.b.C.test_x[id-...]`` -> ``a.b.C``."""
    m = re.match(r"\w+ \((.*)\)$", test_id)
    return m.group(1) if m else re.sub(r"\[.*\]$", "", test_id).rsplit(".", 1)[0]


def summarize(outcomes: list[Outcome], selected: list[str] | None = None) -> dict[str, dict[str, int]]:
    """service -> {"passed", "failed", "skipped", "not run"}.

    A class whose setup failed counts once under failed, and its tests, which never
    report, under "not run"; the tests of a class skipped as a whole count as skipped.
    """
    table: dict[str, dict[str, int]] = collections.defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    class_skipped = set()
    for o in outcomes:
        if o.status in SKIPPED and " (" in o.test_id:
            class_skipped.add(_class_of(o.test_id))
            continue
        kind = "passed" if o.status in PASSED else "failed" if o.status in FAILED else \
            "skipped" if o.status in SKIPPED else None
        if kind:
            table[o.service][kind] += 1
    reported = {o.test_id for o in outcomes}
    for test_id in selected or []:
        if test_id not in reported:
            kind = "skipped" if _class_of(test_id) in class_skipped else "not run"
            table[Outcome(test_id, "", "", None).service][kind] += 1
    return dict(sorted(table.items()))


def skip_reasons(outcomes: list[Outcome]) -> dict[str, int]:
    """Each distinct skip message (a whole class's counts once), most frequent first."""
    reasons = collections.Counter(o.last_line for o in outcomes if o.status in SKIPPED)
    return dict(reasons.most_common())


def render(table: dict[str, dict[str, int]], outcomes: list[Outcome]) -> str:
    def row(name: str, values: dict[str, int]) -> str:
        return f"{name:<12}" + "".join(f"{values[c]:>9}" for c in COLUMNS)

    lines = [f"{'service':<12}" + "".join(f"{c:>9}" for c in COLUMNS)]
    lines += [row(service, values) for service, values in table.items()]
    lines.append(row("total", {c: sum(v[c] for v in table.values()) for c in COLUMNS}))
    lines.append("(not run: selected tests that never reported: their class's setup failed, which counts once "
                 "under failed, or the run was cut short)")
    failures = [o for o in outcomes if o.status in FAILED]
    if failures:
        lines.append("")
        lines.append(f"failures ({len(failures)}), each with its last line:")
        lines += [f"  {o.test_id}\n      {o.last_line}" for o in sorted(failures, key=lambda o: o.test_id)]
    return "\n".join(lines)
