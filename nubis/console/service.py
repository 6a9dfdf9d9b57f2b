"""The console proxies as the commands see them: ``nubis-novncproxy``, ``nubis-spicehtml5proxy`` and
``nubis-serialproxy``.

Each checks tokens with the conductor over RPC (its only credentials are the message bus's) and listens
where ``[vnc] novncproxy_host/port``, ``[spice] html5proxy_host/port`` or ``[serial_console]
serialproxy_host/port`` say.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from nubis.common import context
from nubis.common.runtime import Runtime
from nubis.compute import conf as compute_conf
from nubis.compute.conductor.rpcapi import ConductorAPI
from nubis.console import proxy
from nubis.services import ServiceDefinition, Stoppable


def _token_check(runtime: Runtime) -> proxy.TokenCheck:
    conductor = ConductorAPI(runtime.messaging, runtime.conf.compute.rpc_timeout)

    def check(token: str) -> dict[str, Any] | None:
        # Read at each use, so an operator's change applies at the next reload without surprises mid-session.
        return conductor.check_console_token(context.admin_context(), token,
                                             consume=runtime.conf.console.single_use)
    return check


def _start(runtime: Runtime, name: str, types: tuple[str, ...], host: str, port: int,
           web_dir: str | None) -> Sequence[Stoppable]:
    c = runtime.conf
    settings = proxy.ProxySettings(name, types, proxy.origins(c.console.allowed_origins),
                                   web_dir if web_dir and os.path.isdir(web_dir) else None)
    tls = proxy.ssl_context(c.console.ssl_cert_file, c.console.ssl_key_file)
    return [proxy.start(settings, host, port, _token_check(runtime), tls)]


def start_novnc(runtime: Runtime) -> Sequence[Stoppable]:
    """noVNC's websocket proxy, serving noVNC's client from ``[vnc] novnc_web_dir`` when it is installed."""
    v = runtime.conf.vnc
    return _start(runtime, "novncproxy", ("novnc",), v.novncproxy_host, v.novncproxy_port, v.novnc_web_dir)


def start_spice(runtime: Runtime) -> Sequence[Stoppable]:
    """The spice-html5 websocket proxy, serving the client from ``[spice] html5_web_dir`` when it is installed."""
    s = runtime.conf.spice
    return _start(runtime, "spicehtml5proxy", ("spice-html5",), s.html5proxy_host, s.html5proxy_port,
                  s.html5_web_dir)


def start_serial(runtime: Runtime) -> Sequence[Stoppable]:
    """The serial console websocket proxy (websocket ↔ the guest's serial TCP port)."""
    s = runtime.conf.serial_console
    return _start(runtime, "serialproxy", ("serial",), s.serialproxy_host, s.serialproxy_port, None)


# ``port`` is the default listening port: the all-in-one's port offsets move it like the APIs' ports.
NOVNC = ServiceDefinition(name="novncproxy", console_script="nubis-novncproxy", port=6080,
                          list_opts=compute_conf.list_opts, start=start_novnc)
SPICE = ServiceDefinition(name="spicehtml5proxy", console_script="nubis-spicehtml5proxy", port=6082,
                          list_opts=compute_conf.list_opts, start=start_spice)
SERIAL = ServiceDefinition(name="serialproxy", console_script="nubis-serialproxy", port=6083,
                           list_opts=compute_conf.list_opts, start=start_serial)
