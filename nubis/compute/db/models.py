"""The compute service's tables."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.db import types


class Base(orm.DeclarativeBase):
    pass


class Flavor(Base):
    __tablename__ = "flavors"

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    flavorid: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    vcpus: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    memory_mb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    root_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    ephemeral_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    swap: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)  # MB
    rxtx_factor: orm.Mapped[float] = orm.mapped_column(sa.Float, default=1.0)
    is_public: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)

    extra_specs: orm.Mapped[list[FlavorExtraSpec]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin")
    projects: orm.Mapped[list[FlavorProject]] = orm.relationship(cascade="all, delete-orphan", lazy="selectin")


class FlavorExtraSpec(Base):
    __tablename__ = "flavor_extra_specs"

    flavor_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("flavors.id", ondelete="CASCADE"), primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255))


class FlavorProject(Base):
    __tablename__ = "flavor_projects"

    flavor_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("flavors.id", ondelete="CASCADE"), primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)


class KeyPair(Base):
    __tablename__ = "key_pairs"
    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    fingerprint: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    public_key: orm.Mapped[str] = orm.mapped_column(sa.Text)
    type: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="ssh")
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class Instance(Base):
    __tablename__ = "instances"

    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    image_ref: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    flavor: orm.Mapped[Any] = orm.mapped_column(types.JSONText)  # the flavor as it was at boot
    old_flavor: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)  # kept until a resize is confirmed
    vcpus: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    memory_mb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    root_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True, index=True)
    node: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    availability_zone: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    vm_state: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    task_state: orm.Mapped[str | None] = orm.mapped_column(sa.String(32), nullable=True)
    power_state: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    key_name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    key_data: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    user_data: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    metadata_items: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)
    tags: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)  # sorted list of strings
    numa_fit: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)
    config_drive: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    shelved_image_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True)
    # What the boot request asked for ([{"network_id"|"port_id", "fixed_ip"}]), and what the host's ports
    # ended up as (Nova's network info cache: what server views show as addresses).
    requested_networks: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)
    network_info: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)
    locked: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    locked_by: orm.Mapped[str | None] = orm.mapped_column(sa.String(16), nullable=True)  # owner | admin
    locked_reason: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    # The addresses a user says reach the server (accessIPv4/v6): recorded and shown, never configured.
    access_ip_v4: orm.Mapped[str | None] = orm.mapped_column(sa.String(39), nullable=True)
    access_ip_v6: orm.Mapped[str | None] = orm.mapped_column(sa.String(39), nullable=True)
    # The encrypted admin password the guest posted to the metadata service (os-server-password).
    password: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    # OS-DCF:diskConfig: AUTO (the guest's root partition grows to the disk) or MANUAL, as the user asked.
    auto_disk_config: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False, server_default=sa.false())
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    launched_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)
    terminated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)
    # Rows stay after delete (deleted=True) so usage over a past period can still be counted.
    deleted: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False, index=True)


class InstanceFault(Base):
    __tablename__ = "instance_faults"

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    code: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    # Text, not nova's 255 characters: a "no valid host" message carries the scheduler's whole explanation.
    message: orm.Mapped[str] = orm.mapped_column(sa.Text)
    details: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class InstanceAction(Base):
    __tablename__ = "instance_actions"

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    action: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    request_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    start_time: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    finish_time: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)
    message: orm.Mapped[str | None] = orm.mapped_column(sa.Text, nullable=True)


class Service(Base):
    """A compute-side process (``nubis-compute`` on a host), as ``os-services`` shows it."""

    __tablename__ = "services"
    __table_args__ = (sa.UniqueConstraint("host", "binary"),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True, default=types.new_uuid)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    binary: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    disabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    disabled_reason: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    forced_down: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    last_seen_up: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    # {"release": "0.2.0", "rpc": {"compute": "1.1", ...}} from its last heartbeat (conductor RPC 1.3);
    # None: a service older than 0.2 (nubis.common.service_versions).
    versions: orm.Mapped[dict[str, Any] | None] = orm.mapped_column(types.JSONText, nullable=True)


class ComputeNode(Base):
    """A hypervisor: what its host reported, and its placement provider."""

    __tablename__ = "compute_nodes"

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True)  # = placement provider uuid
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    hypervisor_hostname: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    hypervisor_type: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    vcpus: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    memory_mb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    local_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    cpu_info: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)
    host_started_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class ProjectLock(Base):
    """One row per project, locked (SELECT ... FOR UPDATE) while a boot counts and records usage.

    Quota checks count real instances; the lock makes "count, compare, insert"
    atomic per project, so concurrent boots can never together exceed a quota.
    """

    __tablename__ = "project_locks"

    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)


class ServerGroup(Base):
    __tablename__ = "server_groups"

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True, default=types.new_uuid)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    policy: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    max_server_per_host: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class ServerGroupMember(Base):
    __tablename__ = "server_group_members"

    group_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("server_groups.id", ondelete="CASCADE"),
                                                  primary_key=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True, index=True)


class Quota(Base):
    """A limit set for one project (``project_id``) or for a quota class (``class:<name>``)."""

    __tablename__ = "quotas"

    owner: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    hard_limit: orm.Mapped[int] = orm.mapped_column(sa.Integer)


class Aggregate(Base):
    """A named group of hosts with metadata; the ``availability_zone`` key makes it a zone."""

    __tablename__ = "aggregates"

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True, default=types.new_uuid)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    metadata_items: orm.Mapped[Any] = orm.mapped_column(types.JSONText)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)

    hosts: orm.Mapped[list[AggregateHost]] = orm.relationship(cascade="all, delete-orphan", lazy="selectin")


class AggregateHost(Base):
    __tablename__ = "aggregate_hosts"

    aggregate_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("aggregates.id", ondelete="CASCADE"),
                                                      primary_key=True)
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True, index=True)


class Migration(Base):
    """A move of an instance between hosts (cold or live migration, evacuation), as os-migrations lists it.

    While a cold migration waits for confirmation, the source host's resources
    stay allocated in placement to the migration's uuid as consumer.
    """

    __tablename__ = "migrations"

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), unique=True, default=types.new_uuid)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    migration_type: orm.Mapped[str] = orm.mapped_column(sa.String(32))  # migration | live-migration | evacuation
    status: orm.Mapped[str] = orm.mapped_column(sa.String(32))
    source_host: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    source_node: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    dest_host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    dest_node: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    flavor: orm.Mapped[Any] = orm.mapped_column(types.JSONText)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)


class ConsoleAuthToken(Base):
    """A remote console's access token: only its SHA-256 is kept, bound to the guest's console endpoint.

    Stored here (not in a proxy's memory) so every proxy copy can check it through the conductor; rows go
    when they expire (swept at the next issue), when the server is deleted or when it moves to another host.
    """

    __tablename__ = "console_auth_tokens"

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    token_hash: orm.Mapped[str] = orm.mapped_column(sa.String(64), unique=True)
    console_type: orm.Mapped[str] = orm.mapped_column(sa.String(32))  # novnc | spice-html5 | serial
    host: orm.Mapped[str] = orm.mapped_column(sa.String(255))  # where the proxy connects
    port: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    internal_access_path: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    compute_host: orm.Mapped[str] = orm.mapped_column(sa.String(255))  # the instance's host when issued
    user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)  # who asked (for the logs)
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    access_url_base: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    expires: orm.Mapped[int] = orm.mapped_column(sa.Integer, index=True)  # seconds since the epoch
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class BlockDeviceMapping(Base):
    """A volume attached to a server (Nova's block device mapping of ``destination_type`` volume).

    ``id`` is what 2.89 shows as ``bdm_uuid``; ``attachment_id`` names the volume service's attachment, whose
    ``connection_info`` (the export) is kept here too so the guest's disk can be defined again. A server booted
    from a volume has its root disk here with ``boot_index`` 0; ``source_type`` says what the volume was made
    from at boot (``volume``: an existing one; ``image``, ``snapshot``, ``blank``: made for this server). Volumes
    attached later have neither (None).
    """

    __tablename__ = "block_device_mappings"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    instance_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    volume_id: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    attachment_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True)
    device_name: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    delete_on_termination: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    tag: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    connection_info: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)
    boot_index: orm.Mapped[int | None] = orm.mapped_column(sa.Integer, nullable=True)
    source_type: orm.Mapped[str | None] = orm.mapped_column(sa.String(16), nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
