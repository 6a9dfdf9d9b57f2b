"""Image v2 handlers: parse, validate, authorize (``access``), one core call, shape the response."""

from __future__ import annotations

import functools
import json
import urllib.parse
from typing import Any

import webob

from nubis.api import body, router, validation
from nubis.common import exceptions
from nubis.image.api import access, metadefs, schemas
from nubis.image.api.access import authorize, authorize_on_image
from nubis.image.core import fields, imports, patch
from nubis.image.core.facade import ImageCore

VERSIONS = ["2.16", "2.15", "2.14", "2.13", "2.12", "2.11", "2.10", "2.9", "2.8", "2.7", "2.6", "2.5", "2.4", "2.3",
            "2.2", "2.1", "2.0"]


def core(req: router.Request) -> ImageCore:
    return access.core(req)


def _versions_body(req: router.Request) -> dict[str, Any]:
    base = req.host_url + (req.script_name or "")
    return {"versions": [{"id": f"v{v}", "status": "CURRENT" if i == 0 else "SUPPORTED",
                          "links": [{"rel": "self", "href": f"{base}/v2/"}]} for i, v in enumerate(VERSIONS)]}


@router.public
def versions_root(req: router.Request) -> webob.Response:
    return router.json_response(_versions_body(req), status=300)


@router.public
def versions(req: router.Request) -> webob.Response:
    return router.json_response(_versions_body(req))


def _import_headers(req: router.Request) -> dict[str, str]:
    return {"OpenStack-image-import-methods": ",".join(core(req).conf.image.enabled_import_methods),
            "OpenStack-image-store-ids": "file"}


# -- images ---------------------------------------------------------------------------------------

def _validate_fields(image: dict[str, Any]) -> None:
    """``image`` (a create body, or one patched attribute) against the image schema; 400 naming the field."""
    validation.validate(image, fields.WRITE_SCHEMA)
    fields.check_stored_values(image)


def create_image(req: router.Request) -> webob.Response:
    body = req.json_body()
    if not isinstance(body, dict):
        raise exceptions.BadRequest("The request body must be a JSON object of image attributes.")
    _validate_fields(body)
    access.authorize_create(req, body)
    image = core(req).create(req.context, body)
    return router.json_response(image, status=201, headers={"Location": f"{req.host_url}/v2/images/{image['id']}",
                                                              **_import_headers(req)})


def list_images(req: router.Request) -> webob.Response:
    if req.path_info.endswith("/"):
        raise exceptions.NotFound("No image found with ID ''")  # GET /v2/images/: an empty id, as Glance answers
    authorize(req, "get_images")
    params = {k: v for k, v in req.GET.items() if k not in ("tag", "sort_key", "sort_dir")}
    page = core(req).list_images(req.context, params, req.GET.getall("tag"), req.GET.getall("sort_key"),
                                 req.GET.getall("sort_dir"))
    out: dict[str, Any] = {"images": page.images, "first": "/v2/images", "schema": "/v2/schemas/images"}
    if page.next_marker:
        query = [(k, v) for k, v in req.GET.items() if k != "marker"] + [("marker", page.next_marker)]
        out["next"] = "/v2/images?" + urllib.parse.urlencode(query)
    return router.json_response(out)


def get_image(req: router.Request, image_id: str) -> webob.Response:
    authorize(req, "get_images")
    return router.json_response(core(req).show(req.context, image_id), headers=_import_headers(req))


def image_tasks(req: router.Request, image_id: str) -> webob.Response:
    """``GET /v2/images/{id}/tasks`` (image API 2.12): the live tasks that made the image or imported data
    into it (``import`` tasks, interoperable imports); 404 for an image the caller cannot see."""
    authorize(req, "get_image_tasks")
    core(req).show(req.context, image_id)
    return router.json_response({"tasks": core(req).tasks.for_image(req.context, image_id)})


def update_image(req: router.Request, image_id: str) -> webob.Response:
    if req.content_type not in patch.MEDIA_TYPES:
        raise exceptions.UnsupportedMediaType(
            f"Image PATCH expects Content-Type one of: {', '.join(patch.MEDIA_TYPES)}",
            headers={"Accept-Patch": ", ".join(patch.MEDIA_TYPES)})
    changes = patch.parse(req.json_body(allowed_types=patch.MEDIA_TYPES), req.content_type)
    for change in changes:
        if change.op != "remove":
            _validate_fields({change.name: change.value})
    owner = authorize_on_image(req, "modify_image", image_id)
    access.authorize_changes(req, owner, changes)
    return router.json_response(core(req).update(req.context, image_id, changes))


def delete_image(req: router.Request, image_id: str) -> webob.Response:
    authorize_on_image(req, "modify_image", image_id)
    core(req).delete(req.context, image_id)
    return router.empty_response()


def deactivate(req: router.Request, image_id: str) -> webob.Response:
    authorize_on_image(req, "deactivate", image_id)
    core(req).set_active(req.context, image_id, False)
    return router.empty_response()


def reactivate(req: router.Request, image_id: str) -> webob.Response:
    authorize_on_image(req, "reactivate", image_id)
    core(req).set_active(req.context, image_id, True)
    return router.empty_response()


def add_tag(req: router.Request, image_id: str, tag: str) -> webob.Response:
    _validate_fields({"tags": [tag]})
    authorize_on_image(req, "modify_image", image_id)
    core(req).tag(req.context, image_id, tag, add=True)
    return router.empty_response()


def delete_tag(req: router.Request, image_id: str, tag: str) -> webob.Response:
    if fields.path_names_nothing(tag, fields.MAX_NAME):
        raise exceptions.NotFound(f"Tag {tag} not found on image {image_id}")
    authorize_on_image(req, "modify_image", image_id)
    core(req).tag(req.context, image_id, tag, add=False)
    return router.empty_response()


# -- data ------------------------------------------------------------------------------------------

def _stream_args(req: router.Request) -> tuple[Any, int | None]:
    if req.content_type and req.content_type != "application/octet-stream":
        raise exceptions.UnsupportedMediaType(
            f"Image data must be sent as application/octet-stream, not {req.content_type}.")
    length = req.environ.get("CONTENT_LENGTH")
    if length not in (None, "") and not (length.isascii() and length.isdigit()):
        raise exceptions.BadRequest(f"Invalid Content-Length {length[:40]!r}")
    return body.input_stream(req.environ), int(length) if length not in (None, "") else None


def upload(req: router.Request, image_id: str) -> webob.Response:
    stream, length = _stream_args(req)
    authorize_on_image(req, "modify_image", image_id)
    core(req).upload(req.context, image_id, stream, length, req.headers.get("Content-MD5"))
    return router.empty_response()


def download(req: router.Request, image_id: str) -> webob.Response:
    authorize_on_image(req, "get_images", image_id)
    result = core(req).download(req.context, image_id, req.headers.get("Range"))
    if result["empty"]:
        return router.empty_response()
    resp = webob.Response(status=206 if result["range"] else 200, content_type="application/octet-stream")
    resp.app_iter = result["chunks"]
    if result["range"]:
        offset, length = result["range"]
        resp.content_length = length
        resp.headers["Content-Range"] = f"bytes {offset}-{offset + length - 1}/{result['size']}"
    else:
        resp.content_length = result["size"]
        resp.headers["Content-MD5"] = result["checksum"]
    return resp


def stage(req: router.Request, image_id: str) -> webob.Response:
    stream, length = _stream_args(req)
    authorize_on_image(req, "modify_image", image_id)
    imports.stage(core(req), req.context, image_id, stream, length)
    return router.empty_response()


def import_image(req: router.Request, image_id: str) -> webob.Response:
    authorize_on_image(req, "modify_image", image_id)
    imports.start_import(core(req), req.context, image_id, req.json_body())
    return router.empty_response(202)


def import_info(req: router.Request) -> webob.Response:
    return router.json_response({"import-methods": {
        "description": "Import methods available.", "type": "array",
        "value": list(core(req).conf.image.enabled_import_methods)}})


def stores_info(req: router.Request) -> webob.Response:
    return router.json_response({"stores": [{"id": "file", "default": True,
                                             "description": "Filesystem store on the image service's host"}]})


# -- tasks (Glance's /v2/tasks: admin-only by default, the tasks_api_access rule) ---------------------------

def create_task(req: router.Request) -> webob.Response:
    """``POST /v2/tasks``: an ``import`` task (see ``imports.create_task``); 201 with the pending task."""
    authorize(req, "tasks_api_access")
    body = req.json_body()
    validation.validate(body, schemas.TASK_CREATE)
    properties = body["input"]["image_properties"]
    try:
        _validate_fields(properties)
    except exceptions.BadRequest as exc:
        raise exceptions.BadRequest(f"Invalid input.image_properties: {exc.message}") from None
    access.authorize_create(req, properties)  # the image the task makes: the rules of creating it
    task = imports.create_task(core(req), req.context, body["input"])
    return router.json_response(task, status=201, headers={"Location": f"{req.host_url}/v2/tasks/{task['id']}"})


def list_tasks(req: router.Request) -> webob.Response:
    """``GET /v2/tasks``: the live tasks the caller may see, as stubs (no ``input``, ``result``, ``message``)."""
    authorize(req, "tasks_api_access")
    params = dict(req.GET.items())
    page = core(req).tasks.list_tasks(req.context, params)
    out: dict[str, Any] = {"tasks": page.tasks, "first": "/v2/tasks", "schema": "/v2/schemas/tasks"}
    query = [(k, v) for k, v in req.GET.items() if k != "marker"]
    if query:
        out["first"] += "?" + urllib.parse.urlencode(query)
    if page.next_marker:
        out["next"] = "/v2/tasks?" + urllib.parse.urlencode(query + [("marker", page.next_marker)])
    return router.json_response(out)


def get_task(req: router.Request, task_id: str) -> webob.Response:
    """``GET /v2/tasks/{id}``: one live task in full; 404 for an unknown, expired or another project's task."""
    authorize(req, "tasks_api_access")
    if fields.path_names_nothing(task_id, fields.MAX_ID):
        raise exceptions.NotFound(f"Failed to find task {task_id}")
    return router.json_response(core(req).tasks.get(req.context, task_id))


# -- the image cache of this node (/v2/cache, image API 2.14; admin-only by default) -------------------------

CACHE_CLEAR_TARGETS = ("cache", "queue", "both")


def cache_list(req: router.Request) -> webob.Response:
    """``GET /v2/cache``: this node's cached images (with hits and times) and queued image ids."""
    authorize(req, "cache_list")
    return router.json_response(core(req).cache_state())


def cache_queue(req: router.Request, image_id: str) -> webob.Response:
    """``PUT /v2/cache/{id}``: queue an active image for caching here; 202 (404 unknown, 400 not active)."""
    authorize_on_image(req, "cache_image", image_id)
    core(req).cache_queue(req.context, image_id)
    return router.empty_response(202)


def cache_delete(req: router.Request, image_id: str) -> webob.Response:
    """``DELETE /v2/cache/{id}``: drop an image from this node's cache and queue; 204."""
    authorize(req, "cache_delete")
    core(req).cache_delete(req.context, image_id)
    return router.empty_response()


def cache_clear(req: router.Request) -> webob.Response:
    """``DELETE /v2/cache``: the ``x-image-cache-clear-target`` header says what: ``cache``, ``queue`` or
    ``both`` (the default, also for an empty header)."""
    target = (req.headers.get("x-image-cache-clear-target") or "both").strip().lower() or "both"
    if target not in CACHE_CLEAR_TARGETS:
        raise exceptions.BadRequest(f"Invalid x-image-cache-clear-target {target[:40]!r}: use cache, queue or both "
                                    "(or leave it out for both).")
    authorize(req, "cache_delete")
    core(req).cache_clear(target)
    return router.empty_response()


# -- members ---------------------------------------------------------------------------------------------

def list_members(req: router.Request, image_id: str) -> webob.Response:
    return router.json_response({"members": core(req).list_members(req.context, image_id),
                                 "schema": "/v2/schemas/members"})


def add_member(req: router.Request, image_id: str) -> webob.Response:
    body = req.json_body()
    if not isinstance(body, dict) or "member" not in body:
        raise exceptions.BadRequest("The body must be {\"member\": \"<project id>\"}.")
    member = body["member"]
    if not isinstance(member, str) or not member or fields.path_names_nothing(member, fields.MAX_NAME):
        raise exceptions.BadRequest(f"Invalid member {json.dumps(member)[:300]}: a project id of 1 to "
                                    f"{fields.MAX_NAME} printable characters.")
    authorize_on_image(req, "manage_members", image_id)
    return router.json_response(core(req).add_member(req.context, image_id, member))


def get_member(req: router.Request, image_id: str, member_id: str) -> webob.Response:
    return router.json_response(core(req).get_member(req.context, image_id, member_id))


def update_member(req: router.Request, image_id: str, member_id: str) -> webob.Response:
    body = req.json_body()
    if not isinstance(body, dict) or "status" not in body:
        raise exceptions.BadRequest("The body must be {\"status\": \"accepted|rejected|pending\"}.")
    authorize_on_image(req, "update_member", image_id, member=member_id)
    return router.json_response(core(req).update_member(req.context, image_id, member_id, body["status"]))


def delete_member(req: router.Request, image_id: str, member_id: str) -> webob.Response:
    authorize_on_image(req, "manage_members", image_id)
    core(req).remove_member(req.context, image_id, member_id)
    return router.empty_response()


# -- schemas ---------------------------------------------------------------------------------------------

def schema_handler(builder: Any) -> Any:
    def handler(req: router.Request) -> webob.Response:
        return router.json_response(builder())
    return handler


def _named_by_path(handler: router.Handler) -> router.Handler:
    """404 before any lookup for an image or member id in the path that no stored row can have: longer than its
    column, or with control characters (which some databases cannot even compare)."""
    @functools.wraps(handler)
    def checked(req: router.Request, **params: str) -> webob.Response:
        image_id, member_id = params.get("image_id"), params.get("member_id")
        if image_id is not None and fields.path_names_nothing(image_id, fields.MAX_ID):
            raise exceptions.NotFound(f"No image found with ID {image_id}")
        if member_id is not None and fields.path_names_nothing(member_id, fields.MAX_NAME):
            raise exceptions.NotFound(f"Project {member_id} is not a member of image {image_id}")
        return handler(req, **params)
    return checked


_ROUTES: router.RouteTable = {
    "/": {"GET": versions_root},
    "/versions": {"GET": versions},
    "/v2/images": {"GET": list_images, "POST": create_image},
    "/v2/images/{image_id}": {"GET": get_image, "PATCH": update_image, "DELETE": delete_image},
    "/v2/images/{image_id}/file": {"PUT": upload, "GET": download},
    "/v2/images/{image_id}/tasks": {"GET": image_tasks},
    "/v2/images/{image_id}/stage": {"PUT": stage},
    "/v2/images/{image_id}/import": {"POST": import_image},
    "/v2/images/{image_id}/actions/deactivate": {"POST": deactivate},
    "/v2/images/{image_id}/actions/reactivate": {"POST": reactivate},
    "/v2/images/{image_id}/tags/{tag}": {"PUT": add_tag, "DELETE": delete_tag},
    "/v2/images/{image_id}/members": {"GET": list_members, "POST": add_member},
    "/v2/images/{image_id}/members/{member_id}": {"GET": get_member, "PUT": update_member, "DELETE": delete_member},
    "/v2/tasks": {"GET": list_tasks, "POST": create_task},
    "/v2/tasks/{task_id}": {"GET": get_task},
    "/v2/cache": {"GET": cache_list, "DELETE": cache_clear},
    "/v2/cache/{image_id}": {"PUT": cache_queue, "DELETE": cache_delete},
    "/v2/info/import": {"GET": import_info},
    "/v2/info/stores": {"GET": stores_info},
    "/v2/schemas/image": {"GET": schema_handler(schemas.image_schema)},
    "/v2/schemas/images": {"GET": schema_handler(schemas.images_schema)},
    "/v2/schemas/member": {"GET": schema_handler(schemas.member_schema)},
    "/v2/schemas/members": {"GET": schema_handler(schemas.members_schema)},
    "/v2/schemas/task": {"GET": schema_handler(schemas.task_schema)},
    "/v2/schemas/tasks": {"GET": schema_handler(schemas.tasks_schema)},
    **metadefs.ROUTES,
}
ROUTES: router.RouteTable = {path: {method: access.with_admin_context(_named_by_path(fn) if "{image_id}" in path else fn)
                                    for method, fn in methods.items()} for path, methods in _ROUTES.items()}
