"""RBAC policies: a network's owner grants it to another project, or to all (``*``), for shared or external use.

The grant to every project is what a network's ``shared`` and ``router:external``
flags mean, so the two are kept in step: setting the flag makes the ``*`` policy
and deleting that policy clears the flag. A grant to one project lets that
project see the network and its subnets, and (shared) put ports on it or
(external) use it as a router gateway, and shows it ``shared`` to that project.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.network.core import common, errors
from nubis.network.core.base import Resources
from nubis.network.core.common import Caller
from nubis.network.db import models

SHARED = "access_as_shared"
EXTERNAL = "access_as_external"
EVERYONE = "*"
FLAGS = {SHARED: "shared", EXTERNAL: "router_external"}  # the network column a grant to everyone sets


def granted_to(project_id: str, action: str) -> Any:
    """A SELECT of the ids of networks granted to ``project_id`` for ``action`` (one-project grants)."""
    return sa.select(models.RbacPolicy.object_id).where(
        models.RbacPolicy.object_type == "network", models.RbacPolicy.action == action,
        models.RbacPolicy.target_project == project_id)


def grants(s: orm.Session, network: models.Network, project_id: str, action: str) -> bool:
    """Whether ``project_id`` may use ``network`` for ``action`` (by the flag or a grant of its own)."""
    if getattr(network, FLAGS[action]):
        return True
    return bool(project_id) and s.scalar(granted_to(project_id, action).where(
        models.RbacPolicy.object_id == network.id)) is not None


def sync_flag(s: orm.Session, network: models.Network, action: str) -> None:
    """Make the ``*`` policy exist exactly when the network's flag for ``action`` is set."""
    found = s.scalar(sa.select(models.RbacPolicy).where(
        models.RbacPolicy.object_type == "network", models.RbacPolicy.object_id == network.id,
        models.RbacPolicy.action == action, models.RbacPolicy.target_project == EVERYONE))
    if getattr(network, FLAGS[action]) and found is None:
        s.add(models.RbacPolicy(id=common.types.new_uuid(), project_id=network.project_id, object_type="network",
                                object_id=network.id, action=action, target_project=EVERYONE))
    elif not getattr(network, FLAGS[action]) and found is not None:
        s.delete(found)


class RbacPolicies(Resources):
    model = models.RbacPolicy
    kind = "RbacPolicy"
    member = "rbac_policy"
    collection = "rbac-policies"
    sql_filters = ("id", "project_id", "object_type", "object_id", "action")
    sortable = ("id", "project_id", "tenant_id", "object_type", "object_id", "action", "target_tenant")

    def views(self, s: orm.Session, caller: Caller, rows: Sequence[models.RbacPolicy]) -> list[dict[str, Any]]:
        return [{"id": r.id, "project_id": r.project_id, "tenant_id": r.project_id, "object_type": r.object_type,
                 "object_id": r.object_id, "action": r.action, "target_tenant": r.target_project,
                 "target_project": r.target_project} for r in rows]

    @staticmethod
    def _target(attrs: dict[str, Any]) -> str:
        target = attrs.get("target_tenant", attrs.get("target_project"))
        if not isinstance(target, str) or not target:
            raise errors.invalid("target_tenant is required: a project id, or '*' for every project.")
        return common.as_str(target, "target_tenant")

    def create(self, caller: Caller, body: Any) -> dict[str, Any]:
        """``{rbac_policy: {object_type: network, object_id, action, target_tenant}}``; 409 DuplicateRbacPolicy
        for a grant that exists."""
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, ("object_type", "object_id", "action", "target_tenant", "target_project",
                                      "project_id", "tenant_id"), self.member)
        project = common.owner_for_create(caller, attrs)
        if attrs.get("object_type") != "network":
            raise errors.invalid(f"'{attrs.get('object_type')}' is not in ['network'] for object_type.")
        action = attrs.get("action")
        if not isinstance(action, str) or action not in FLAGS:
            raise errors.invalid(f"'{action}' is not in {sorted(FLAGS)} for action.")
        target = self._target(attrs)
        with self.core.db.writer() as s:
            net = self.core.networks.owned_row(s, caller, attrs.get("object_id"))
            if s.scalar(sa.select(models.RbacPolicy.id).where(
                    models.RbacPolicy.object_type == "network", models.RbacPolicy.object_id == net.id,
                    models.RbacPolicy.action == action, models.RbacPolicy.target_project == target)):
                raise errors.conflict("DuplicateRbacPolicy", "An RBAC policy already exists with those values.")
            policy = models.RbacPolicy(id=common.types.new_uuid(), project_id=project, object_type="network",
                                       object_id=net.id, action=action, target_project=target)
            s.add(policy)
            if target == EVERYONE:
                setattr(net, FLAGS[action], True)
                common.touch(net)
            s.flush()
            view = self.views(s, caller, [policy])[0]
        self.core.notify("rbac_policy.create", view)
        return view

    def update(self, caller: Caller, ident: str, body: Any, if_match: str | None) -> dict[str, Any]:
        """Only the target changes; 409 RbacPolicyInUse when the old target still uses the network."""
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, ("target_tenant", "target_project"), self.member)
        with self.core.db.writer() as s:
            policy = self.owned_row(s, caller, ident)
            target = self._target(attrs)
            if target != policy.target_project:
                if policy.target_project == EVERYONE or target == EVERYONE:
                    raise errors.bad_request("InvalidInput", "A grant to every project ('*') cannot be turned "
                                                             "into another: create one and delete the other.")
                self._refuse_in_use(s, policy)
                policy.target_project = target
            s.flush()
            return self.views(s, caller, [policy])[0]

    def _refuse_in_use(self, s: orm.Session, policy: models.RbacPolicy) -> None:
        """A shared grant may not go while a project it let in still has ports on the network."""
        if policy.action != SHARED:
            return
        net = s.get(models.Network, policy.object_id)
        if net is None:
            return
        users = set(s.scalars(sa.select(models.Port.project_id).where(
            models.Port.network_id == net.id, models.Port.project_id.notin_([net.project_id, ""]))))
        if policy.target_project != EVERYONE:
            users &= {policy.target_project}
        still = set(s.scalars(sa.select(models.RbacPolicy.target_project).where(
            models.RbacPolicy.object_id == net.id, models.RbacPolicy.action == SHARED,
            models.RbacPolicy.id != policy.id)))
        stranded = set() if EVERYONE in still else users - still
        if stranded:
            raise errors.conflict("RbacPolicyInUse", f"RBAC policy on object {net.id} cannot be removed because "
                                                     f"other objects depend on it: project {sorted(stranded)[0]} "
                                                     "has ports on the network.")

    def before_delete(self, s: orm.Session, caller: Caller, found: models.RbacPolicy) -> None:
        self._refuse_in_use(s, found)
        if found.target_project == EVERYONE:
            net = s.get(models.Network, found.object_id)
            if net is not None:
                setattr(net, FLAGS[found.action], False)
                common.touch(net)

    def delete(self, caller: Caller, ident: str, if_match: str | None = None) -> None:
        super().delete(caller, ident, None)  # policies carry no revision number to match
