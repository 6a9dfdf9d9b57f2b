"""A process asked to stop exits within [DEFAULT] graceful_shutdown_timeout, even if something will not stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

# A process that starts one thing whose stop() never returns, says it is up, then waits for a signal.
_HANGING = """
import sys, threading
from nubis.api import server

class Stuck:
    def stop(self):
        threading.Event().wait()

def start():
    print("up", flush=True)
    return [Stuck()]

server.run_in_process(start, graceful_timeout=lambda: float(sys.argv[1]))
"""


def _run(bound: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", _HANGING, bound], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "up"
    return proc


def test_sigterm_exits_at_the_bound_when_stopping_hangs() -> None:
    proc = _run("1")
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 1  # forced: the stop did not finish
    assert time.monotonic() - began < 5


def test_no_bound_waits_for_the_stop() -> None:
    proc = _run("0")
    try:
        proc.send_signal(signal.SIGTERM)
        time.sleep(2)
        assert proc.poll() is None  # still finishing what it does, as asked
    finally:
        proc.kill()
        proc.wait(timeout=30)


# A process serving on a thread that keeps it alive, logging to a watched file (as oslo.log's --log-file).
_SERVING_WITH_LOG_FILE = """
import logging, logging.handlers, sys, threading
from nubis.api import server

logging.getLogger().addHandler(logging.handlers.WatchedFileHandler(sys.argv[1]))
logging.getLogger().setLevel(logging.INFO)

class Serving:
    def __init__(self):
        self.stopped = threading.Event()
        threading.Thread(target=self.stopped.wait).start()  # not a daemon: the process lives while it waits

    def stop(self):
        self.stopped.set()

def start():
    print("up", flush=True)
    return [Serving()]

server.run_in_process(start)
"""


def test_a_removed_log_folder_does_not_keep_the_process_alive(tmp_path) -> None:  # type: ignore[no-untyped-def]
    logs = tmp_path / "logs"
    logs.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", _SERVING_WITH_LOG_FILE, str(logs / "api.log")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "up"
        (logs / "api.log").unlink()
        logs.rmdir()  # as a purge of the state folder before the stop signal
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait(timeout=30)
