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
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.network.core import common, errors
from nubis.network.core.base import Resources
from nubis.network.core.common import Caller
from nubis.network.db import models

SHARED = "access_as_shared"
EXTERNAL = "access_as_external"
EVERYONE = "*"
FLAGS = {SHARED: "shared", EXTERNAL: "router_external"}  # the network column a grant to everyone sets


OBJECT_TYPES = ("network", "qos_policy")


def granted_to(project_id: str, action: str, object_type: str = "network") -> Any:
    """A SELECT of the ids of networks (or ``object_type``) granted to ``project_id`` for ``action``
    (one-project grants)."""
    return sa.select(models.RbacPolicy.object_id).where(
        models.RbacPolicy.object_type == object_type, models.RbacPolicy.action == action,
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


def _duplicate() -> exceptions.Conflict:
    return errors.conflict("DuplicateRbacPolicy", "An RBAC policy already exists with those values.")


class RbacPolicies(Resources):
    model = models.RbacPolicy
    kind = "RbacPolicy"
    member = "rbac_policy"
    collection = "rbac-policies"
    sql_filters = ("id", "project_id", "object_type", "object_id", "action")
    sortable = ("id", "project_id", "tenant_id", "object_type", "object_id", "action", "target_tenant")

    def views(self, s: orm.Session, caller: Caller, rows: Sequence[models.RbacPolicy]) -> list[dict[str, Any]]:
        # Neutron's rbac-policies attributes: the target is shown as target_tenant only (create, show, update and
        # list alike), though target_project is accepted in a request body.
        return [{"id": r.id, "project_id": r.project_id, "tenant_id": r.project_id, "object_type": r.object_type,
                 "object_id": r.object_id, "action": r.action, "target_tenant": r.target_project} for r in rows]

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
        object_type = attrs.get("object_type")
        if object_type not in OBJECT_TYPES:
            raise errors.invalid(f"'{object_type}' is not in {list(OBJECT_TYPES)} for object_type.")
        action = attrs.get("action")
        actions = FLAGS if object_type == "network" else (SHARED,)  # a QoS policy is only ever shared
        if not isinstance(action, str) or action not in actions:
            raise errors.invalid(f"'{action}' is not in {sorted(actions)} for action.")
        target = self._target(attrs)
        with self.core.db.writer() as s:
            owner = self.core.networks if object_type == "network" else self.core.qos_policies
            try:
                net = owner.owned_row(s, caller, attrs.get("object_id"))
            except exceptions.Forbidden:
                if object_type == "network":
                    raise
                # Neutron: sharing a QoS policy one merely sees is invalid input, not a policy refusal.
                raise errors.invalid(f"qos_policy {attrs.get('object_id')} is not the project's to share.") from None
            if s.scalar(sa.select(models.RbacPolicy.id).where(
                    models.RbacPolicy.object_type == object_type, models.RbacPolicy.object_id == net.id,
                    models.RbacPolicy.action == action, models.RbacPolicy.target_project == target)):
                raise _duplicate()
            policy = models.RbacPolicy(id=common.types.new_uuid(), project_id=project, object_type=object_type,
                                       object_id=net.id, action=action, target_project=target)
            s.add(policy)
            if target == EVERYONE:
                setattr(net, FLAGS[action], True)  # a QoS policy's flag is "shared" too
                common.touch(net)
            s.flush()
            view = self.views(s, caller, [policy])[0]
        self.core.notify("rbac_policy.create", view)
        return view

    def update(self, caller: Caller, ident: str, body: Any, if_match: str | None) -> dict[str, Any]:
        """Only the target changes, as Neutron allows: 409 RbacPolicyInUse when the old target loses access its
        networks or ports depend on (see ``refuse_in_use``), 409 DuplicateRbacPolicy when the new target has a
        grant already. To or from ``*``, the object's flag (``shared``, ``router:external``) follows."""
        attrs = common.body_of(body, self.member)
        common.reject_unknown(attrs, ("target_tenant", "target_project"), self.member)
        with self.core.db.writer() as s:
            policy = self.owned_row(s, caller, ident)
            target = self._target(attrs)
            if target != policy.target_project:
                if s.scalar(sa.select(models.RbacPolicy.id).where(
                        models.RbacPolicy.object_type == policy.object_type,
                        models.RbacPolicy.object_id == policy.object_id, models.RbacPolicy.action == policy.action,
                        models.RbacPolicy.target_project == target)):
                    raise _duplicate()
                # Neutron: whoever the old target let in keeps access only through the other grants (the new
                # target does not count), except that a QoS policy's grant turned into '*' is never refused.
                if not (target == EVERYONE and policy.object_type == "qos_policy"):
                    self.refuse_in_use(s, policy)
                was_everyone = policy.target_project == EVERYONE
                policy.target_project = target
                if was_everyone or target == EVERYONE:
                    self._set_flag(s, policy, target == EVERYONE)
            try:
                s.flush()
            except sa_exc.IntegrityError:  # the same grant made by a concurrent request
                raise _duplicate() from None
            view = self.views(s, caller, [policy])[0]
        self.core.notify("rbac_policy.update", view)
        return view

    @staticmethod
    def _set_flag(s: orm.Session, policy: models.RbacPolicy, value: bool) -> None:
        """Set the flag a grant to everyone stands for (a network's ``shared`` or ``router:external``, a QoS
        policy's ``shared``) on the object of ``policy``."""
        kind: type[models.Standard] = models.Network if policy.object_type == "network" else models.QosPolicy
        found = s.get(kind, policy.object_id)
        if found is not None:
            setattr(found, FLAGS[policy.action], value)
            common.touch(found)

    def refuse_in_use(self, s: orm.Session, policy: models.RbacPolicy) -> None:
        """409 RbacPolicyInUse when taking ``policy``'s grant away (deleting it, changing its target, unsharing
        its object) would leave a project without access to an object it uses, as Neutron checks: ports on the
        network; networks or ports with the QoS policy. Projects another grant lets in (``*`` lets in everyone)
        are fine, and so is the object's own project, except that Neutron counts the owner among a QoS
        policy's users when the grant to everyone goes (so an owner's network keeps it shared)."""
        if policy.action != SHARED:
            return
        everyone = policy.target_project == EVERYONE
        obj: Any
        if policy.object_type == "qos_policy":
            obj = s.get(models.QosPolicy, policy.object_id)
            if obj is None:
                return
            exempt = [""] if everyone else [obj.project_id, ""]
            users = set()
            for model in (models.Network, models.Port):  # projects whose networks or ports use the QoS policy
                users |= set(s.scalars(sa.select(model.project_id).where(
                    model.qos_policy_id == obj.id, model.project_id.notin_(exempt))))
        else:
            obj = s.get(models.Network, policy.object_id)
            if obj is None:
                return
            users = set(s.scalars(sa.select(models.Port.project_id).where(
                models.Port.network_id == obj.id, models.Port.project_id.notin_([obj.project_id, ""]))))
        if not everyone:
            users &= {policy.target_project}
        still = set(s.scalars(sa.select(models.RbacPolicy.target_project).where(
            models.RbacPolicy.object_type == policy.object_type, models.RbacPolicy.object_id == obj.id,
            models.RbacPolicy.action == SHARED, models.RbacPolicy.id != policy.id)))
        stranded = set() if EVERYONE in still else users - still
        if stranded:
            raise errors.conflict("RbacPolicyInUse", f"RBAC policy on object {obj.id} cannot be removed because "
                                                     f"other objects depend on it: project {sorted(stranded)[0]} "
                                                     f"uses the {policy.object_type}.")

    def before_delete(self, s: orm.Session, caller: Caller, found: models.RbacPolicy) -> None:
        self.refuse_in_use(s, found)
        if found.target_project == EVERYONE:
            self._set_flag(s, found, False)

    def delete(self, caller: Caller, ident: str, if_match: str | None = None) -> None:
        super().delete(caller, ident, None)  # policies carry no revision number to match
