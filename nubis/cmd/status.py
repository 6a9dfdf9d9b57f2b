"""``nubis-status upgrade check``: is this deployment ready for (or done with) an upgrade to this code?

Like ``nova-status upgrade check``: run with the new release's code and the deployment's
config before and during a rolling upgrade. Each check answers Success, Warning or Failure;
the exit code is the worst of them: 0 all succeeded, 1 a warning (look before going on), 2 a
failure (do not go on). 255 when the checks themselves could not run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Sequence

from oslo_config import cfg

from nubis import services, version
from nubis.cmd import common, private_state
from nubis.common import config, log, upgrade_levels
from nubis.common.db import migration, phases
from nubis.common.runtime import Runtime

SUCCESS, WARNING, FAILURE = 0, 1, 2
NAMES = {SUCCESS: "Success", WARNING: "Warning", FAILURE: "Failure"}


@dataclasses.dataclass(frozen=True)
class Result:
    """One check's answer: ``code`` (SUCCESS, WARNING, FAILURE) and what the operator should know."""

    code: int
    details: str = ""


def _repos() -> list[migration.MigrationRepo]:
    found: dict[str, migration.MigrationRepo] = {}
    for service in services.load_all():
        if service.migration_repo is not None:
            repo = service.migration_repo()
            found.setdefault(repo.service, repo)
    return list(found.values())


def _missing_sqlite_file(runtime: Runtime, service: str) -> str | None:
    """The path of ``service``'s SQLite database when it does not exist (a check reads: opening it would
    leave an empty file behind), else None."""
    path = config.sqlite_file(config.database_url(runtime.conf, service))
    return path if path is not None and not os.path.exists(path) else None


def check_schemas(runtime: Runtime) -> Result:
    """Every database is expanded for this code (Failure if not); contracts pending is a Warning."""
    failures, warnings, fine = [], [], []
    for repo in _repos():
        missing = _missing_sqlite_file(runtime, repo.service)
        if missing:
            failures.append(f"{repo.service}: no database at {missing}; run "
                            f"'nubis-manage db sync {repo.service}' (or pass the deployment's --config-file)")
            continue
        db = runtime.database(repo.service)
        try:
            state, todo = phases.schema_state(db, repo)
        except Exception as exc:  # an unreachable database is this check's answer, not a crash
            failures.append(f"{repo.service}: cannot read the schema ({type(exc).__name__}: {exc})")
            continue
        names = ", ".join(r.revision for r in todo)
        if state == phases.EMPTY:
            failures.append(f"{repo.service}: empty; run 'nubis-manage db sync {repo.service}'")
        elif state == phases.BEHIND:
            failures.append(f"{repo.service}: migrations {names} pending; run 'nubis-manage db expand {repo.service}'")
        elif state == phases.EXPANDED:
            warnings.append(f"{repo.service}: contract migrations {names} pending; run 'nubis-manage db contract "
                            f"{repo.service}' once every service runs this release")
        elif state == phases.NEWER:
            warnings.append(f"{repo.service}: at {', '.join(migration.current(db, repo))}, newer than this code")
        else:
            fine.append(repo.service)
    lines = failures + warnings + ([f"at this code's head: {', '.join(fine)}"] if fine else [])
    return Result(FAILURE if failures else WARNING if warnings else SUCCESS, "\n".join(lines))


def check_service_versions(runtime: Runtime) -> Result:
    """Compute services recorded as running another release than this code: a Warning (a mixed deployment)."""
    from nubis.compute.service_versions import ServiceVersions

    missing = _missing_sqlite_file(runtime, "compute")
    if missing:
        return Result(FAILURE, f"no compute database at {missing}")
    try:
        rows = ServiceVersions(runtime.database("compute")).rows()
    except Exception as exc:
        return Result(FAILURE, f"cannot read the compute services ({type(exc).__name__}: {exc})")
    if not rows:
        return Result(SUCCESS, "no compute services registered")
    other = [f"{r['binary']} on {r['host']}: {r['release'] or 'before 0.2'}" for r in rows
             if r["release"] != version.VERSION]
    if other:
        return Result(WARNING, f"{len(other)} of {len(rows)} services run another release than {version.VERSION} "
                      "(keep [upgrade_levels] capped until they are upgraded):\n" + "\n".join(other))
    return Result(SUCCESS, f"all {len(rows)} services run {version.VERSION}")


def check_upgrade_levels(runtime: Runtime) -> Result:
    """Each ``[upgrade_levels]`` value is valid (Failure if not); a cap left once everything is new: Warning."""
    conf = runtime.conf.upgrade_levels
    bad, caps = [], []
    for level in upgrade_levels.LEVELS:
        value = getattr(conf, level)
        try:
            cap = upgrade_levels.resolve(level, value)
        except upgrade_levels.InvalidUpgradeLevel as exc:
            bad.append(str(exc))
            continue
        if cap is not None:
            caps.append(f"{level} = {value} (RPC {cap})")
    if bad:
        return Result(FAILURE, "\n".join(bad))
    if caps:
        mixed = check_service_versions(runtime).code != SUCCESS
        note = "while older services run" if mixed else "remove them once every service runs this release"
        return Result(SUCCESS if mixed else WARNING, f"capped: {', '.join(caps)}; {note}")
    return Result(SUCCESS, "no caps")


def _known_options(conf: cfg.ConfigOpts) -> dict[str, set[str]]:
    """Registered option names (and their deprecated aliases, still honoured) by group, ``DEFAULT`` too."""
    known: dict[str, set[str]] = {}
    # oslo.config has no public way to list an option's deprecated names: read its tables.
    tables = {"DEFAULT": conf._opts, **{name: group._opts for name, group in conf._groups.items()}}
    for group, opts in tables.items():
        names = known.setdefault(group, set())
        for name, info in opts.items():
            names.add(name)
            for old in info["opt"].deprecated_opts:
                names.add(old.name or name)
                if old.group and old.group != group:
                    known.setdefault(old.group, set()).add(old.name or name)
    return known


def _auth_plugin_options(group: str, values: dict[str, list[str]], registered: set[str]) -> set[str]:
    """The options of the keystoneauth plugin a group names with ``auth_type`` (registered when it loads)."""
    if "auth_type" not in registered or not values.get("auth_type"):
        return set()
    from keystoneauth1 import exceptions as ks_exceptions
    from keystoneauth1 import loading as ks_loading

    try:
        opts = ks_loading.get_auth_plugin_conf_options(values["auth_type"][-1])
    except ks_exceptions.NoMatchingPlugin:
        return set(values)  # an unknown plugin is the service's error to report, not an unknown option
    return {o.dest for o in opts} | {o.name for o in opts} | {d.name for o in opts for d in o.deprecated_opts if d.name}


def check_config_options(runtime: Runtime) -> Result:
    """Options in the config files that this code does not know: removed, renamed or misspelt (a Warning).

    Only groups Nubis registers are judged (libraries' own groups, such as ``keystone_authtoken``,
    register their options when they load).
    """
    conf = runtime.conf
    files = list(conf.config_file or conf.default_config_files or [])
    known = _known_options(conf)
    unknown = []
    for path in files:
        sections: dict[str, dict[str, list[str]]] = {}
        try:
            cfg.ConfigParser(path, sections).parse()
        except (OSError, cfg.ParseError) as exc:
            return Result(FAILURE, f"cannot read {path}: {exc}")
        for group, values in sections.items():
            if group not in known:
                continue
            names = known[group] | _auth_plugin_options(group, values, known[group])
            unknown += [f"{path}: [{group}] {name}" for name in values if name not in names]
    if unknown:
        return Result(WARNING, "not options of this release (removed, renamed or misspelt); they have no "
                      "effect:\n" + "\n".join(unknown))
    return Result(SUCCESS, f"{len(files)} config file(s), every option known" if files else "no config files")


CHECKS: list[tuple[str, Callable[[Runtime], Result]]] = [
    ("Database schemas", check_schemas),
    ("Service versions", check_service_versions),
    ("RPC upgrade levels", check_upgrade_levels),
    ("Config options", check_config_options),
]


def run_checks(runtime: Runtime) -> list[tuple[str, Result]]:
    return [(name, check(runtime)) for name, check in CHECKS]


def render(results: list[tuple[str, Result]]) -> str:
    """The results as nova-status prints them: a box per check."""
    lines = ["Upgrade Check Results"]
    for name, result in results:
        lines += [f"Check: {name}", f"Result: {NAMES[result.code]}", "Details: " + (result.details or "None")]
    width = max(len(line) for text in lines for line in text.splitlines()) + 2
    rule = "+" + "-" * width + "+"
    out = [rule, f"| {lines[0].ljust(width - 1)}|", rule.replace("-", "=")]
    for i in range(1, len(lines), 3):
        for text in lines[i:i + 3]:
            out += [f"| {line.ljust(width - 1)}|" for line in text.splitlines()]
        out.append(rule)
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nubis-status", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config-file", action="append", default=[], help="Config file (repeatable).")
    sub = parser.add_subparsers(dest="category", required=True)
    upgrade = sub.add_parser("upgrade", help="Upgrade readiness.").add_subparsers(dest="action", required=True)
    check = upgrade.add_parser("check", help="Run the upgrade checks (exit 0 success, 1 warning, 2 failure).")
    check.add_argument("--json", action="store_true", help="Print the results as JSON.")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    service_list = services.load_all()
    conf = common.build_conf(service_list)
    conf.set_default("use_stderr", True)
    cli: list[str] = []
    for path in args.config_file:
        cli += ["--config-file", path]
    config.parse_args(conf, cli)
    private_state.protect(conf)  # reading a SQLite deployment may create its files
    log.setup(conf)
    runtime = Runtime(conf)
    try:
        results = run_checks(runtime)
    except Exception as exc:  # the checks could not run at all
        print(f"nubis-status: the checks could not run: {exc}", file=sys.stderr)
        return 255
    finally:
        runtime.close()
    if args.json:
        print(json.dumps([{"check": n, "result": NAMES[r.code], "details": r.details} for n, r in results],
                         indent=2))
    else:
        print(render(results))
    return max(r.code for _, r in results)


if __name__ == "__main__":
    sys.exit(main())
