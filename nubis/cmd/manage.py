"""``nubis-manage``: the operator's command (db sync, bootstrap, keys, ...)."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Sequence

from nubis import services
from nubis.cmd import cloud_bootstrap, common, private_state
from nubis.common import config, log, policy_file
from nubis.common.db import migration, phases
from nubis.common.runtime import Runtime
from nubis.monitoring import conf as monitoring_conf


def _services_with_db(name: str | None) -> list[services.ServiceDefinition]:
    chosen = [services.load(name)] if name else services.load_all()
    return [s for s in chosen if s.migration_repo is not None]


def _repos(name: str | None) -> list[migration.MigrationRepo]:
    """The migration repos of service ``name`` or of database ``name`` (compute-api and conductor share
    ``compute``); every database once when None."""
    found: dict[str, migration.MigrationRepo] = {}
    for service in services.load_all():
        if service.migration_repo is None:
            continue
        repo = service.migration_repo()
        if name is None or name in (service.name, repo.service):
            found.setdefault(repo.service, repo)
    if not found:
        raise SystemExit(f"nubis-manage: no database for {name!r}")
    return list(found.values())


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


def db_expand(runtime: Runtime, args: argparse.Namespace) -> int:
    """The additive migrations only: safe while the previous release still runs."""
    for repo in _repos(args.service):
        db = runtime.database(repo.service)
        db.wait_until_reachable(runtime.conf.database.max_retries, runtime.conf.database.retry_interval)
        reached = phases.expand(db, repo)
        left = [r.revision for r in phases.pending(db, repo)]
        print(f"{repo.service}: {'expanded to ' + reached if reached else 'nothing to expand'}"
              f"{'; contract pending: ' + ', '.join(left) if left else ''}")
    return 0


def db_migrate(runtime: Runtime, args: argparse.Namespace) -> int:
    """Online data migrations in batches of ``--max-count``: 0 when all are done, 1 when more remain."""
    remaining = False
    for repo in _repos(args.service):
        db = runtime.database(repo.service)
        if not repo.online_migrations:
            print(f"{repo.service}: no online data migrations")
            continue
        for step in repo.online_migrations:
            found, done = step(db, args.max_count)
            print(f"{repo.service}: {step.__name__}: {found} needed it, {done} migrated")
            remaining = remaining or found > done
    return 1 if remaining else 0


def _older_services(runtime: Runtime, service: str) -> list[str]:
    """Services recorded as running an older release than this code (only compute records versions)."""
    if service != "compute":
        return []
    from nubis import version
    from nubis.compute.service_versions import ServiceVersions

    return [f"{r['binary']} on {r['host']} ({r['release'] or 'before 0.2'})"
            for r in ServiceVersions(runtime.database("compute")).rows() if r["release"] != version.VERSION]


def db_contract(runtime: Runtime, args: argparse.Namespace) -> int:
    """The removing migrations, once every service runs this release; 2 when refused."""
    status = 0
    for repo in _repos(args.service):
        db = runtime.database(repo.service)
        try:
            phases.contract(db, repo, None if args.force else functools.partial(_older_services, runtime, repo.service))
        except phases.ContractRefused as exc:
            print(f"refused: {exc}", file=sys.stderr)
            status = 2
            continue
        print(f"{repo.service}: {', '.join(migration.current(db, repo))}")
    return status


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
    expand = db.add_parser("expand", help="Run the additive (expand) migrations only: safe while the "
                           "previous release still runs.")
    expand.add_argument("service", nargs="?", help="Only this service.")
    expand.set_defaults(func=db_expand)
    migrate = db.add_parser("migrate", help="Run online data migrations in batches (exit 1: more remain).")
    migrate.add_argument("service", nargs="?", help="Only this service.")
    migrate.add_argument("--max-count", type=int, default=1000, help="Rows per migration per run.")
    migrate.set_defaults(func=db_migrate)
    contract = db.add_parser("contract", help="Run the removing (contract) migrations once every service "
                             "runs this release (exit 2: refused).")
    contract.add_argument("service", nargs="?", help="Only this service.")
    contract.add_argument("--force", action="store_true", help="Contract although older services are recorded.")
    contract.set_defaults(func=db_contract)
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
