"""Metering labels and their rules (Neutron's ``metering`` extension): the traffic an operator counts.

Nothing of either changes after creation (Neutron has no update for them). Neutron's default policy makes
both the admin's alone, and lists them the way
it lists any resource the caller may not read: an empty list, and 404 for one
of them, rather than 403.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.network.core import common, errors, ipam
from nubis.network.core.base import Resources
from nubis.network.core.common import Caller
from nubis.network.db import models

PREFIXES = ("remote_ip_prefix", "source_ip_prefix", "destination_ip_prefix")


class _AdminOnly(Resources):
    """Neutron hides what its ``get_`` policy refuses: lists come back empty and items not found (the
    handlers do so, ``hidden_unless_readable``); whoever may read them sees every project's."""

    hidden_unless_readable = True

    def visible(self, caller: Caller) -> Any:
        return None


class MeteringLabels(_AdminOnly):
    model = models.MeteringLabel
    kind = "MeteringLabel"
    member = "metering_label"
    collection = "metering/metering-labels"  # its path under /v2.0
    sql_filters = ("id", "name", "project_id")
    sortable = ("id", "name", "project_id", "tenant_id", "description", "shared")

    def views(self, s: orm.Session, caller: Caller, rows: Sequence[models.MeteringLabel]) -> list[dict[str, Any]]:
        return [{"id": r.id, "name": r.name, "description": r.description, "project_id": r.project_id,
                 "tenant_id": r.project_id, "shared": r.shared} for r in rows]

    def create(self, caller: Caller, body: Any) -> dict[str, Any]:
        attrs, project = self.create_attrs(caller, body, ("name", "description", "shared", "project_id", "tenant_id"))
        label = models.MeteringLabel(id=common.types.new_uuid(), project_id=project,
                                     shared=common.as_bool(attrs.pop("shared", False), "shared"))
        common.apply_standard(label, attrs, self.member)
        return self.store_new(caller, label)

    def before_delete(self, s: orm.Session, caller: Caller, found: models.MeteringLabel) -> None:
        s.execute(sa.delete(models.MeteringLabelRule).where(models.MeteringLabelRule.metering_label_id == found.id))


class MeteringLabelRules(_AdminOnly):
    model = models.MeteringLabelRule
    kind = "MeteringLabelRule"
    member = "metering_label_rule"
    collection = "metering/metering-label-rules"
    sql_filters = ("id", "project_id", "metering_label_id", "direction", *PREFIXES)
    sortable = ("id", "project_id", "tenant_id", "metering_label_id", "direction", "excluded", *PREFIXES)

    def views(self, s: orm.Session, caller: Caller,
              rows: Sequence[models.MeteringLabelRule]) -> list[dict[str, Any]]:
        return [{"id": r.id, "metering_label_id": r.metering_label_id, "direction": r.direction,
                 "excluded": r.excluded, "remote_ip_prefix": r.remote_ip_prefix,
                 "source_ip_prefix": r.source_ip_prefix, "destination_ip_prefix": r.destination_ip_prefix,
                 "project_id": r.project_id, "tenant_id": r.project_id} for r in rows]

    def create(self, caller: Caller, body: Any) -> dict[str, Any]:
        """A rule of a label; 400 for a bad direction or prefix, or for ``remote_ip_prefix`` mixed with the
        source/destination prefixes that replace it; 409 MeteringLabelRuleOverlaps for an overlapping
        remote prefix of the same direction and exclusion."""
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, ("metering_label_id", "direction", "excluded", "project_id", "tenant_id",
                                      *PREFIXES), self.member)
        attrs.pop("project_id", None)
        attrs.pop("tenant_id", None)
        direction = attrs.get("direction", "ingress")
        if direction not in ("ingress", "egress"):
            raise errors.invalid(f"'{direction}' is not in ['ingress', 'egress'] for direction.")
        prefixes = {k: str(ipam.network_of(attrs[k])) for k in PREFIXES if attrs.get(k) is not None}
        if not prefixes:
            raise errors.bad_request("BadRequest", "A metering label rule needs a remote_ip_prefix, "
                                                   "source_ip_prefix or destination_ip_prefix.")
        if "remote_ip_prefix" in prefixes and len(prefixes) > 1:
            raise errors.bad_request("BadRequest", "Cannot use 'remote_ip_prefix' together with "
                                                   "'source_ip_prefix' or 'destination_ip_prefix'.")
        excluded = common.as_bool(attrs.get("excluded", False), "excluded")
        if not attrs.get("metering_label_id"):
            raise errors.invalid("metering_label_id is required.")
        with self.core.db.writer() as s:
            label = self.core.collection(MeteringLabels.collection).row(s, caller, attrs["metering_label_id"])
            if "remote_ip_prefix" in prefixes:
                self._refuse_overlap(s, label.id, direction, excluded, prefixes["remote_ip_prefix"])
            rule = models.MeteringLabelRule(id=common.types.new_uuid(), project_id=label.project_id,
                                            metering_label_id=label.id, direction=direction, excluded=excluded,
                                            **prefixes)
            view = self.add_new(s, caller, rule)
        self.core.notify("metering_label_rule.create", view)
        return view

    @staticmethod
    def _refuse_overlap(s: orm.Session, label_id: str, direction: str, excluded: bool, prefix: str) -> None:
        wanted = ipam.network_of(prefix)
        for other in s.scalars(sa.select(models.MeteringLabelRule.remote_ip_prefix).where(
                models.MeteringLabelRule.metering_label_id == label_id,
                models.MeteringLabelRule.direction == direction, models.MeteringLabelRule.excluded.is_(excluded),
                models.MeteringLabelRule.remote_ip_prefix.is_not(None))):
            if other is None:  # filtered out above; this tells the type checker
                continue
            net = ipam.network_of(other)
            if net.version == wanted.version and net.overlaps(wanted):
                raise errors.conflict("MeteringLabelRuleOverlaps", f"Metering label rule with remote_ip_prefix "
                                                                   f"{prefix} overlaps another ({other}).")

    def delete(self, caller: Caller, ident: str, if_match: str | None = None) -> None:
        super().delete(caller, ident, None)  # rules carry no revision number to match
