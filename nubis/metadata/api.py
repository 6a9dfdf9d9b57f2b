"""The metadata API guests call through their network's proxy: OpenStack and EC2 layouts.

Every request must carry the instance id the proxy added and its HMAC
signature; anything else is refused with 403, so a guest can only ever read
its own metadata.
"""

from __future__ import annotations

import base64
import hmac
import json
from typing import Any

import webob

from nubis.api import router
from nubis.common import exceptions
from nubis.compute import metadata
from nubis.compute.metadata import InstanceFacts
from nubis.metadata.source import MetadataSource
from nubis.network.agent.metadata_proxy import sign

OPENSTACK_FILES = ("meta_data.json", "network_data.json", "user_data", "vendor_data.json", "vendor_data2.json")
# The guest's encrypted admin password is offered from this metadata version on (as Nova does).
PASSWORD_SINCE = "2013-04-04"


class MetadataCore:
    def __init__(self, source: MetadataSource, secret: str) -> None:
        self.source = source
        self.secret = secret

    def instance(self, req: router.Request) -> InstanceFacts:
        instance_id = req.headers.get("X-Instance-ID", "")
        signature = req.headers.get("X-Instance-ID-Signature", "")
        if not instance_id or not self.secret or not hmac.compare_digest(sign(self.secret, instance_id), signature):
            raise exceptions.Forbidden("Invalid proxy request signature: requests must come through the "
                                       "network's metadata proxy.")
        facts = self.source.facts(req.context, instance_id)
        if facts is None:
            raise exceptions.NotFound(f"Instance {instance_id} could not be found.")
        tenant = req.headers.get("X-Tenant-ID")
        if tenant and tenant != facts.project_id:
            raise exceptions.Forbidden("The instance does not belong to the project the proxy named.")
        return facts


def core(req: router.Request) -> MetadataCore:
    return req.service


def _text(body: str | bytes, content_type: str = "text/plain") -> webob.Response:
    charset: Any = "UTF-8" if content_type.startswith("text") else None  # webob's stubs leave out None (no charset)
    resp = webob.Response(content_type=content_type, charset=charset)
    resp.body = body if isinstance(body, bytes) else body.encode()
    return resp


@router.public
def root(req: router.Request) -> webob.Response:
    core(req).instance(req)
    return _text("\n".join([*metadata.EC2_VERSIONS, "openstack"]))


@router.public
def openstack_versions(req: router.Request) -> webob.Response:
    core(req).instance(req)
    return _text("\n".join(metadata.OPENSTACK_VERSIONS))


def _version(version: str, known: tuple[str, ...]) -> None:
    if version not in known:
        raise exceptions.NotFound(f"Metadata version {version} is not offered; use one of {', '.join(known)}.")


@router.public
def openstack_listing(req: router.Request, version: str) -> webob.Response:
    _version(version, metadata.OPENSTACK_VERSIONS)
    facts = core(req).instance(req)
    names = [f for f in OPENSTACK_FILES if f != "user_data" or facts.user_data]
    return _text("\n".join(names + (["password"] if _has_password(version) else [])))


def _has_password(version: str) -> bool:
    return version == "latest" or version >= PASSWORD_SINCE  # ISO dates sort as strings


def _password_version(version: str) -> None:
    _version(version, metadata.OPENSTACK_VERSIONS)
    if not _has_password(version):
        raise exceptions.NotFound(f"password is not offered before metadata version {PASSWORD_SINCE}.")


@router.public
def openstack_password(req: router.Request, version: str) -> webob.Response:
    """GET: the encrypted password the guest posted ("" for none); POST: the guest posts it, once."""
    _password_version(version)
    facts = core(req).instance(req)
    source = core(req).source
    if req.method == "GET":
        return _text(source.password(req.context, facts.uuid))
    try:
        posted = req.body.decode()
    except UnicodeDecodeError:
        raise exceptions.BadRequest("The password must be text (base64 of the encrypted password).") from None
    source.set_password(req.context, facts.uuid, posted)
    return _text("")


@router.public
def openstack_file(req: router.Request, version: str, name: str) -> webob.Response:
    _version(version, metadata.OPENSTACK_VERSIONS)
    facts = core(req).instance(req)
    ports = core(req).source.ports(req.context, facts.uuid) if name == "network_data.json" else []
    files = metadata.openstack_files(facts, ports)
    content = files.get(f"openstack/latest/{name}")
    if content is None:
        raise exceptions.NotFound(f"{name} is not available for this instance.")
    return _text(content, "application/json" if name.endswith(".json") else "text/plain")


@router.public
def ec2_listing(req: router.Request, version: str) -> webob.Response:
    _version(version, metadata.EC2_VERSIONS)
    facts = core(req).instance(req)
    return _text("meta-data/\nuser-data" if facts.user_data else "meta-data/")


@router.public
def ec2_user_data(req: router.Request, version: str) -> webob.Response:
    _version(version, metadata.EC2_VERSIONS)
    facts = core(req).instance(req)
    if not facts.user_data:
        raise exceptions.NotFound("This instance has no user data.")
    return _text(base64.b64decode(facts.user_data))


@router.public
def ec2_meta_data(req: router.Request, version: str, path: str = "") -> webob.Response:
    _version(version, metadata.EC2_VERSIONS)
    facts = core(req).instance(req)
    local, public = core(req).source.addresses(req.context, facts.uuid)
    node: Any = metadata.ec2_meta_data(facts, local, public)
    for part in [p for p in path.split("/") if p]:
        if not isinstance(node, dict) or part not in node or part.startswith("_"):
            raise exceptions.NotFound(f"meta-data/{path} does not exist.")
        node = node[part]
    if isinstance(node, dict):
        if path.rstrip("/") == "public-keys":  # EC2 lists keys as "<index>=<name>"
            return _text("\n".join(f"{i}={v['_name']}" for i, v in node.items()))
        return _text("\n".join(f"{k}/" if isinstance(v, dict) else k for k, v in node.items() if not k.startswith("_")))
    return _text(node if isinstance(node, str) else json.dumps(node))


def _ec2_path(handler: Any, depth: int) -> Any:
    @router.public
    def wrapper(req: router.Request, version: str, **parts: str) -> webob.Response:
        return handler(req, version, "/".join(parts[f"p{i}"] for i in range(depth)))
    return wrapper


ROUTES: dict[str, dict[str, Any]] = {
    "/": {"GET": root},
    "/openstack": {"GET": openstack_versions},
    "/openstack/{version}": {"GET": openstack_listing},
    "/openstack/{version}/password": {"GET": openstack_password, "POST": openstack_password},
    "/openstack/{version}/{name}": {"GET": openstack_file},
    "/{version}": {"GET": ec2_listing},
    "/{version}/user-data": {"GET": ec2_user_data},
    "/{version}/meta-data": {"GET": ec2_meta_data},
    **{"/{version}/meta-data/" + "/".join(f"{{p{i}}}" for i in range(depth)): {"GET": _ec2_path(ec2_meta_data, depth)}
       for depth in (1, 2, 3)},
}
