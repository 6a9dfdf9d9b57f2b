"""Image service options."""

from __future__ import annotations

import os

from oslo_config import cfg

GROUP = "image"

OPTS = [
    cfg.StrOpt("filesystem_store_datadir", help="Where image data is kept (default: <state_path>/images)."),
    cfg.StrOpt("staging_dir", help="Where glance-direct uploads wait for import (default: <state_path>/staging)."),
    cfg.IntOpt("image_size_cap", default=1099511627776, min=1, help="Largest image, in bytes (default 1 TiB)."),
    cfg.IntOpt("user_storage_quota", default=0, min=0,
               help="Bytes of image data a project may store in total (0: unlimited)."),
    cfg.IntOpt("image_count_quota", default=0, min=0, help="Images a project may have (0: unlimited)."),
    cfg.IntOpt("image_tag_quota", default=128, min=-1, help="Tags an image may have (-1: unlimited)."),
    cfg.IntOpt("image_property_quota", default=128, min=-1,
               help="Custom properties an image may have (-1: unlimited)."),
    cfg.IntOpt("image_member_quota", default=128, min=-1,
               help="Projects an image may be shared with (-1: unlimited)."),
    cfg.BoolOpt("require_image_format_match", default=True,
                help="Refuse image data whose content is not in the image's disk_format (its header says "
                     "another format, or lacks the format's signature)."),
    cfg.ListOpt("vmdk_allowed_types", default=["streamOptimized", "monolithicSparse"],
                help="VMDK createType values accepted in uploads: only self-contained single-file types are "
                     "safe, since other types point at further files on the host that opens the image."),
    cfg.IntOpt("api_limit_max", default=1000, min=1, help="Most images one list request returns."),
    cfg.IntOpt("limit_param_default", default=25, min=1, help="Images a list returns when no limit is given."),
    cfg.StrOpt("hashing_algorithm", default="sha512", help="os_hash_algo for new images (a hashlib name)."),
    cfg.ListOpt("enabled_import_methods", default=["glance-direct", "web-download"],
                help="Interoperable import methods offered."),
    cfg.ListOpt("web_download_allowed_hosts", default=[],
                help="If set, web-download fetches only from these hosts (names or addresses)."),
    cfg.ListOpt("web_download_denied_hosts", default=[], help="web-download never fetches from these hosts."),
    cfg.ListOpt("web_download_allowed_ports", default=["80", "443"], help="Ports web-download may fetch from (empty: any)."),
    cfg.BoolOpt("web_download_allow_internal", default=False,
                help="Let web-download fetch from loopback, link-local (metadata) and private addresses. "
                     "Only for tests and trusted networks."),
    cfg.IntOpt("task_time_to_live", default=48, min=1,
               help="Hours a task is kept (and listed) after it succeeds or fails, as Glance's [task] option."),
    cfg.StrOpt("image_cache_dir",
               help="This API node's image cache, its files readable by the service only "
                    "(default: <state_path>/image-cache)."),
    cfg.IntOpt("image_cache_max_size", default=10737418240, min=0,
               help="Bytes the image cache may hold (default 10 GiB); past it the least recently used images are "
                    "pruned. 0: nothing is kept."),
    cfg.IntOpt("image_cache_prefetcher_interval", default=300, min=0,
               help="Seconds between the prefetcher's rounds over the images queued for caching (a queued image "
                    "is also fetched at once); 0 turns the periodic round off."),
]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, OPTS)]


def data_dir(conf: cfg.ConfigOpts) -> str:
    return conf.image.filesystem_store_datadir or os.path.join(conf.state_path, "images")


def staging_dir(conf: cfg.ConfigOpts) -> str:
    return conf.image.staging_dir or os.path.join(conf.state_path, "staging")


def image_cache_dir(conf: cfg.ConfigOpts) -> str:
    return conf.image.image_cache_dir or os.path.join(conf.state_path, "image-cache")
