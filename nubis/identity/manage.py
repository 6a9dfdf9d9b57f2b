"""``nubis-manage`` commands of the identity service."""

from __future__ import annotations

import argparse
from typing import Any

from nubis.common.runtime import Runtime
from nubis.identity import conf as identity_conf
from nubis.identity.tokens import keys


def add_commands(sub: Any) -> None:
    boot = sub.add_parser("bootstrap", help="Create the admin user, project, roles, region and identity endpoint.")
    boot.add_argument("--bootstrap-password", required=True)
    boot.add_argument("--bootstrap-username", default="admin")
    boot.add_argument("--bootstrap-project-name", default="admin")
    boot.add_argument("--bootstrap-role-name", default="admin", choices=["admin"])
    boot.add_argument("--bootstrap-service-name", default="keystone")
    boot.add_argument("--bootstrap-region-id", default="RegionOne")
    boot.add_argument("--bootstrap-public-url")
    boot.add_argument("--bootstrap-internal-url")
    boot.add_argument("--bootstrap-admin-url")
    boot.set_defaults(func=_bootstrap)
    setup = sub.add_parser("fernet-setup", help="Create the Fernet key repository (staged and primary keys).")
    setup.set_defaults(func=_fernet_setup)
    rotate = sub.add_parser("fernet-rotate", help="Promote the staged key to primary and stage a new one.")
    rotate.set_defaults(func=_fernet_rotate)


def _bootstrap(runtime: Runtime, args: argparse.Namespace) -> int:
    from nubis.identity import bootstrap

    endpoints = []
    urls = {"public": args.bootstrap_public_url, "internal": args.bootstrap_internal_url,
            "admin": args.bootstrap_admin_url}
    for interface, url in urls.items():
        if url:
            endpoints.append(bootstrap.Endpoint("identity", args.bootstrap_service_name, url, (interface,)))
    bootstrap.bootstrap(runtime, bootstrap.BootstrapRequest(
        admin_password=args.bootstrap_password, admin_username=args.bootstrap_username,
        admin_project=args.bootstrap_project_name, region=args.bootstrap_region_id, endpoints=endpoints))
    return 0


def _fernet_setup(runtime: Runtime, args: argparse.Namespace) -> int:
    repo = identity_conf.key_repository(runtime.conf)
    print(f"{repo}: {'created' if keys.setup(repo) else 'already set up'}")
    return 0


def _fernet_rotate(runtime: Runtime, args: argparse.Namespace) -> int:
    repo = identity_conf.key_repository(runtime.conf)
    primary = keys.rotate(repo, runtime.conf.fernet_tokens.max_active_keys)
    print(f"{repo}: key {primary} is now primary")
    return 0
