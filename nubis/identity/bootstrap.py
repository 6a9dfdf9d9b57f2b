"""Bootstrapping identity: the default domain, roles, admin, service users, catalog.

Idempotent: running it again updates passwords and endpoint URLs and creates
only what is missing. The schema must already be synced.
"""

from __future__ import annotations

import dataclasses
import logging

import sqlalchemy as sa

from nubis.common.runtime import Runtime
from nubis.identity import conf as identity_conf
from nubis.identity.core import resources, roles, users
from nubis.identity.db import models
from nubis.identity.tokens import keys

LOG = logging.getLogger(__name__)

DEFAULT_DOMAIN_NAME = "Default"


@dataclasses.dataclass
class EndpointSpec:
    service_type: str
    service_name: str
    url: str
    interfaces: tuple[str, ...] = ("public", "internal", "admin")


Endpoint = EndpointSpec  # the name callers use (all-in-one, devstack)


@dataclasses.dataclass
class BootstrapRequest:
    admin_password: str
    admin_username: str = "admin"
    admin_project: str = "admin"
    region: str = "RegionOne"
    service_project: str = "service"
    service_users: dict[str, str] = dataclasses.field(default_factory=dict)
    endpoints: list[EndpointSpec] = dataclasses.field(default_factory=list)


def bootstrap(runtime: Runtime, request: BootstrapRequest) -> None:
    conf = runtime.conf
    if keys.setup(identity_conf.key_repository(conf)):
        LOG.info("Created the Fernet key repository %s", identity_conf.key_repository(conf))
    db = runtime.database("identity")
    with db.writer() as s:
        domain = s.get(resources.Project, resources.DEFAULT_DOMAIN_ID)
        if domain is None:
            resources.create_domain(s, DEFAULT_DOMAIN_NAME, "The default domain", domain_id=resources.DEFAULT_DOMAIN_ID)
        role_ids = {}
        for name in ("admin", "manager", "member", "reader", "service"):
            role = roles.find_role(s, name) or roles.create_role(s, name)
            role_ids[name] = role.id
        # admin implies manager implies member implies reader, as Keystone's bootstrap sets up.
        for prior, implied in (("admin", "manager"), ("admin", "member"), ("manager", "member"), ("member", "reader")):
            roles.add_implied(s, role_ids[prior], role_ids[implied])
        admin_project = _project(s, request.admin_project)
        service_project = _project(s, request.service_project)
        admin = _user(s, runtime, request.admin_username, request.admin_password)
        roles.grant(s, "user", admin.id, "project", admin_project.id, role_ids["admin"])
        roles.grant(s, "user", admin.id, "system", roles.SYSTEM, role_ids["admin"])
        for name, password in request.service_users.items():
            user = _user(s, runtime, name, password)
            for role_name in ("admin", "service"):
                roles.grant(s, "user", user.id, "project", service_project.id, role_ids[role_name])
        if s.get(models.Region, request.region) is None:
            s.add(models.Region(id=request.region, description=""))
            s.flush()
        for spec in request.endpoints:
            _endpoints(s, spec, request.region)


def _project(s: sa.orm.Session, name: str) -> resources.Project:
    try:
        return resources.find_project(s, name, resources.DEFAULT_DOMAIN_ID)
    except resources.exceptions.NotFound:
        return resources.create_project(s, name, resources.DEFAULT_DOMAIN_ID, description=f"Bootstrap project {name}")


def _user(s: sa.orm.Session, runtime: Runtime, name: str, password: str) -> users.User:
    from nubis.identity import passwords

    user = users.find_user(s, name, resources.DEFAULT_DOMAIN_ID)
    if user is None:
        return users.create_user(s, runtime.conf, name, resources.DEFAULT_DOMAIN_ID, password)
    current = users.current_password(s, user.id)
    if current is None or not passwords.verify_password(password, current.password_hash):
        users.set_password(s, runtime.conf, user, password)
    user.enabled = True
    return user


def _endpoints(s: sa.orm.Session, spec: EndpointSpec, region: str) -> None:
    service = s.scalars(sa.select(models.Service).where(models.Service.type == spec.service_type)).first()
    if service is None:
        service = models.Service(type=spec.service_type, name=spec.service_name, description="", enabled=True)
        s.add(service)
        s.flush()
    for interface in spec.interfaces:
        endpoint = s.scalars(sa.select(models.Endpoint).where(models.Endpoint.service_id == service.id,
                                                       models.Endpoint.interface == interface,
                                                       models.Endpoint.region_id == region)).first()
        if endpoint is None:
            s.add(models.Endpoint(service_id=service.id, interface=interface, url=spec.url, region_id=region, enabled=True))
        else:
            endpoint.url = spec.url
