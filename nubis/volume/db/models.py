"""Volumes, snapshots, volume types, attachments, quotas and the managers' heartbeats.

The bytes live on a storage host (``Volume.host``), at a place only its backend reads
(``provider_location``).
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common.db import types


class Base(orm.DeclarativeBase):
    pass


class VolumeType(Base):
    __tablename__ = "volume_type"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    is_public: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    # The QoS specs associated with the type (Cinder's qos_specs_id), None when there are none.
    qos_specs_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True, index=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class VolumeTypeExtraSpec(Base):
    __tablename__ = "volume_type_extra_spec"

    volume_type_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey("volume_type.id", ondelete="CASCADE"), primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255))


class VolumeTypeProject(Base):
    """A project given access to a private volume type (Cinder's volume type access)."""

    __tablename__ = "volume_type_project"

    volume_type_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey("volume_type.id", ondelete="CASCADE"), primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)


class QosSpecs(Base):
    """Cinder's QoS specs: named limits for a consumer (``front-end``: the compute's hypervisor applies them,
    ``back-end``: the storage would, ``both``), associated with volume types."""

    __tablename__ = "qos_specs"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    consumer: orm.Mapped[str] = orm.mapped_column(sa.String(16), default="back-end")
    specs: orm.Mapped[Any] = orm.mapped_column(types.JSONText)  # {key: value}, both strings
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class Volume(Base):
    __tablename__ = "volume"
    __table_args__ = (sa.Index("ix_volume_project_created", "project_id", "created_at"),
                      sa.Index("ix_volume_host", "host"))

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    size: orm.Mapped[int] = orm.mapped_column(sa.Integer)  # GiB
    status: orm.Mapped[str] = orm.mapped_column(sa.String(30), default="creating")
    attach_status: orm.Mapped[str] = orm.mapped_column(sa.String(30), default="detached")
    availability_zone: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    volume_type_id: orm.Mapped[str] = orm.mapped_column(sa.String(36), sa.ForeignKey("volume_type.id"))
    snapshot_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True)
    source_volid: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True)
    image_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True)
    # The image's properties Cinder shows as volume_image_metadata (image_id, image_name, disk_format, ...).
    image_metadata: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    provider_location: orm.Mapped[str | None] = orm.mapped_column(sa.String(1024), nullable=True)
    bootable: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    multiattach: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    error_message: orm.Mapped[str | None] = orm.mapped_column(sa.String(1024), nullable=True)
    # The generic volume group the volume belongs to (Cinder's group_id, 3.13), None for none.
    group_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True, index=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)

    metadata_items: orm.Mapped[list[VolumeMetadata]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)
    attachments: orm.Mapped[list[VolumeAttachment]] = orm.relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True)

    @property
    def metadata_dict(self) -> dict[str, str]:
        return {m.key: m.value for m in self.metadata_items}


class VolumeMetadata(Base):
    __tablename__ = "volume_metadata"

    volume_id: orm.Mapped[str] = orm.mapped_column(sa.String(36), sa.ForeignKey("volume.id", ondelete="CASCADE"),
                                                   primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255))


class VolumeAttachment(Base):
    __tablename__ = "volume_attachment"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    volume_id: orm.Mapped[str] = orm.mapped_column(sa.String(36), sa.ForeignKey("volume.id", ondelete="CASCADE"),
                                                   index=True)
    instance_uuid: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True)
    attached_host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    mountpoint: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    attach_mode: orm.Mapped[str] = orm.mapped_column(sa.String(2), default="rw")
    attach_status: orm.Mapped[str] = orm.mapped_column(sa.String(30), default="reserved")
    connector: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)
    # The export the storage host made for this connector (Cinder's connection_info), None before.
    connection_info: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class Snapshot(Base):
    __tablename__ = "snapshot"
    __table_args__ = (sa.Index("ix_snapshot_project_created", "project_id", "created_at"),)

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    volume_id: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    size: orm.Mapped[int] = orm.mapped_column(sa.Integer)  # GiB, the volume's at the time
    status: orm.Mapped[str] = orm.mapped_column(sa.String(30), default="creating")
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    provider_location: orm.Mapped[str | None] = orm.mapped_column(sa.String(1024), nullable=True)
    error_message: orm.Mapped[str | None] = orm.mapped_column(sa.String(1024), nullable=True)
    # What os-update_snapshot_status last reported ("80%"); None: derived from the status.
    progress: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    # The group snapshot this snapshot was made for (Cinder's group_snapshot_id, 3.14), None for none.
    group_snapshot_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True, index=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class SnapshotMetadata(Base):
    """A snapshot's metadata item (Cinder's snapshot metadata)."""

    __tablename__ = "snapshot_metadata"

    snapshot_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey("snapshot.id", ondelete="CASCADE"), primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255))


class Quota(Base):
    """A limit that differs from the configured default: per project, or for every project (``class:default``)."""

    __tablename__ = "quota"

    owner: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    hard_limit: orm.Mapped[int] = orm.mapped_column(sa.Integer)


class ProjectLock(Base):
    """One row per project, locked (SELECT ... FOR UPDATE) while a create counts usage and inserts.

    Usage is counted from the volumes and snapshots that exist, never stored; the lock makes
    "count, compare, insert" atomic per project, so concurrent creates cannot exceed a quota together.
    """

    __tablename__ = "project_lock"

    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)


class VolumeService(Base):
    """A storage host's manager: its zone, its backend's capacity and its last heartbeat."""

    __tablename__ = "volume_service"

    host: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    availability_zone: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    backend: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    total_capacity_gb: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    max_over_subscription_ratio: orm.Mapped[float] = orm.mapped_column(sa.Float)
    disabled: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    disabled_reason: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class Message(Base):
    """Cinder's user message (3.3): why an asynchronous request failed, for the project that made it."""

    __tablename__ = "message"
    __table_args__ = (sa.Index("ix_message_project_created", "project_id", "created_at"),)

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    request_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    resource_type: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    resource_uuid: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True)
    event_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))  # VOLUME_<resource>_<action>_<detail>
    message_level: orm.Mapped[str] = orm.mapped_column(sa.String(255), default="ERROR")
    user_message: orm.Mapped[str] = orm.mapped_column(sa.String(1024))
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    expires_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime)
class Backup(Base):
    """A copy of a volume's (or snapshot's) data in the backup store of the volume's storage host.

    ``source_status`` keeps the volume's (or snapshot's) status before it went ``backing-up`` (Cinder's
    ``previous_status``); ``restore_volume_id`` the volume a restore is writing; ``volume_meta`` the source
    volume's metadata, bootable flag and image metadata, given to the volumes it is restored to.
    """

    __tablename__ = "backup"
    __table_args__ = (sa.Index("ix_backup_project_created", "project_id", "created_at"),
                      sa.Index("ix_backup_host", "host"))

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    volume_id: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    snapshot_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True)
    parent_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True, index=True)
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    container: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    availability_zone: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    size: orm.Mapped[int] = orm.mapped_column(sa.Integer)  # GiB, the source's at the time
    status: orm.Mapped[str] = orm.mapped_column(sa.String(30), default="creating")
    fail_reason: orm.Mapped[str | None] = orm.mapped_column(sa.String(1024), nullable=True)
    object_count: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    service: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    provider_location: orm.Mapped[str | None] = orm.mapped_column(sa.String(1024), nullable=True)
    source_status: orm.Mapped[str | None] = orm.mapped_column(sa.String(30), nullable=True)
    restore_volume_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True)
    volume_meta: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)
    metadata_items: orm.Mapped[Any] = orm.mapped_column(types.JSONText, nullable=True)  # the backup's (3.43)
    data_timestamp: orm.Mapped[datetime.datetime | None] = orm.mapped_column(types.DateTime, nullable=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class Transfer(Base):
    """A volume offered to another project: the key's salted hash only, never the key."""

    __tablename__ = "transfer"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    volume_id: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    source_project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    salt: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    crypt_hash: orm.Mapped[str] = orm.mapped_column(sa.String(128))
    no_snapshots: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class GroupType(Base):
    """Cinder's group type (3.11): a name and group specs that a generic volume group is made with."""

    __tablename__ = "group_type"

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), unique=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    is_public: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=True)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class GroupTypeSpec(Base):
    """One of a group type's group specs."""

    __tablename__ = "group_type_spec"

    group_type_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey("group_type.id", ondelete="CASCADE"), primary_key=True)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255))


class VolumeGroup(Base):
    """Cinder's generic volume group (3.13): volumes of the group's volume types, snapshotted together.

    ``follows_members`` is true while the status follows the member volumes' creates (a group made from a
    source): the manager settles it once none of them is ``creating`` any more.
    """

    __tablename__ = "volume_group"
    __table_args__ = (sa.Index("ix_volume_group_project_created", "project_id", "created_at"),)

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    availability_zone: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    group_type_id: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(30), default="available")
    group_snapshot_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True)
    source_group_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36), nullable=True)
    follows_members: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)


class GroupVolumeType(Base):
    """A volume type a group's volumes may have (Cinder's group_volume_type_mapping)."""

    __tablename__ = "group_volume_type"

    group_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), sa.ForeignKey("volume_group.id", ondelete="CASCADE"), primary_key=True)
    volume_type_id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    position: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=0)


class GroupSnapshot(Base):
    """Cinder's group snapshot (3.14): one snapshot of each volume of a group, taken together.

    ``follows_members`` as a group's: the status follows the member snapshots' creates until they end.
    """

    __tablename__ = "group_snapshot"
    __table_args__ = (sa.Index("ix_group_snapshot_project_created", "project_id", "created_at"),)

    id: orm.Mapped[str] = orm.mapped_column(sa.String(36), primary_key=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    group_id: orm.Mapped[str] = orm.mapped_column(sa.String(36), index=True)
    group_type_id: orm.Mapped[str] = orm.mapped_column(sa.String(36))
    name: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), nullable=True)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(30), default="creating")
    follows_members: orm.Mapped[bool] = orm.mapped_column(sa.Boolean, default=False)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
    updated_at: orm.Mapped[datetime.datetime] = orm.mapped_column(types.DateTime, default=types.utcnow)
