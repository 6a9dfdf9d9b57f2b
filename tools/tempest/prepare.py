"""What tempest needs from the cloud before it runs: images, two flavors, an external network.

Users and projects are made by tempest itself (dynamic credentials, from the admin's);
here we only check that the roles it assigns exist. Everything is found by name first,
so preparing an already prepared cloud changes nothing.
"""

from __future__ import annotations

import dataclasses
import io

import openstack.connection

IMAGES = ("tempest-image", "tempest-image-alt")
# (name, RAM MiB, vCPUs, disk GiB): the alt flavor is bigger, so resize tests change something.
FLAVORS = (("tempest-flavor", 128, 1, 1), ("tempest-flavor-alt", 192, 1, 2))
PUBLIC_NET = "public"
PUBLIC_CIDR = "172.24.4.0/24"  # documentation-style range only ever used inside this cloud
ROLES = ("admin", "member", "reader")


@dataclasses.dataclass
class Prepared:
    image_ref: str
    image_ref_alt: str
    flavor_ref: str
    flavor_ref_alt: str
    public_network_id: str
    public_network_name: str


def _image(conn: openstack.connection.Connection, name: str) -> str:
    found = [i for i in conn.image.images(name=name) if i.status == "active"]
    if found:
        return str(found[0].id)
    # A tiny raw disk: guests of the fake driver never read it, and raw needs no format header.
    image = conn.image.create_image(name=name, disk_format="raw", container_format="bare", visibility="public",
                                    data=io.BytesIO(b"\0" * 1024 * 1024), validate_checksum=False)
    return str(conn.image.wait_for_status(image, "active", wait=120).id)


def _flavor(conn: openstack.connection.Connection, name: str, ram: int, vcpus: int, disk: int) -> str:
    found = conn.compute.find_flavor(name, ignore_missing=True)
    if found is None:
        found = conn.compute.create_flavor(name=name, ram=ram, vcpus=vcpus, disk=disk, is_public=True)
    return str(found.id)


def _public_network(conn: openstack.connection.Connection) -> str:
    net = conn.network.find_network(PUBLIC_NET, ignore_missing=True)
    if net is None:
        net = conn.network.create_network(name=PUBLIC_NET, is_router_external=True)
    elif not net.is_router_external:
        raise RuntimeError(f"network {PUBLIC_NET!r} exists but is not external")
    if not list(conn.network.subnets(network_id=net.id)):
        conn.network.create_subnet(network_id=net.id, name=f"{PUBLIC_NET}-subnet", ip_version=4,
                                   cidr=PUBLIC_CIDR, gateway_ip="172.24.4.1", is_dhcp_enabled=False,
                                   allocation_pools=[{"start": "172.24.4.10", "end": "172.24.4.250"}])
    return str(net.id)


def prepare(conn: openstack.connection.Connection) -> Prepared:
    """Create (or find) what tempest.conf points at. Raises RuntimeError when a role tempest assigns is missing."""
    missing = [r for r in ROLES if conn.identity.find_role(r, ignore_missing=True) is None]
    if missing:
        raise RuntimeError(f"roles tempest's dynamic credentials assign are missing: {missing}")
    images = [_image(conn, name) for name in IMAGES]
    flavors = [_flavor(conn, *spec) for spec in FLAVORS]
    return Prepared(image_ref=images[0], image_ref_alt=images[1], flavor_ref=flavors[0], flavor_ref_alt=flavors[1],
                    public_network_id=_public_network(conn), public_network_name=PUBLIC_NET)
