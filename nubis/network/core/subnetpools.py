"""Subnet pools: prefixes from which subnets are carved by size instead of by hand."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.network.core import common, errors, ipam
from nubis.network.core.base import Resources
from nubis.network.core.common import Caller
from nubis.network.db import models

ATTRS = ("name", "description", "prefixes", "default_prefixlen", "min_prefixlen", "max_prefixlen", "shared",
         "is_default", "default_quota", "address_scope_id", "project_id", "tenant_id")


class SubnetPools(Resources):
    model = models.SubnetPool
    kind = "SubnetPool"
    member = "subnetpool"
    collection = "subnetpools"
    sql_filters = ("id", "name", "project_id", "ip_version")
    sortable = (*Resources.sortable, "ip_version", "default_prefixlen", "shared", "is_default")

    def visible(self, caller: Caller) -> Any:
        if caller.is_admin:
            return None
        return sa.or_(models.SubnetPool.project_id == caller.project_id, models.SubnetPool.shared.is_(True))

    def views(self, s: orm.Session, caller: Caller, rows: Sequence[models.SubnetPool]) -> list[dict[str, Any]]:
        tags = common.tags_of(s, [r.id for r in rows])
        out = []
        for r in rows:
            view = common.standard_view(r, tags[r.id])
            view.update({"ip_version": r.ip_version, "prefixes": r.prefixes, "default_prefixlen": r.default_prefixlen,
                         "min_prefixlen": r.min_prefixlen, "max_prefixlen": r.max_prefixlen, "shared": r.shared,
                         "is_default": r.is_default, "default_quota": r.default_quota,
                         "address_scope_id": r.address_scope_id})
            out.append(view)
        return out

    def default_id(self, s: orm.Session, version: int) -> str:
        found = s.scalar(sa.select(models.SubnetPool.id).where(models.SubnetPool.is_default.is_(True),
                                                               models.SubnetPool.ip_version == version))
        if not found:
            raise errors.bad_request("BadRequest", f"No default IPv{version} subnet pool is configured; give a cidr "
                                                   "or a subnetpool_id.")
        return str(found)

    def _apply(self, pool: models.SubnetPool, attrs: dict[str, Any]) -> None:
        common.apply_standard(pool, attrs, self.member)
        if "prefixes" in attrs:
            nets = [ipam.network_of(p) for p in common.as_list(attrs["prefixes"], "prefixes")]
            if not nets:
                raise errors.invalid("prefixes must list at least one prefix.")
            versions = {n.version for n in nets}
            if len(versions) > 1 or (pool.ip_version and pool.ip_version not in versions):
                raise errors.invalid("all prefixes of a subnet pool must have the same IP version.")
            old = [ipaddress.ip_network(p) for p in pool.prefixes or []]
            if old and not all(any(o.subnet_of(n) for n in nets) for o in old):  # type: ignore[arg-type]
                raise errors.bad_request("IllegalSubnetPoolPrefixUpdate", "Illegal update to prefixes: a subnet "
                                                                          "pool's prefixes may only grow.")
            pool.ip_version = nets[0].version
            # One IP version (checked above), which mypy cannot see in the list's union type.
            pool.prefixes = [str(n) for n in ipaddress.collapse_addresses(nets)]  # type: ignore[type-var]
        width = 32 if pool.ip_version == 4 else 128
        smallest = min(ipaddress.ip_network(p).prefixlen for p in pool.prefixes)
        for name in ("min_prefixlen", "max_prefixlen", "default_prefixlen", "default_quota"):
            if attrs.get(name) is not None:
                setattr(pool, name, common.as_int(attrs[name], name, 0, width if name != "default_quota" else None))
        pool.min_prefixlen = pool.min_prefixlen if pool.min_prefixlen is not None else smallest
        pool.max_prefixlen = pool.max_prefixlen if pool.max_prefixlen is not None else width
        pool.default_prefixlen = pool.default_prefixlen if pool.default_prefixlen is not None else pool.min_prefixlen
        if not pool.min_prefixlen <= pool.default_prefixlen <= pool.max_prefixlen:
            raise errors.invalid(f"default_prefixlen {pool.default_prefixlen} must lie between min_prefixlen "
                                 f"{pool.min_prefixlen} and max_prefixlen {pool.max_prefixlen}.")
        for name in ("shared", "is_default"):
            if name in attrs:
                setattr(pool, name, common.as_bool(attrs[name], name))

    def create(self, caller: Caller, body: Any) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, ATTRS, self.member)
        if not attrs.get("prefixes"):
            raise errors.invalid("prefixes is required to create a subnet pool.")
        project = common.owner_for_create(caller, attrs)
        with self.core.db.writer() as s:
            self.core.quotas.check(s, project, "subnetpool")
            pool = models.SubnetPool(id=common.types.new_uuid(), project_id=project, ip_version=0, prefixes=[],
                                     min_prefixlen=None, max_prefixlen=None, default_prefixlen=None)
            self._apply(pool, attrs)
            self._one_default(s, pool)
            if attrs.get("address_scope_id") is not None:
                self.core.address_scopes.associate(s, caller, pool, attrs["address_scope_id"])
            s.add(pool)
            s.flush()
            return self.views(s, caller, [pool])[0]

    @staticmethod
    def _one_default(s: orm.Session, pool: models.SubnetPool) -> None:
        if pool.is_default and s.scalar(sa.select(models.SubnetPool.id).where(
                models.SubnetPool.is_default.is_(True), models.SubnetPool.ip_version == pool.ip_version,
                models.SubnetPool.id != pool.id)):
            raise errors.bad_request("InvalidInput", f"Invalid input for operation: A default subnetpool for "
                                                     f"IPv{pool.ip_version} already exists.")

    def update(self, caller: Caller, ident: str, body: Any, if_match: str | None) -> dict[str, Any]:
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, ATTRS, self.member)
        common.reject_readonly(attrs, ("project_id", "tenant_id", "shared"), self.member)
        with self.core.db.writer() as s:
            pool = self.owned_row(s, caller, ident)
            common.check_revision(pool, if_match, "subnet pool")
            self._apply(pool, attrs)
            self._one_default(s, pool)
            if "address_scope_id" in attrs or ("prefixes" in attrs and pool.address_scope_id):
                self.core.address_scopes.associate(s, caller, pool, attrs.get("address_scope_id",
                                                                              pool.address_scope_id))
            common.touch(pool)
            return self.views(s, caller, [pool])[0]

    def before_delete(self, s: orm.Session, caller: Caller, found: models.SubnetPool) -> None:
        if s.scalar(sa.select(sa.func.count()).select_from(models.Subnet)
                    .where(models.Subnet.subnetpool_id == found.id)):
            raise errors.conflict("SubnetPoolInUse", f"Unable to complete operation on subnet pool {found.id}: "
                                                     "subnets are allocated from it.")

    def carve(self, s: orm.Session, pool: models.SubnetPool, cidr: Any, prefixlen: Any) -> ipam.IPNetwork:
        """A prefix for a new subnet: ``cidr`` if free inside the pool, or the first free one of ``prefixlen``."""
        used = [ipaddress.ip_network(c) for c in s.scalars(sa.select(models.Subnet.cidr)
                                                           .where(models.Subnet.subnetpool_id == pool.id))]
        prefixes = [ipaddress.ip_network(p) for p in pool.prefixes]
        if cidr:
            net = ipam.network_of(cidr)
            if not any(net.version == p.version and net.subnet_of(p) for p in prefixes):  # type: ignore[arg-type]
                raise errors.bad_request("CidrOutOfPool", f"Cidr {net} is not within the prefixes of subnet pool "
                                                          f"{pool.id}: {', '.join(pool.prefixes)}.")
            if any(net.overlaps(u) for u in used):
                raise errors.conflict("SubnetAllocationError", f"Failed to allocate subnet: {net} overlaps a subnet "
                                                               f"already allocated from pool {pool.id}.")
            return net
        length = pool.default_prefixlen if prefixlen is None else common.as_int(prefixlen, "prefixlen")
        if not pool.min_prefixlen <= length <= pool.max_prefixlen:
            raise errors.bad_request("SubnetAllocationError", f"Failed to allocate subnet: prefixlen {length} is "
                                     f"outside {pool.min_prefixlen}..{pool.max_prefixlen} of pool {pool.id}.")
        for prefix in prefixes:
            if length < prefix.prefixlen:
                continue
            for candidate in prefix.subnets(new_prefix=length):
                if not any(candidate.overlaps(u) for u in used):
                    return candidate
        raise errors.conflict("SubnetAllocationError", f"Failed to allocate subnet: insufficient prefix space in "
                                                       f"pool {pool.id} for a /{length}.")
