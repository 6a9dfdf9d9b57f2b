"""The newcomer's first VM against devstack/stack.sh: every service its own process on MariaDB,
RabbitMQ and memcached, libvirt (qemu/TCG) guests, the network agent on this machine's own stack.

The external network's uplink is a veth pair whose far end, in an "outside" namespace, holds the outside
gateway address and is where the floating IP is reached from (tests/e2e/libvirt_devstack.py).
"""

from __future__ import annotations

import os

import pytest

from nubis import services
from tests.e2e import journey
from tests.e2e.libvirt_devstack import GATEWAY, libvirt_devstack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif("network" not in services.available(), reason="needs the network service"),
]


def test_first_vm_on_devstack(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with libvirt_devstack(tmp_path) as stack:
        journey.first_vm(stack.cloud, str(tmp_path / "work"), stack.outside, GATEWAY, hosts=("",),
                         instance_dirs=[stack.instances], marker=stack.state)
    assert not os.path.exists(stack.instances)
