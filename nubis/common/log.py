"""Logging for every Nubis process: one format, the request id on every line."""

from __future__ import annotations

import logging
import os
import sys

from oslo_config import cfg

from nubis.api import request_id

LOG_OPTS = [
    cfg.BoolOpt("debug", default=False, help="Log at DEBUG level."),
    cfg.StrOpt("log-file", metavar="PATH",
               help="Write logs to this file instead of standard error."),
]

FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s [%(request_id)s] %(message)s"


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_cli_opts(LOG_OPTS)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("DEFAULT", LOG_OPTS)]


def setup(conf: cfg.ConfigOpts) -> None:
    if conf.log_file:
        os.makedirs(os.path.dirname(os.path.abspath(conf.log_file)), exist_ok=True)
        handler: logging.Handler = logging.FileHandler(conf.log_file)
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(request_id.RequestIdLogFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if conf.debug else logging.INFO)
    # Libraries that are chatty at INFO and never say anything an operator needs.
    for name in ("amqp", "kombu", "stevedore", "oslo_policy", "keystonemiddleware.auth_token", "cheroot"):
        logging.getLogger(name).setLevel(logging.WARNING)
