"""Run by the tempest venv's python: a subunit v2 stream on stdin -> one JSON line per test on stdout.

Imports only what tempest installs (python-subunit, testtools), nothing of Nubis.
"""

import json
import sys

import subunit
import testtools


def main() -> None:
    def emit(test: dict) -> None:
        details = test.get("details") or {}
        text = ""
        for key in ("traceback", "reason"):
            if key in details:
                text = details[key].as_text()
                break
        start, stop = test.get("timestamps", (None, None))
        seconds = (stop - start).total_seconds() if start and stop else None
        print(json.dumps({"id": test["id"], "status": test["status"], "details": text, "seconds": seconds}))

    result = testtools.StreamToDict(emit)
    result.startTestRun()
    subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout").run(result)
    result.stopTestRun()


if __name__ == "__main__":
    main()
