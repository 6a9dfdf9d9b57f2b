"""Address scopes: spaces of addresses routed without NAT, grouping subnet pools whose prefixes may not overlap."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.network.core import common, errors
from nubis.network.core.base import Resources
from nubis.network.core.common import Caller
from nubis.network.db import models


class AddressScopes(Resources):
    model = models.AddressScope
    kind = "AddressScope"
    member = "address_scope"
    collection = "address-scopes"
    sql_filters = ("id", "name", "project_id", "ip_version")
    sortable = ("id", "name", "project_id", "tenant_id", "ip_version", "shared")

    def visible(self, caller: Caller) -> Any:
        if caller.is_admin:
            return None
        return sa.or_(models.AddressScope.project_id == caller.project_id, models.AddressScope.shared.is_(True))

    def views(self, s: orm.Session, caller: Caller, rows: Sequence[models.AddressScope]) -> list[dict[str, Any]]:
        return [{"id": r.id, "name": r.name, "project_id": r.project_id, "tenant_id": r.project_id,
                 "shared": r.shared, "ip_version": r.ip_version} for r in rows]

    def create(self, caller: Caller, body: Any) -> dict[str, Any]:
        """``{address_scope: {name, ip_version (4|6, required), shared}}``; ``shared`` is the admin's."""
        attrs, project = self.create_attrs(caller, body, ("name", "ip_version", "shared", "project_id", "tenant_id"))
        if "ip_version" not in attrs:
            raise errors.invalid("ip_version is required to create an address scope.")
        version = common.as_int(attrs["ip_version"], "ip_version")
        if version not in (4, 6):
            raise errors.invalid(f"{version} is not in [4, 6] for ip_version.")
        scope = models.AddressScope(id=common.types.new_uuid(), project_id=project, ip_version=version,
                                    shared=common.as_bool(attrs.get("shared", False), "shared"))
        common.apply_standard(scope, attrs, self.member)
        return self.store_new(caller, scope)

    def update(self, caller: Caller, ident: str, body: Any, if_match: str | None) -> dict[str, Any]:
        """Rename, or share (once shared, a scope stays shared, as in Neutron)."""
        attrs = common.body_of(body, self.member)
        common.reject_readonly(attrs, ("id", "ip_version", "project_id", "tenant_id"), self.member)
        common.reject_unknown(attrs, ("name", "shared"), self.member)
        with self.core.db.writer() as s:
            scope = self.owned_row(s, caller, ident)
            common.check_revision(scope, if_match, "address scope")
            if "shared" in attrs:
                shared = common.as_bool(attrs["shared"], "shared")
                if scope.shared and not shared:
                    raise errors.bad_request("AddressScopeUpdateError", f"Unable to update address scope {scope.id}"
                                                                        ": Shared address scope can't be unshared.")
                scope.shared = shared
            common.apply_standard(scope, attrs, self.member)
            common.touch(scope)
            view = self.views(s, caller, [scope])[0]
        self.core.notify("address_scope.update", view)
        return view

    def before_delete(self, s: orm.Session, caller: Caller, found: models.AddressScope) -> None:
        if s.scalar(sa.select(sa.func.count()).select_from(models.SubnetPool)
                    .where(models.SubnetPool.address_scope_id == found.id)):
            raise errors.conflict("AddressScopeInUse", f"Unable to complete operation on address scope {found.id}. "
                                                       "There are one or more subnet pools in use on the address "
                                                       "scope.")

    def associate(self, s: orm.Session, caller: Caller, pool: models.SubnetPool, scope_id: Any) -> None:
        """Put ``pool`` in address scope ``scope_id`` (or none); 400 IllegalSubnetPoolAssociationToAddressScope
        for a scope of the other IP version or one whose pools' prefixes overlap the pool's."""
        if scope_id is None:
            pool.address_scope_id = None
            return
        scope = self.row(s, caller, scope_id)
        if not caller.owns(scope.project_id) and not scope.shared:
            raise errors.not_found(self.kind, scope_id)
        if scope.ip_version != pool.ip_version:
            raise errors.bad_request("IllegalSubnetPoolAssociationToAddressScope", f"Illegal subnetpool association:"
                                     f" subnetpool {pool.id} cannot be associated with address scope {scope.id}: "
                                     f"the subnetpool's ip_version is not {scope.ip_version}.")
        mine = [ipaddress.ip_network(p) for p in pool.prefixes]
        for other_id, prefixes in s.execute(sa.select(models.SubnetPool.id, models.SubnetPool.prefixes).where(
                models.SubnetPool.address_scope_id == scope.id, models.SubnetPool.id != pool.id)):
            if any(a.overlaps(ipaddress.ip_network(b)) for a in mine for b in prefixes):
                raise errors.bad_request("IllegalSubnetPoolAssociationToAddressScope",
                                         f"Illegal subnetpool association: subnetpool {pool.id} cannot be associated "
                                         f"with address scope {scope.id}: its prefixes overlap those of subnetpool "
                                         f"{other_id} in the scope.")
        pool.address_scope_id = scope.id
