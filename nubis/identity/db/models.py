"""Identity's tables: resources, users and groups, roles and assignments, catalog, revocations."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.db import types


class Base(orm.DeclarativeBase):
    pass


def _id() -> orm.Mapped[str]:
    return orm.mapped_column(sa.String(64), primary_key=True, default=types.new_hex_id)


class Project(Base):
    """Projects and domains (a domain is a project with ``is_domain``, as in Keystone)."""

    __tablename__ = "project"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name", name="uniq_project_domain_name"),)

    id: orm.Mapped[str] = _id()
    name: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    domain_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))  # "<<root>>" for domains
    parent_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    is_domain: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    extra: orm.Mapped[dict[str, Any] | None] = orm.mapped_column(types.JSONText, nullable=True)
    tags: orm.Mapped[list[str] | None] = orm.mapped_column(types.JSONText, nullable=True)


class User(Base):
    __tablename__ = "user"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name", name="uniq_user_domain_name"),)

    id: orm.Mapped[str] = _id()
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    domain_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("project.id"))
    enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    default_project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    extra: orm.Mapped[dict[str, Any] | None] = orm.mapped_column(types.JSONText, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    failed_auth_count: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    failed_auth_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)


class Password(Base):
    """Password history: the newest row is the current password."""

    __tablename__ = "password"

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    password_hash: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    expires_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)
    # Set by its user (not an administrator): only such a password must reach minimum_password_age.
    self_service: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False, server_default=sa.false())


class Group(Base):
    __tablename__ = "group"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name", name="uniq_group_domain_name"),)

    id: orm.Mapped[str] = _id()
    name: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    domain_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("project.id"))
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    extra: orm.Mapped[dict[str, Any] | None] = orm.mapped_column(types.JSONText, nullable=True)


class UserGroupMembership(Base):
    __tablename__ = "user_group_membership"

    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    group_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("group.id", ondelete="CASCADE"), primary_key=True)


class Role(Base):
    __tablename__ = "role"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name", name="uniq_role_domain_name"),)

    id: orm.Mapped[str] = _id()
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    domain_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), default="<<null>>")  # global roles
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    extra: orm.Mapped[dict[str, Any] | None] = orm.mapped_column(types.JSONText, nullable=True)


class ImpliedRole(Base):
    __tablename__ = "implied_role"

    prior_role_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True)
    implied_role_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True)


class Assignment(Base):
    """A role granted to a user or group on a project, a domain or the system."""

    __tablename__ = "assignment"

    type: orm.Mapped[str] = orm.mapped_column(sa.String(16), primary_key=True)  # UserProject, GroupDomain, UserSystem...
    actor_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    target_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)  # "system" for system scope
    role_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True)
    inherited: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, primary_key=True, default=False)


class Region(Base):
    __tablename__ = "region"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    parent_region_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)


class Service(Base):
    __tablename__ = "service"

    id: orm.Mapped[str] = _id()
    type: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="")
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)


class Endpoint(Base):
    __tablename__ = "endpoint"

    id: orm.Mapped[str] = _id()
    service_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("service.id", ondelete="CASCADE"))
    interface: orm.Mapped[str] = orm.mapped_column(sa.String(8))
    url: orm.Mapped[str] = orm.mapped_column(sa.Text)
    region_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)


class RevocationEvent(Base):
    """What stops validating: a token (audit id), or everything of a user/project/domain before a time."""

    __tablename__ = "revocation_event"

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    audit_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(32), nullable=True, index=True)
    user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True, index=True)
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True, index=True)
    domain_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True, index=True)
    app_cred_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    trust_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    # OS-OAUTH1: every token issued from this access token.
    access_token_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    issued_before: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime)
    revoked_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow, index=True)


class ApplicationCredential(Base):
    __tablename__ = "application_credential"
    __table_args__ = (sa.UniqueConstraint("user_id", "name", name="uniq_app_cred_user_name"),)

    id: orm.Mapped[str] = _id()
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    secret_hash: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str] = orm.mapped_column(sa.Text, default="")
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("user.id", ondelete="CASCADE"))
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    expires_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)
    unrestricted: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    role_ids: orm.Mapped[list[str]] = orm.mapped_column(types.JSONText)
    access_rules: orm.Mapped[list[dict[str, Any]] | None] = orm.mapped_column(types.JSONText, nullable=True)


class Credential(Base):
    __tablename__ = "credential"

    id: orm.Mapped[str] = _id()
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("user.id", ondelete="CASCADE"))
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    type: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    encrypted_blob: orm.Mapped[str] = orm.mapped_column(sa.Text)
    key_hash: orm.Mapped[str] = orm.mapped_column(sa.String(64))


class AccessRule(Base):
    """An application credential access rule: one (service type, method, path) a credential's tokens may call.

    Rules belong to a user and outlive the credentials that brought them; one
    in use by a credential cannot be deleted.
    """

    __tablename__ = "access_rule"
    __table_args__ = (sa.UniqueConstraint("user_id", "service", "method", "path", name="uniq_access_rule"),)

    id: orm.Mapped[str] = _id()
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("user.id", ondelete="CASCADE"),
                                                 index=True)
    service: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    method: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    path: orm.Mapped[str] = orm.mapped_column(sa.String(225))


class PolicyBlob(Base):
    """``/v3/policies``: an opaque policy document stored for other services (Keystone never reads it)."""

    __tablename__ = "policy"

    id: orm.Mapped[str] = _id()
    type: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    blob: orm.Mapped[str] = orm.mapped_column(sa.Text)
    extra: orm.Mapped[dict[str, Any] | None] = orm.mapped_column(types.JSONText, nullable=True)


class Trust(Base):
    """OS-TRUST: a trustor lets a trustee act on a project with some of the trustor's roles."""

    __tablename__ = "trust"

    id: orm.Mapped[str] = _id()
    trustor_user_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("user.id", ondelete="CASCADE"),
                                                         index=True)
    trustee_user_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("user.id", ondelete="CASCADE"),
                                                         index=True)
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    impersonation: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    allow_redelegation: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    expires_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)
    # None: unlimited; each trust-scoped token issued uses one.
    remaining_uses: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    extra: orm.Mapped[dict[str, Any] | None] = orm.mapped_column(types.JSONText, nullable=True)


class TrustRole(Base):
    __tablename__ = "trust_role"

    trust_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("trust.id", ondelete="CASCADE"),
                                                  primary_key=True)
    role_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("role.id", ondelete="CASCADE"),
                                                 primary_key=True)


class RegisteredLimit(Base):
    """Unified limits: a service's default limit of a resource (per region, if given)."""

    __tablename__ = "registered_limit"

    id: orm.Mapped[str] = _id()
    service_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("service.id", ondelete="CASCADE"))
    region_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    resource_name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    default_limit: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)


class ProjectLimit(Base):
    """Unified limits: a project's (or domain's) own limit overriding a registered limit."""

    __tablename__ = "limit"

    id: orm.Mapped[str] = _id()
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True, index=True)
    domain_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    service_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("service.id", ondelete="CASCADE"))
    region_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    resource_name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    resource_limit: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)


class EndpointGroup(Base):
    """OS-EP-FILTER: endpoints chosen by filters on interface, service and region."""

    __tablename__ = "endpoint_group"

    id: orm.Mapped[str] = _id()
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    filters: orm.Mapped[dict[str, Any]] = orm.mapped_column(types.JSONText)


class ProjectEndpoint(Base):
    __tablename__ = "project_endpoint"

    endpoint_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("endpoint.id", ondelete="CASCADE"),
                                                     primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)


class ProjectEndpointGroup(Base):
    __tablename__ = "project_endpoint_group"

    endpoint_group_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(64), sa.ForeignKey("endpoint_group.id", ondelete="CASCADE"), primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)


class DomainConfigOption(Base):
    """One domain-specific configuration option (``/v3/domains/{domain_id}/config``)."""

    __tablename__ = "domain_config"

    domain_id: orm.Mapped[str] = orm.mapped_column(sa.String(64), sa.ForeignKey("project.id", ondelete="CASCADE"),
                                                   primary_key=True)
    group: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    option: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[object] = orm.mapped_column(types.JSONText, nullable=True)


class IdentityProvider(Base):
    """OS-FEDERATION identity provider (stored for clients; Nubis runs no SAML/OIDC flow)."""

    __tablename__ = "federation_identity_provider"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    domain_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    authorization_ttl: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    remote_ids: orm.Mapped[list[str] | None] = orm.mapped_column(types.JSONText, nullable=True)


class FederationMapping(Base):
    __tablename__ = "federation_mapping"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    rules: orm.Mapped[object] = orm.mapped_column(types.JSONText)
    schema_version: orm.Mapped[str] = orm.mapped_column(sa.String(8), default="1.0")


class FederationProtocol(Base):
    __tablename__ = "federation_protocol"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    idp_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(64), sa.ForeignKey("federation_identity_provider.id", ondelete="CASCADE"), primary_key=True)
    mapping_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    remote_id_attribute: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)


class ServiceProvider(Base):
    __tablename__ = "federation_service_provider"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    auth_url: orm.Mapped[str] = orm.mapped_column(sa.String(256))
    sp_url: orm.Mapped[str] = orm.mapped_column(sa.String(256))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    enabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    relay_state_prefix: orm.Mapped[str] = orm.mapped_column(sa.String(256), default="ss:mem:")


class OAuthConsumer(Base):
    """OS-OAUTH1: a consumer (an application) that users may delegate roles to.

    The secret is the consumer's HMAC key: the API shows it once, at creation, and
    it is kept as is because verifying a signature needs it (as Keystone keeps it).
    """

    __tablename__ = "oauth1_consumer"

    id: orm.Mapped[str] = _id()
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    secret: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    extra: orm.Mapped[dict[str, Any] | None] = orm.mapped_column(types.JSONText, nullable=True)


class OAuthRequestToken(Base):
    """OS-OAUTH1: a consumer's request for roles on a project, until a user authorizes it and it is exchanged."""

    __tablename__ = "oauth1_request_token"

    id: orm.Mapped[str] = _id()
    secret: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    consumer_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(64), sa.ForeignKey("oauth1_consumer.id", ondelete="CASCADE"), index=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    expires_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)
    # Set when a user authorizes it: who, which of their roles, and the verifier the consumer must show.
    authorizing_user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)
    role_ids: orm.Mapped[list[str] | None] = orm.mapped_column(types.JSONText, nullable=True)
    verifier: orm.Mapped[str | None] = orm.mapped_column(sa.String(64), nullable=True)


class OAuthAccessToken(Base):
    """OS-OAUTH1: a consumer's lasting grant of a user's roles on a project; it signs token requests."""

    __tablename__ = "oauth1_access_token"

    id: orm.Mapped[str] = _id()
    secret: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    consumer_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(64), sa.ForeignKey("oauth1_consumer.id", ondelete="CASCADE"), index=True)
    authorizing_user_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(64), sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    role_ids: orm.Mapped[list[str]] = orm.mapped_column(types.JSONText)
    expires_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)
