"""tools.bench.peers' arithmetic and report: ratios per round, spread, a section that replaces itself."""

from __future__ import annotations

import json
import os

from tools.bench import peers


def test_ratios_are_nubis_advantage_whichever_way_the_unit_points() -> None:
    rates = {"nubis": [200.0, 300.0, 100.0], "reference": [100.0, 100.0, 100.0]}
    assert peers.ratios(rates, "claims c=10 /s") == {"median": 2.0, "min": 1.0, "max": 3.0, "rounds": 3}
    times = {"nubis": [100.0, 50.0], "reference": [600.0, 600.0]}
    assert peers.ratios(times, "candidates p50 ms") == {"median": 9.0, "min": 6.0, "max": 12.0, "rounds": 2}
    rss = {"nubis": [100.0], "reference": [150.0]}
    assert peers.ratios(rss, "peak RSS MiB")["median"] == 1.5
    assert peers.ratios({"nubis": [1.0], "reference": []}, "x /s") == {}


def test_the_report_section_is_replaced_not_appended(tmp_path: object) -> None:
    out = str(tmp_path)
    os.makedirs(os.path.join(out, "benchmarks"))
    with open(os.path.join(out, "benchmarks", "results.json"), "w") as f:
        json.dump({"figures": [1]}, f)
    with open(os.path.join(out, "BENCHMARKS.md"), "w") as f:
        f.write("# Benchmarks\n\nother figures\n")
    report = {"when": "now", "host": "2 cores", "conditions": "test", "versions": ["keystone==30.0.0"],
              "services": {"placement": {"figures": {"claims c=10 /s": {"nubis": [50.0], "reference": [10.0]}}},
                           "glance": {"error": "RuntimeError: did not start", "figures": {}}}}
    peers.write_report(report, out)
    peers.write_report(report, out)
    text = open(os.path.join(out, "BENCHMARKS.md")).read()
    assert text.count(peers.MARK_START) == 1 and "other figures" in text
    assert "| placement | claims c=10 /s | 10.0 | 50.0 | **5.0×** (5.0–5.0) | 1 |" in text
    assert "not run: RuntimeError: did not start" in text
    data = json.load(open(os.path.join(out, "benchmarks", "results.json")))
    assert data["figures"] == [1] and data["peers"]["services"]["placement"]["figures"]
