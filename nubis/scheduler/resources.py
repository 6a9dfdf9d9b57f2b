"""What a request spec asks of placement: the resource amounts and the allocation-candidates query."""

from __future__ import annotations

from nubis.scheduler.request_spec import RequestSpec


def resources_for(spec: RequestSpec) -> dict[str, int]:
    """Resource class -> amount for ``spec``'s flavor (PCPU for ``hw:cpu_policy=dedicated``, else VCPU;
    ``resources:<CLASS>=<n>`` extra specs add a class or, with 0, switch one off)."""
    flavor = spec.flavor
    cpu_class = "PCPU" if flavor.extra_specs.get("hw:cpu_policy") == "dedicated" else "VCPU"
    wanted = {cpu_class: flavor.vcpus, "MEMORY_MB": flavor.memory_mb, "DISK_GB": flavor.disk_gb}
    for key, value in flavor.extra_specs.items():
        # resources:VCPU=0 switches a class off; resources:CUSTOM_X=1 adds one.
        if key.startswith("resources:"):
            wanted[key.split(":", 1)[1]] = int(value)
    return {rc: n for rc, n in wanted.items() if n > 0}


def query_for(spec: RequestSpec, limit: int) -> list[tuple[str, str]]:
    """The ``GET /allocation_candidates`` query for ``spec``: ``resources``, ``limit`` and the ``required``
    traits (``trait:<NAME>=required|forbidden`` extra specs)."""
    params = [("resources", ",".join(f"{rc}:{n}" for rc, n in sorted(resources_for(spec).items()))),
              ("limit", str(limit))]
    required = []
    for key, value in spec.flavor.extra_specs.items():
        if key.startswith("trait:"):
            trait = key.split(":", 1)[1]
            if value == "required":
                required.append(trait)
            elif value == "forbidden":
                required.append("!" + trait)
    if required:
        params.append(("required", ",".join(sorted(required))))
    return params
