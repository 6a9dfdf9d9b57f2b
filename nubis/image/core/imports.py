"""Interoperable image import: glance-direct (from the staging area) and web-download (from a URL).

The import runs in a background thread of the API process, as Glance's does;
its progress is visible on the image (``os_glance_import_task``, status
``importing``), and a failure puts the image back to ``queued`` with the
reason in ``os_glance_failed_import``.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import urllib.parse
from collections.abc import Iterator
from typing import Any, BinaryIO

import requests

from nubis.common import context as nubis_context
from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.image.core import data, fields, records
from nubis.image.core.facade import ImageCore
from nubis.image.db.models import Image

LOG = logging.getLogger(__name__)
TASK_PROPERTY = "os_glance_import_task"
FAILED_PROPERTY = "os_glance_failed_import"
MAX_URI = 2048


def stage(core: ImageCore, ctx: RequestContext, image_id: str, stream: BinaryIO, length: int | None) -> None:
    if "glance-direct" not in core.conf.image.enabled_import_methods:
        raise exceptions.NotFound("The glance-direct import method is not enabled.")
    allowed, _ = core.begin_write(ctx, image_id, ("queued",), "uploading", length)
    try:
        core.staging.add(image_id, core.content_inspector(image_id).inspect(data.chunks_from(stream, length)))
    except BaseException:
        core.staging.delete(image_id)
        with core.db.writer() as s:
            image = s.get(Image, image_id)
            if image is not None:
                image.status = "queued"
        raise
    if core.staging.size(image_id) > allowed:
        core.staging.delete(image_id)
        with core.db.writer() as s:
            image = s.get(Image, image_id)
            if image is not None:
                image.status = "queued"
        raise exceptions.RequestEntityTooLarge(f"The staged data exceeds the {allowed} bytes this image may take.")


def check_url(core: ImageCore, url: str) -> None:
    """Refuse URLs web-download must not fetch (loopback, metadata, private nets) unless configured."""
    if len(url) > MAX_URI or fields.has_control_chars(url) or " " in url:
        raise exceptions.BadRequest(f"Invalid method.uri: a URL of at most {MAX_URI} characters without spaces or "
                                    "control characters.")
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise exceptions.BadRequest(f"web-download needs an http or https URL, not {url!r}")
    opts = core.conf.image
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError:
        raise exceptions.BadRequest(f"web-download needs a valid port in {url!r}") from None
    if opts.web_download_allowed_ports and str(port) not in opts.web_download_allowed_ports:
        raise exceptions.Forbidden(f"web-download may not fetch from port {port} (allowed: "
                                   f"{', '.join(opts.web_download_allowed_ports)}).")
    host = parsed.hostname
    if host in opts.web_download_denied_hosts:
        raise exceptions.Forbidden(f"web-download may not fetch from {host}.")
    if opts.web_download_allowed_hosts and host not in opts.web_download_allowed_hosts:
        raise exceptions.Forbidden(f"web-download fetches only from {', '.join(opts.web_download_allowed_hosts)}.")
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError):
        raise exceptions.BadRequest(f"web-download cannot resolve {host}.") from None
    if opts.web_download_allow_internal:
        return
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_multicast or ip.is_unspecified:
            raise exceptions.Forbidden(
                f"web-download may not fetch from {host} ({ip}): loopback, link-local (metadata) and private "
                "addresses are refused unless [image] web_download_allow_internal is set.")


def start_import(core: ImageCore, ctx: RequestContext, image_id: str, body: Any) -> str:
    method = body.get("method") if isinstance(body, dict) else None
    if not isinstance(method, dict) or method.get("name") not in ("glance-direct", "web-download"):
        raise exceptions.BadRequest("The body needs method.name: glance-direct or web-download.")
    name = method["name"]
    if name not in core.conf.image.enabled_import_methods:
        raise exceptions.BadRequest(f"Import method {name} is not enabled.")
    task_id = types.new_uuid()
    if name == "web-download":
        url = method.get("uri")
        if not isinstance(url, str):
            raise exceptions.BadRequest("web-download needs method.uri.")
        check_url(core, url)
        allowed, _ = core.begin_write(ctx, image_id, ("queued",), "importing", None)
        work = _web_download(core, url)
    else:
        allowed, _ = core.begin_write(ctx, image_id, ("uploading",), "importing", None)
        if not core.staging.exists(image_id):
            raise exceptions.Conflict(f"Image {image_id} has no staged data: PUT it to /v2/images/{image_id}/stage.")
        work = core.staging.open(image_id)
    with core.db.writer() as s:
        records.set_property(s, image_id, TASK_PROPERTY, task_id)
        records.set_property(s, image_id, FAILED_PROPERTY, None)
    # The import logs under the id of the request that started it.
    nubis_context.spawn(_run, core, image_id, work, allowed, name, name=f"import-{image_id}")
    return task_id


def _web_download(core: ImageCore, url: str) -> Iterator[bytes]:
    # No redirects: a redirect could point at an address check_url refuses.
    resp = requests.get(url, stream=True, timeout=60, allow_redirects=False)
    if resp.status_code != 200:
        resp.close()
        raise exceptions.BadRequest(f"web-download got HTTP {resp.status_code} from {url}")
    try:
        yield from resp.iter_content(chunk_size=64 * 1024)
    finally:
        resp.close()


def _run(core: ImageCore, image_id: str, chunks: Iterator[bytes], allowed: int, method: str) -> None:
    try:
        core.write_data(image_id, data.chunk_filler(chunks), allowed)
        LOG.info("image %s imported with %s", image_id, method)
    except Exception as exc:  # the thread's end: record the failure on the image
        LOG.warning("import of image %s with %s failed: %s", image_id, method, exc)
        with core.db.writer() as s:
            records.set_property(s, image_id, FAILED_PROPERTY, f"{method}: {exc}"[:255])
    finally:
        core.staging.delete(image_id)
        with core.db.writer() as s:
            records.set_property(s, image_id, TASK_PROPERTY, None)
