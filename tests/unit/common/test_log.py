"""Logging through oslo.log: its options, its format, the request id and the caller on every line of a request."""

from __future__ import annotations

import glob
import logging
import os
import sys
import threading
from collections.abc import Iterator

import pytest

from nubis.cmd import common
from nubis.common import config, context, log

RID = "req-12345678-1234-1234-1234-123456789abc"
LOG = logging.getLogger("nubis.tests.log")


@pytest.fixture
def process_logging() -> Iterator[None]:
    """``log.setup`` configures the whole process (root handlers, library levels, excepthook): undo it after."""
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, sys.excepthook
    levels = {name: logging.getLogger(name).level for name in list(logging.root.manager.loggerDict)}
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    sys.excepthook = hook
    for name in list(logging.root.manager.loggerDict):
        logging.getLogger(name).setLevel(levels.get(name, logging.NOTSET))


def test_options_are_oslo_logs_and_its_format_names_request_and_caller(tmp_path) -> None:  # type: ignore[no-untyped-def]
    conf_file = tmp_path / "nubis.conf"
    conf_file.write_text("[DEFAULT]\nuse_stderr = true\n")
    conf = common.build_conf([])
    config.parse_args(conf, ["--debug", "--log-dir", "/somewhere", "--config-file", str(conf_file)],
                      default_config_files=[])
    assert (conf.debug, conf.log_dir, conf.use_stderr) == (True, "/somewhere", True)
    assert "%(request_id)s" in conf.logging_context_format_string
    assert "%(user_identity)s" in conf.logging_context_format_string
    assert "%(user)s %(project)s" in conf.logging_user_identity_format
    # oslo.log's quiet libraries, and ours.
    assert {"amqp=WARN", "kombu=WARN", "cheroot=WARN", "oslo_policy=WARN"} <= set(conf.default_log_levels)
    assert "oslo_policy=INFO" not in conf.default_log_levels


def test_a_process_logs_request_id_and_caller_to_its_log_dir(tmp_path, process_logging) -> None:  # type: ignore[no-untyped-def]
    log_dir = str(tmp_path / "logs")  # made by setup
    conf = common.build_conf([])
    config.parse_args(conf, ["--log-dir", log_dir, "--debug"], default_config_files=[])
    log.setup(conf)

    def work() -> None:
        context.RequestContext(user_id="u1", project_id="p1", request_id=RID, auth_token="a-secret-token")
        LOG.info("inside the request")
        LOG.debug("debugging the request")
        context.clear_current()
        LOG.info("outside any request")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    for handler in logging.getLogger().handlers:
        handler.flush()
    files = glob.glob(os.path.join(log_dir, "*.log"))  # <log_dir>/<program>.log
    assert len(files) == 1
    lines = open(files[0]).read().splitlines()
    by_message = {message: next(line for line in lines if message in line)
                  for message in ("inside the request", "debugging the request", "outside any request")}
    assert f" INFO nubis.tests.log [None {RID} u1 p1 " in by_message["inside the request"]
    assert f"{RID} u1 p1 " in by_message["debugging the request"]
    assert " INFO nubis.tests.log [-] outside any request" in by_message["outside any request"]
    assert not any("a-secret-token" in line for line in lines)
