"""``nubis-manage image metadefs load``: load metadata definitions into the image service's catalog."""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

from nubis.common import exceptions
from nubis.common.runtime import Runtime


def add_commands(sub: Any) -> None:
    image = sub.add_parser("image", help="The image service.").add_subparsers(dest="image_command", required=True)
    metadefs = image.add_parser("metadefs", help="The metadata definitions catalog.").add_subparsers(
        dest="metadefs_command", required=True)
    load = metadefs.add_parser("load", help="Load namespaces: the built-in catalog, or Glance-format JSON files.")
    load.add_argument("paths", nargs="*", help="JSON files or folders of them, one namespace each (default: the "
                                               "built-in catalog).")
    load.add_argument("--replace", action="store_true", help="Rebuild namespaces that exist already.")
    load.set_defaults(func=_load)


def read_definitions(paths: list[str]) -> list[dict[str, Any]]:
    """Namespace definitions from ``paths`` (files, or folders of ``*.json``), each checked against the
    namespace schema.

    :raises BadRequest: a file is not JSON, or not a valid namespace (the message names the file and field).
    """
    from nubis.api import validation
    from nubis.image.api import metadef_schemas

    files: list[pathlib.Path] = []
    for path in map(pathlib.Path, paths):
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    out = []
    for file in files:
        try:
            body = json.loads(file.read_text())
            body = {k: v for k, v in body.items() if k not in ("created_at", "updated_at", "self", "schema")}
            validation.validate(body, metadef_schemas.NAMESPACE)
        except (OSError, ValueError, exceptions.BadRequest) as exc:
            raise exceptions.BadRequest(f"{file}: {exc}") from None
        out.append(body)
    return out


def _load(runtime: Runtime, args: argparse.Namespace) -> int:
    from nubis.image.core.metadefs import seed
    from nubis.image.core.metadefs.catalog import MetadefCatalog

    try:
        definitions = read_definitions(args.paths) if args.paths else seed.definitions()
    except exceptions.BadRequest as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        result = MetadefCatalog(runtime.database("image"), runtime.conf.image.api_limit_max).load(
            definitions, replace=args.replace)
    except exceptions.Conflict as exc:  # two definitions of one name in a namespace: nothing was loaded
        print(exc, file=sys.stderr)
        return 2
    for label, names in (("created", result.created), ("replaced", result.replaced), ("kept", result.kept)):
        for name in names:
            print(f"{label} {name}")
    return 0
