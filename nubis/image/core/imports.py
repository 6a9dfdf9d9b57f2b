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
TASK_PROPERTY = records.IMPORT_TASK_PROPERTY
FAILED_PROPERTY = records.FAILED_IMPORT_PROPERTY
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
    """Refuse URLs web-download must not fetch (loopback, metadata, private nets) unless configured.

    :raises BadRequest: not an http(s) URL, or its host cannot be resolved.
    :raises Forbidden: a port, host or address the ``[image] web_download_*`` options refuse.
    """
    check_url_form(core, url)
    check_url_addresses(core, url)


def _port(url: str) -> tuple[str, int]:
    parsed = urllib.parse.urlparse(url)
    try:
        return str(parsed.hostname), parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError:
        raise exceptions.BadRequest(f"web-download needs a valid port in {url!r}") from None


def check_url_form(core: ImageCore, url: str) -> None:
    """What can be said of a URL without resolving it: an http(s) URL of an allowed host and port.

    :raises BadRequest: not an http(s) URL of at most ``MAX_URI`` characters, or a bad port.
    :raises Forbidden: a port or host the ``[image] web_download_*`` options refuse.
    """
    if len(url) > MAX_URI or fields.has_control_chars(url) or " " in url:
        raise exceptions.BadRequest(f"Invalid method.uri: a URL of at most {MAX_URI} characters without spaces or "
                                    "control characters.")
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise exceptions.BadRequest(f"web-download needs an http or https URL, not {url!r}")
    opts = core.conf.image
    host, port = _port(url)
    if opts.web_download_allowed_ports and str(port) not in opts.web_download_allowed_ports:
        raise exceptions.Forbidden(f"web-download may not fetch from port {port} (allowed: "
                                   f"{', '.join(opts.web_download_allowed_ports)}).")
    if host in opts.web_download_denied_hosts:
        raise exceptions.Forbidden(f"web-download may not fetch from {host}.")
    if opts.web_download_allowed_hosts and host not in opts.web_download_allowed_hosts:
        raise exceptions.Forbidden(f"web-download fetches only from {', '.join(opts.web_download_allowed_hosts)}.")


def check_url_addresses(core: ImageCore, url: str) -> None:
    """Resolve the URL's host: every address must be one web-download may reach.

    :raises BadRequest: the host cannot be resolved.
    :raises Forbidden: an address is loopback, link-local, private, multicast or unspecified (unless
        ``[image] web_download_allow_internal``).
    """
    host, port = _port(url)
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError):
        raise exceptions.BadRequest(f"web-download cannot resolve {host}.") from None
    if core.conf.image.web_download_allow_internal:
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
        work = web_download(url)
    else:
        allowed, _ = core.begin_write(ctx, image_id, ("uploading",), "importing", None)
        if not core.staging.exists(image_id):
            raise exceptions.Conflict(f"Image {image_id} has no staged data: PUT it to /v2/images/{image_id}/stage.")
        work = core.staging.open(image_id)
    with core.db.writer() as s:
        records.set_property(s, image_id, TASK_PROPERTY, task_id)
        records.set_property(s, image_id, FAILED_PROPERTY, None)
    # The import is a task of the image, as Glance's (GET /v2/images/{id}/tasks, image API 2.12).
    core.tasks.add(ctx, "api_image_import", {"image_id": image_id, "import_req": body, "backend": ["file"]},
                   status="processing", image_id=image_id, task_id=task_id)
    # The import logs under the id of the request that started it.
    nubis_context.spawn(_run, core, image_id, work, allowed, name, task_id, name=f"import-{image_id}")
    return task_id


def web_download(url: str) -> Iterator[bytes]:
    """The body of ``url`` in chunks (a URL ``check_url`` accepted); no redirects, since a redirect could
    point at an address ``check_url`` refuses.

    :raises BadRequest: the host cannot be reached, or answers other than 200 (the message says which).
    """
    try:
        resp = requests.get(url, stream=True, timeout=60, allow_redirects=False)
    except requests.RequestException as exc:
        raise exceptions.BadRequest(f"web-download cannot reach {url}: {_reason(exc)}") from None
    if resp.status_code != 200:
        resp.close()
        raise exceptions.BadRequest(f"web-download got HTTP {resp.status_code} from {url}")
    try:
        yield from resp.iter_content(chunk_size=64 * 1024)
    except requests.RequestException as exc:
        raise exceptions.BadRequest(f"web-download lost {url} while reading it: {_reason(exc)}") from None
    finally:
        resp.close()


def _reason(exc: requests.RequestException) -> str:
    """The innermost cause of a requests failure (``[Errno 111] Connection refused``), not its wrappers."""
    cause: BaseException = exc
    while cause.__context__ is not None and cause.__context__ is not cause:
        cause = cause.__context__
    text = str(cause) or type(cause).__name__
    return text.rpartition(": ")[2] if "Errno" in text else text[:300]


def _run(core: ImageCore, image_id: str, chunks: Iterator[bytes], allowed: int, method: str, task_id: str) -> None:
    try:
        core.write_data(image_id, data.chunk_filler(chunks), allowed)
        LOG.info("image %s imported with %s", image_id, method)
        core.tasks.set_status(task_id, "success", message="")
    except Exception as exc:  # the thread's end: record the failure on the image
        LOG.warning("import of image %s with %s failed: %s", image_id, method, exc)
        with core.db.writer() as s:
            records.set_property(s, image_id, FAILED_PROPERTY, f"{method}: {exc}"[:255])
        core.tasks.set_status(task_id, "failure", message=f"{method}: {exc}")
    finally:
        core.staging.delete(image_id)
        with core.db.writer() as s:
            records.set_property(s, image_id, TASK_PROPERTY, None)


# -- legacy import tasks (POST /v2/tasks) ----------------------------------------------------------------

def create_task(core: ImageCore, ctx: RequestContext, task_input: dict[str, Any]) -> dict[str, Any]:
    """Record a legacy ``import`` task (``input``: ``import_from``, ``import_from_format``,
    ``image_properties``, checked by the handler) and run it in the background: the image is created from
    ``image_properties`` (disk_format defaulting to ``import_from_format``, container_format to ``bare``) and
    filled from ``import_from`` by web-download. The task's ``result`` is then ``{"image_id": ...}``, or its
    ``message`` says why it failed. Returns the new task (``pending``).

    :raises BadRequest: ``import_from`` is no URL web-download may fetch, or ``image_properties`` names a
        read-only or reserved attribute.
    """
    url = task_input["import_from"]
    try:
        check_url_form(core, url)
        core.check_custom_names(task_input["image_properties"])
    except exceptions.Forbidden as exc:  # Glance: a task input that does not pass the filters is invalid
        raise exceptions.BadRequest(f"Invalid task input: {exc.message}") from None
    task = core.tasks.add(ctx, "import", task_input)
    nubis_context.spawn(_run_task, core, ctx, task["id"], task_input, name=f"task-{task['id']}")
    return task


def _run_task(core: ImageCore, ctx: RequestContext, task_id: str, task_input: dict[str, Any]) -> None:
    core.tasks.set_status(task_id, "processing")
    image_id = None
    try:
        url = task_input["import_from"]
        check_url_addresses(core, url)
        properties = {"disk_format": task_input["import_from_format"], "container_format": "bare",
                      **task_input["image_properties"]}
        image_id = core.create(ctx, properties)["id"]
        core.tasks.set_status(task_id, "processing", image_id=image_id)
        allowed, _ = core.begin_write(ctx, image_id, ("queued",), "saving", None)
        core.write_data(image_id, data.chunk_filler(web_download(url)), allowed)
    except Exception as exc:  # the thread's end: the task says why
        message = exc.message if isinstance(exc, exceptions.NubisError) else f"{type(exc).__name__}: {exc}"
        LOG.warning("task %s (import from %s) failed: %s", task_id, task_input.get("import_from"), message)
        core.tasks.set_status(task_id, "failure", message=message)
        return
    LOG.info("task %s imported image %s from %s", task_id, image_id, task_input["import_from"])
    core.tasks.set_status(task_id, "success", result={"image_id": image_id})
