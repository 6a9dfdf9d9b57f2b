"""Print the deployment devstack/stack.sh just started, as JSON ($NUBIS_STATE/topology.json).

The kill tests and the HA benchmark read it: each component (an API copy, a conductor, a load balancer,
a Galera node...) names the processes it is made of; each process P has ``<pids_dir>/P.pid`` and
``<pids_dir>/P.start`` (devstack/lib/processes.sh). Input comes from stack.sh's environment.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any

env = os.environ
ha = env["NUBIS_HA"] == "1"
offset = int(env["OFFSET"])
copies = int(env["HA_COPIES"]) if ha else 1
prefix = env.get("NUBIS_HA_PREFIX", "")
vip = env["HA_VIP"] if ha else None
CONSOLE_PROXIES = {"novncproxy", "spicehtml5proxy", "serialproxy"}


def copy_host(copy: int) -> str:
    return f"{vip.rsplit('.', 1)[0]}.{10 + copy}" if vip else env["NUBIS_HOST"]


components: list[dict[str, Any]] = []
for line in env["SERVICES"].splitlines():
    name, _script, port, _db = line.split()
    is_api = port != "-" and name != "exporter"
    # Which services run in copies is stack.sh's decision (ha_is_copied): its records say (NAME-1.start).
    copied = ha and os.path.exists(f"{env['STATE']}/pids/{name}-1.start")
    for copy in range(1, copies + 1) if copied else [0]:
        proc = f"{name}-{copy}" if copy else name
        component: dict[str, Any] = {"name": proc, "processes": [proc]}
        if is_api or name in CONSOLE_PROXIES:
            component.update(kind="api", service=name)
        else:
            component["kind"] = name
        if name == "compute":  # the host its servers are built on (nova's OS-EXT-SRV-ATTR:host)
            component["host"] = socket.gethostname()
        if is_api:
            component["health_url"] = f"http://{copy_host(copy)}:{int(port) + offset}/healthcheck"
        components.append(component)

if ha:
    for n in (1, 2):
        components.append({"name": f"lb-{n}", "kind": "lb", "netns": f"{prefix}-lb-{n}",
                           "processes": [f"lb-{n}-haproxy", f"lb-{n}-keepalived"]})
    for n in (1, 2, 3):
        # HAProxy writes to galera-1 whenever it is Synced (the others are backup lines).
        components.append({"name": f"galera-{n}", "kind": "galera", "netns": f"{prefix}-galera-{n}",
                           "processes": [f"galera-{n}"], **({"role": "writer"} if n == 1 else {})})
        components.append({"name": f"rabbit-{n}", "kind": "rabbit", "processes": [f"rabbit-{n}"]})
    for n in (1, 2):
        components.append({"name": f"memcached-{n}", "kind": "memcached", "processes": [f"memcached-{n}"]})

state = env["STATE"]
print(json.dumps({"vip": vip, "auth_url": env["AUTH_URL"], "openrc": f"{state}/openrc",
                  "pids_dir": f"{state}/pids", "components": components}, indent=2))
