"""Compute's side of the network service: checking what a boot asks for, and a host wiring its guests.

The compute API resolves ``networks`` (and security group names) when a boot
is accepted, so a wrong name fails there with a 400 instead of later in the
build; the host's agent then creates and binds the ports, waits until the
network agent has wired them (port status ACTIVE), and gives them back when
the guest goes. Ports the user brought (``{"port": ...}``) are only unbound,
never deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence, Set
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg

from nubis.common import exceptions
from nubis.common.clients.network import NetworkClient

PRESERVE = "preserve_on_delete"  # kept in binding:profile, which only admins (compute) see
# Ids per filtered GET (as Nova chunks its port queries), so a listing page's query string stays short.
_IDS_PER_QUERY = 150

LOG = logging.getLogger(__name__)


def _unavailable(exc: Exception) -> exceptions.NubisError:
    if isinstance(exc, ks_exc.EndpointNotFound):
        return exceptions.BadRequest("Networks were requested, but this cloud's catalog has no network service.")
    return exceptions.ServiceUnavailable(f"The network service cannot be reached: {exc}")


class Networking:
    """Compute's use of the network service (``client``, the one ``NetworkClient``, service credentials)."""

    def __init__(self, client: NetworkClient) -> None:
        self.client = client

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> Networking | None:
        """The network service, when this cloud's config says how to find it (catalog or override)."""
        client = NetworkClient.from_conf(conf)
        return None if client is None else cls(client)

    def available(self) -> bool:
        return self.client.available()

    def _get(self, *segments: Any, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``/v2.0/<segments>?<params>`` (``NetworkClient`` encodes every segment and value)."""
        try:
            return self.client.request("GET", *segments, params=params)
        except (ks_exc.EndpointNotFound, ks_exc.ConnectionError) as exc:
            raise _unavailable(exc) from None

    # -- the compute API: what a boot asks for -------------------------------------------------------------
    def resolve(self, project_id: str, networks: Any, security_groups: Sequence[str], count: int,
                ) -> list[dict[str, Any]]:
        """``networks`` as the boot gave it ('auto', 'none' or a list), checked and made explicit."""
        if networks in (None, "none"):
            return []
        if not self.available():
            if networks == "auto":
                return []  # a cloud without a network service boots servers without NICs
            raise exceptions.BadRequest("Networks were requested, but this cloud has no network service: boot with "
                                        "networks 'none'.")
        groups = self._group_ids(project_id, security_groups)
        if networks == "auto":
            return [{"network_id": n, "security_groups": groups} for n in self._auto(project_id)]
        out = []
        for item in networks:
            if item.get("port"):
                if count > 1:
                    raise exceptions.BadRequest("Unable to launch multiple instances with a single configured "
                                                "port ID. Please launch your instances one by one with "
                                                "different ports.")
                out.append({"port_id": self._free_port(project_id, item["port"])})
            else:
                net = self._visible_network(project_id, item.get("uuid"))
                entry = {"network_id": net["id"], "security_groups": groups}
                if item.get("fixed_ip"):
                    if net["project_id"] != project_id:
                        # The network service's rule (create_port:fixed_ips:ip_address): only the network's
                        # owner picks addresses on it; compute creates the port with its own rights, so it
                        # must apply that rule for the caller here.
                        raise exceptions.Forbidden(f"Policy doesn't allow create_port:fixed_ips:ip_address to be "
                                                   f"performed: network {net['id']} belongs to another project, "
                                                   "so it chooses the address.")
                    entry["fixed_ip"] = item["fixed_ip"]
                out.append(entry)
        return out

    def _list(self, collection: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """GET ``/v2.0/<collection>?<params>``'s items. A refusal is never read as "none": callers decide
        from the list what to create or delete (a delete that saw no ports would leave them behind).

        :raises ServiceUnavailable: the network service cannot be reached or answers anything but 200.
        """
        resp = self._get(collection, params=params)
        if resp.status_code != 200:
            raise exceptions.ServiceUnavailable(f"The network service answered {resp.status_code} listing "
                                                f"{collection}: {_message(resp)}")
        items: list[dict[str, Any]] = resp.json().get(collection.replace("-", "_"), [])
        return items

    def _auto(self, project_id: str) -> list[str]:
        own = self._list("networks", {"project_id": project_id, "router:external": "false"})
        shared = self._list("networks", {"shared": "true"})
        ids = sorted({n["id"] for n in [*own, *shared]})
        if len(ids) > 1:
            raise exceptions.Conflict("Multiple possible networks found, use a Network ID to be more specific.")
        return ids

    def _shown(self, collection: str, item_id: Any) -> dict[str, Any] | None:
        """GET ``/v2.0/<collection>/<id>``'s item; None when the network service says it does not exist (or
        refuses to show it: 403/404). A failing network service is not "not found".

        :raises ServiceUnavailable: the network service cannot be reached or answers 5xx (or 401).
        """
        resp = self._get(collection, item_id)
        if resp.status_code in (403, 404):
            return None
        if resp.status_code != 200:
            raise exceptions.ServiceUnavailable(f"The network service answered {resp.status_code} showing "
                                                f"{collection} {item_id}: {_message(resp)}")
        item: dict[str, Any] | None = resp.json().get(collection[:-1])
        return item

    def _visible_network(self, project_id: str, network_id: Any) -> dict[str, Any]:
        net = self._shown("networks", network_id)
        if net is None or not (net["project_id"] == project_id or net["shared"]):
            raise exceptions.BadRequest(f"Network {network_id} could not be found.")
        return net

    def _free_port(self, project_id: str, port_id: Any) -> str:
        port = self._shown("ports", port_id)
        if port is None or port["project_id"] != project_id:
            raise exceptions.BadRequest(f"Port id {port_id} could not be found.")
        if port["device_id"]:
            raise exceptions.Conflict(f"Port {port_id} is still in use.")
        return str(port["id"])

    def _group_ids(self, project_id: str, names: Sequence[str]) -> list[str]:
        if all(name == "default" for name in names):
            return []  # the network service gives new ports the project's default group itself
        return [self._group_id(project_id, name) for name in names]

    def _group_id(self, project_id: str, name: str) -> str:
        """The id of the project's security group called ``name`` (or with that id); only the caller's project's
        groups count, whatever the service's own credentials could see."""
        for key in ("name", "id"):
            resp = self._get("security-groups", params={"project_id": project_id, key: name})
            found = [g for g in (resp.json().get("security_groups", []) if resp.status_code == 200 else [])
                     if g.get("project_id") == project_id and g.get(key) == name]
            if len(found) > 1:
                raise exceptions.Conflict(f"Multiple security_group matches found for name '{name}', use an ID to "
                                          "be more specific.")
            if found:
                return str(found[0]["id"])
        raise exceptions.BadRequest(f"Security group {name} not found for project {project_id}: unable to find "
                                    f"security_group with name or id '{name}'.")

    # -- the host: wiring a guest ------------------------------------------------------------------------
    def allocate(self, instance: dict[str, Any], host: str) -> list[dict[str, Any]]:
        """Create or take over the requested ports (first boot) and bind all of the instance's ports to
        ``host``; the guest's VIFs. Ports that exist already (unshelve, rebuild) only move here."""
        uuid, project_id = instance["uuid"], instance["project_id"]
        existing = self.ports(uuid, project_id)
        if existing or not instance.get("requested_networks"):
            return self.bind(uuid, host, existing)
        owner = f"compute:{instance.get('availability_zone') or 'nova'}"
        created: list[str] = []
        try:
            for request in instance.get("requested_networks") or []:
                if request.get("port_id"):
                    self._update(request["port_id"], {"device_id": uuid, "device_owner": owner,
                                                      "binding:profile": {PRESERVE: True}})
                    continue
                port: dict[str, Any] = {"network_id": request["network_id"], "project_id": project_id,
                                        "device_id": uuid, "device_owner": owner}
                if request.get("fixed_ip"):
                    port["fixed_ips"] = [{"ip_address": request["fixed_ip"]}]
                if request.get("security_groups"):
                    port["security_groups"] = request["security_groups"]
                resp = self.client.create_port(port)
                if resp.status_code != 201:
                    raise exceptions.Conflict(f"Could not create a port on network {request['network_id']}: "
                                              f"{_message(resp)}")
                created.append(resp.json()["port"]["id"])
            return self.bind(uuid, host, self.ports(uuid, project_id))
        except Exception:
            for port_id in created:
                self.client.delete_port(port_id)
            raise

    def bind(self, uuid: str, host: str, ports: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Bind the instance's ports to ``host``: ``ports`` when the caller has just read them (with the
        instance's project), else the ones compute bound before (a move to another host)."""
        vifs = []
        for port in self.ports(uuid) if ports is None else ports:
            if port.get("binding:host_id") != host:
                port = self._update(port["id"], {"binding:host_id": host})
            vifs.append(self._vif(port))
        return vifs

    def ports(self, uuid: str, project_id: str | None = None) -> list[dict[str, Any]]:
        """The instance's ports. Any tenant may write any ``device_id`` on a port of its own, so that alone
        never makes a port the instance's: it must also belong to the instance's project (``project_id``) or,
        where the caller does not know the project, be bound to a host, which only compute (an admin) does,
        and only for ports of the instance's project."""
        params = {"device_id": uuid, **({"project_id": project_id} if project_id else {})}
        found = self._list("ports", params)
        if project_id:
            return [p for p in found if p.get("project_id") == project_id and p.get("device_id") == uuid]
        return [p for p in found if p.get("binding:host_id") and p.get("device_id") == uuid]

    def host_ports(self, host: str) -> list[dict[str, Any]]:
        """Compute's ports bound to ``host`` or to no host yet (``device_owner`` ``compute:*``): where an agent
        looks for ports of instances deleted while it was down.

        :raises ServiceUnavailable: the network service could not list them.
        """
        found = self._list("ports", {"binding:host_id": [host, ""]})
        return [p for p in found if str(p.get("device_owner") or "").startswith("compute:") and p.get("device_id")]

    def _update(self, port_id: str, values: dict[str, Any]) -> dict[str, Any]:
        resp = self.client.update_port(port_id, values)
        if resp.status_code != 200:
            raise exceptions.Conflict(f"Could not update port {port_id}: {_message(resp)}")
        return resp.json()["port"]

    def _vif(self, port: dict[str, Any]) -> dict[str, Any]:
        net = self._get("networks", port["network_id"]).json()["network"]
        details = port.get("binding:vif_details") or {}
        subnets = {}
        for subnet_id in {ip["subnet_id"] for ip in port["fixed_ips"]}:
            sub = self._get("subnets", subnet_id).json().get("subnet") or {}
            subnets[subnet_id] = {k: sub.get(k) for k in ("cidr", "gateway_ip", "enable_dhcp", "dns_nameservers",
                                                          "host_routes")}
        return {"id": port["id"], "mac": port["mac_address"], "network_id": port["network_id"],
                "network_name": net["name"] or net["id"], "mtu": net["mtu"], "fixed_ips": port["fixed_ips"],
                "subnets": subnets, "tap": f"tap{port['id'][:11]}", "bridge": details.get("bridge_name"),
                "vif_type": port.get("binding:vif_type"),
                # The QoS policy that limits this port (its own, else its network's): Neutron's rule then wins
                # over the flavor's quota:vif_* limits.
                "qos_policy_id": port.get("qos_policy_id") or net.get("qos_policy_id")}

    def active_ports(self, uuid: str, port_ids: Set[str]) -> set[str]:
        """Which of ``port_ids`` (ports of instance ``uuid``) the network agent has wired (status ACTIVE):
        one read, the fallback when a ``network-vif-plugged`` event was lost."""
        return {p["id"] for p in self.ports(uuid) if p["id"] in port_ids and p["status"] == "ACTIVE"}

    def interface_attachments(self, uuid: str) -> list[dict[str, Any]]:
        """The instance's ports as ``os-interface`` shows them: those compute bound for it (see ``ports``)."""
        if not self.available():
            return []
        return [{"port_id": p["id"], "net_id": p["network_id"], "mac_addr": p["mac_address"],
                 "port_state": p["status"], "fixed_ips": p["fixed_ips"]} for p in self.ports(uuid)]

    def change_security_group(self, project_id: str, uuid: str, group: str, add: bool) -> None:
        """addSecurityGroup / removeSecurityGroup: ``group`` (a name or id of the project's) on every port."""
        if not self.available():
            raise exceptions.BadRequest("This cloud has no network service, so servers have no security groups.")
        group_id = self._group_id(project_id, group)
        ports = self.ports(uuid, project_id)
        if not ports:
            raise exceptions.BadRequest(f"Server {uuid} has no ports to put in security group {group}.")
        if not add and not any(group_id in p["security_groups"] for p in ports):
            raise exceptions.BadRequest(f"Security group {group} not associated with the instance {uuid}.")
        for port in ports:
            groups = [g for g in port["security_groups"] if g != group_id] + ([group_id] if add else [])
            self._update(port["id"], {"security_groups": groups})

    def _listed(self, collection: str, ids: Sequence[str], key: str, fields: Sequence[str]) -> list[dict[str, Any]]:
        """``collection``'s items whose ``key`` is one of ``ids`` (``fields`` only): one GET per 150 ids."""
        found: list[dict[str, Any]] = []
        for at in range(0, len(ids), _IDS_PER_QUERY):
            found.extend(self._list(collection, {key: list(ids[at:at + _IDS_PER_QUERY]), "fields": list(fields)}))
        return found

    def security_group_names(self, projects: Mapping[str, str]) -> dict[str, list[str]]:
        """The names of the security groups on each instance's ports, as a server shows them (Nova reads them
        from the ports too): ``projects`` maps instance uuids to their project; an instance without ports has
        no entry. Two GETs for up to 150 instances (their ports, then the groups' names), whatever their
        number of ports; ports of another project naming the instance as their device are not its own. When
        the network service cannot answer, none (logged): servers stay listable, as their addresses do."""
        uuids = sorted(projects)
        if not uuids or not self.available():
            return {}
        try:
            ports = [p for p in self._listed("ports", uuids, "device_id",
                                             ("device_id", "project_id", "security_groups"))
                     if projects.get(p.get("device_id") or "") == p.get("project_id")]
            group_ids = sorted({g for p in ports for g in p.get("security_groups") or []})
            names = {g["id"]: g["name"] for g in self._listed("security-groups", group_ids, "id", ("id", "name"))}
        except exceptions.NubisError as exc:
            LOG.warning("servers shown without their security groups: %s", exc)
            return {}
        shown: dict[str, list[str]] = {}
        for port in ports:
            for group_id in port.get("security_groups") or []:
                listed = shown.setdefault(port["device_id"], [])
                if group_id in names and names[group_id] not in listed:
                    listed.append(names[group_id])
        return {uuid: listed for uuid, listed in shown.items() if listed}

    def deallocate(self, uuid: str, project_id: str | None = None) -> None:
        """Delete the ports compute made for the instance; unbind the ones the user brought. ``project_id``
        (the instance's) also finds ports no host binds any more (see ``ports``).

        :raises ServiceUnavailable: the network service could not list or delete a port (a port already gone
            is fine): the caller must not report the instance's ports released.
        """
        for port in self.ports(uuid, project_id):
            if (port.get("binding:profile") or {}).get(PRESERVE):
                resp, done, doing = self.client.update_port(port["id"], {
                    "device_id": "", "device_owner": "", "binding:host_id": "", "binding:profile": {}}), 200, "unbinding"
            else:
                resp, done, doing = self.client.delete_port(port["id"]), 204, "deleting"
            if resp.status_code not in (done, 404):
                raise exceptions.ServiceUnavailable(f"The network service answered {resp.status_code} {doing} "
                                                    f"port {port['id']}: {_message(resp)}")


def _message(resp: Any) -> str:
    try:
        return str(resp.json()["NeutronError"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"{resp.status_code} {resp.text[:200]}"


def addresses(network_info: Sequence[dict[str, Any]] | None) -> dict[str, list[dict[str, Any]]]:
    """A server's ``addresses``, as the compute API shows them, from its network info."""
    out: dict[str, list[dict[str, Any]]] = {}
    for vif in network_info or []:
        for ip in vif["fixed_ips"]:
            out.setdefault(vif["network_name"], []).append({
                "addr": ip["ip_address"], "version": 6 if ":" in ip["ip_address"] else 4,
                "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": vif["mac"]})
        for fip in vif.get("floating_ips", []):
            out.setdefault(vif["network_name"], []).append({
                "addr": fip, "version": 4, "OS-EXT-IPS:type": "floating", "OS-EXT-IPS-MAC:mac_addr": vif["mac"]})
    return out
