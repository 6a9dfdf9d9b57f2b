"""``nubis-manage``: the operator's command (db sync, bootstrap, keys, ...)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from nubis import services
from nubis.cmd import cloud_bootstrap, common, private_state
from nubis.common import config, log, policy_file
from nubis.common.db import migration
from nubis.common.runtime import Runtime
from nubis.monitoring import conf as monitoring_conf


def _services_with_db(name: str | None) -> list[services.ServiceDefinition]:
    chosen = [services.load(name)] if name else services.load_all()
    return [s for s in chosen if s.migration_repo is not None]


def db_sync(runtime: Runtime, args: argparse.Namespace) -> int:
    for service in _services_with_db(args.service):
        repo = service.migration_repo()  # type: ignore[misc]
        db = runtime.database(repo.service)
        db.wait_until_reachable(runtime.conf.database.max_retries, runtime.conf.database.retry_interval)
        migration.upgrade(db, repo)
        print(f"{repo.service}: {', '.join(migration.current(db, repo))}")
    return 0


def db_version(runtime: Runtime, args: argparse.Namespace) -> int:
    for service in _services_with_db(args.service):
        repo = service.migration_repo()  # type: ignore[misc]
        db = runtime.database(repo.service)
        have = migration.current(db, repo)
        print(f"{repo.service}: {', '.join(have) or 'empty'} (code head: {', '.join(migration.heads(repo))})")
    return 0


def policy_dump(runtime: Runtime, args: argparse.Namespace) -> int:
    """Write the policy defaults in code as a commented policy.yaml."""
    chosen = [services.load(args.service)] if args.service else services.load_all()
    out = open(args.output, "w") if args.output else sys.stdout
    try:
        for service in chosen:
            if service.policy_rules is not None:
                out.write(policy_file.render(service.name, service.policy_rules()))
    finally:
        if args.output:
            out.close()
    return 0


def build_parser(service_list: Sequence[services.ServiceDefinition]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nubis-manage", description=__doc__)
    parser.add_argument("--config-file", action="append", default=[], help="Config file (repeatable).")
    sub = parser.add_subparsers(dest="command", required=True)
    db = sub.add_parser("db", help="Database schema.").add_subparsers(dest="db_command", required=True)
    sync = db.add_parser("sync", help="Create or upgrade service databases.")
    sync.add_argument("service", nargs="?", help="Only this service.")
    sync.set_defaults(func=db_sync)
    version = db.add_parser("version", help="Show the schema revision of service databases.")
    version.add_argument("service", nargs="?", help="Only this service.")
    version.set_defaults(func=db_version)
    dump = sub.add_parser("policy-dump", help="Print the default policy rules as policy.yaml.")
    dump.add_argument("service", nargs="?", help="Only this service.")
    dump.add_argument("--output", help="Write to this file instead of standard output.")
    dump.set_defaults(func=policy_dump)
    if "identity" in [s.name for s in service_list]:
        cloud_bootstrap.add_manage_command(sub)
    for service in service_list:
        if service.add_manage_commands is not None:
            service.add_manage_commands(sub)
    from nubis.monitoring import manage as monitoring_manage

    monitoring_manage.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    service_list = services.load_all()
    parser = build_parser(service_list)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    conf = common.build_conf(service_list)
    monitoring_conf.register_opts(conf)
    # Standard output is the command's answer (a policy file, schema versions); logs go beside it.
    conf.set_default("use_stderr", True)
    cli: list[str] = []
    for path in args.config_file:
        cli += ["--config-file", path]
    config.parse_args(conf, cli)
    private_state.protect(conf)  # db sync creates SQLite files, key rotation writes keys
    log.setup(conf)
    runtime = Runtime(conf)
    try:
        return int(args.func(runtime, args) or 0)
    finally:
        runtime.close()


if __name__ == "__main__":
    sys.exit(main())
