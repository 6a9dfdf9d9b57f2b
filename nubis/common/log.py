"""Logging for every Nubis process, through oslo.log.

oslo.log's own options (``debug``, ``log_file``, ``log_dir``, ``use_stderr``,
``logging_context_format_string``, ``default_log_levels``, ...) are
registered on the process's ``ConfigOpts`` and listed in the sample config
under its ``oslo.log`` namespace. Its default context format carries
``%(request_id)s`` and ``%(user_identity)s`` (user, project, domain, scope)
from the thread's current oslo.context ``RequestContext``, which the API and
the RPC servers make current while they handle a request (see
``nubis.common.context``). Lines logged outside any request use
``logging_default_format_string`` (``[-]`` in place of the ids). The token is
never on a line: oslo.context masks it in the values oslo.log formats.
"""

from __future__ import annotations

import os

from oslo_config import cfg
from oslo_log import log as oslo_logging

from nubis import version

# Libraries that are chatty at INFO and never say anything an operator needs,
# on top of oslo.log's own list.
_QUIET = ("kombu=WARN", "cheroot=WARN", "oslo_policy=WARN")


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register oslo.log's options (some are command-line options: call before parsing)."""
    oslo_logging.register_options(conf)
    levels = [pair for pair in conf.default_log_levels if pair.partition("=")[0] not in
              {q.partition("=")[0] for q in _QUIET}]
    conf.set_default("default_log_levels", levels + list(_QUIET))


def setup(conf: cfg.ConfigOpts) -> None:
    """Send this process's log records where ``conf`` says, in oslo.log's formats.

    The directory of the log file is made if missing (oslo.log would fail to open the file).
    """
    if conf.log_dir or conf.log_file:
        folder = conf.log_dir or os.path.dirname(os.path.abspath(conf.log_file))
        os.makedirs(folder, mode=0o750, exist_ok=True)
    # Nubis runs on native threads: oslo.log's eventlet workaround has nothing to do.
    oslo_logging.setup(conf, "nubis", version.VERSION, fix_eventlet=False)
