"""Remote console options, with Nova's group and option names (``[console]``, ``[vnc]``, ``[serial_console]``,
``[spice]``): read by the compute API (URLs, token lifetime), the agents (where guests listen) and the proxies."""

from __future__ import annotations

from oslo_config import cfg

CONSOLE_OPTS = [
    cfg.IntOpt("token_ttl", default=600, min=1,
               help="Seconds a remote console token stays valid after the API issued it."),
    cfg.ListOpt("allowed_origins", default=[],
                help="Host names (besides the one the proxy is reached at) a browser page may open consoles from "
                     "(the websocket's Origin header)."),
    cfg.BoolOpt("single_use", default=False,
                help="A console token opens one connection only (the proxy consumes it). Nova's tokens are good "
                     "until they expire, which lets noVNC reconnect; turn this on where a leaked URL must not "
                     "open a second session."),
    cfg.StrOpt("ssl_cert_file", help="Certificate (PEM) the proxies serve TLS (https/wss) with; unset: plain."),
    cfg.StrOpt("ssl_key_file", help="Private key of ssl_cert_file."),
]

VNC_OPTS = [
    cfg.BoolOpt("enabled", default=True, help="Give guests VNC graphics and offer noVNC consoles."),
    cfg.StrOpt("novncproxy_base_url", default="http://127.0.0.1:6080/vnc_auto.html",
               help="The noVNC page browsers are sent to; the token is appended as ?path=%3Ftoken%3D<token>."),
    cfg.StrOpt("server_listen", default="127.0.0.1", help="Address the guests' VNC servers listen on."),
    cfg.StrOpt("server_proxyclient_address", default="127.0.0.1",
               help="Address of this compute host the noVNC proxy connects to."),
    cfg.StrOpt("novncproxy_host", default="0.0.0.0", help="Address nubis-novncproxy listens on."),
    cfg.PortOpt("novncproxy_port", default=6080, help="Port nubis-novncproxy listens on."),
    cfg.StrOpt("novnc_web_dir", default="/usr/share/novnc",
               help="noVNC's static client (Debian package novnc, or the @novnc/novnc npm package), served by "
                    "nubis-novncproxy when the directory exists."),
]

SERIAL_OPTS = [
    cfg.BoolOpt("enabled", default=True, help="Give guests a serial console on a TCP port and offer it."),
    cfg.StrOpt("base_url", default="ws://127.0.0.1:6083/",
               help="The serial proxy's websocket URL clients are given; the token is appended as ?token=."),
    cfg.StrOpt("port_range", default="10000:20000", regex=r"^\d+:\d+$",
               help="TCP ports (first:last) the guests' serial consoles listen on."),
    cfg.StrOpt("proxyclient_address", default="127.0.0.1",
               help="Address of this compute host the serial proxy connects to (guests' serial ports bind it)."),
    cfg.StrOpt("serialproxy_host", default="0.0.0.0", help="Address nubis-serialproxy listens on."),
    cfg.PortOpt("serialproxy_port", default=6083, help="Port nubis-serialproxy listens on."),
]

SPICE_OPTS = [
    cfg.BoolOpt("enabled", default=False,
                help="Offer SPICE (spice-html5) consoles; the hosts' qemu must be built with SPICE."),
    cfg.StrOpt("html5proxy_base_url", default="http://127.0.0.1:6082/spice_auto.html",
               help="The spice-html5 page browsers are sent to; the token is appended as ?token=."),
    cfg.StrOpt("server_listen", default="127.0.0.1", help="Address the guests' SPICE servers listen on."),
    cfg.StrOpt("server_proxyclient_address", default="127.0.0.1",
               help="Address of this compute host the SPICE proxy connects to."),
    cfg.StrOpt("html5proxy_host", default="0.0.0.0", help="Address nubis-spicehtml5proxy listens on."),
    cfg.PortOpt("html5proxy_port", default=6082, help="Port nubis-spicehtml5proxy listens on."),
    cfg.StrOpt("html5_web_dir", default="/usr/share/spice-html5",
               help="The spice-html5 client (Debian package spice-html5), served by nubis-spicehtml5proxy when "
                    "the directory exists."),
]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("console", CONSOLE_OPTS), ("vnc", VNC_OPTS), ("serial_console", SERIAL_OPTS), ("spice", SPICE_OPTS)]


def port_range(conf: cfg.ConfigOpts) -> tuple[int, int]:
    """``[serial_console] port_range`` as (first, last), inclusive."""
    first, last = (int(p) for p in conf.serial_console.port_range.split(":"))
    return first, max(first, last)
