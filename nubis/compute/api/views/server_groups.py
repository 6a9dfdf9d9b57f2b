"""Server groups, per microversion (2.64 turned ``policies`` into ``policy`` + ``rules``)."""

from __future__ import annotations

from typing import Any

from nubis.api.microversion import Version


def server_group(record: dict[str, Any], version: Version) -> dict[str, Any]:
    body: dict[str, Any] = {"id": record["id"], "name": record["name"], "members": list(record["members"])}
    if version >= Version(2, 64):
        body["policy"] = record["policy"]
        body["rules"] = ({"max_server_per_host": record["max_server_per_host"]}
                         if record["max_server_per_host"] else {})
    else:
        body["policies"] = [record["policy"]]
        body["metadata"] = {}
    if version >= Version(2, 13):
        body["project_id"], body["user_id"] = record["project_id"], record["user_id"]
    return body
