"""``/v3/{project_id}/qos-specs``: Cinder's QoS specs and their volume type associations (admins only)."""

from __future__ import annotations

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.volume.api.common import authorize, body_of, context, core, is_true
from nubis.volume.api.schemas import qos_specs as schemas
from nubis.volume.api.views import qos_specs as views


def _type_id(req: router.Request) -> str:
    """The ``vol_type_id`` query parameter associate and disassociate need (400 without it)."""
    type_id = req.GET.get("vol_type_id", "").strip()
    if not type_id:
        raise exceptions.BadRequest("Invalid input: the vol_type_id query parameter names the volume type.")
    if len(type_id) > 255:
        raise exceptions.BadRequest("Invalid input: vol_type_id is longer than 255 characters.")
    return type_id


def _detail(req: router.Request, q: dict[str, object]) -> webob.Response:
    return router.json_response(views.detail(q, req.application_url, str(context(req).project_id)))


def index(req: router.Request) -> webob.Response:
    authorize(req, "volume_extension:qos_specs_manage:get_all")
    return router.json_response({"qos_specs": [views.summary(q) for q in core(req).qos_specs.list()]})


def create(req: router.Request) -> webob.Response:
    authorize(req, "volume_extension:qos_specs_manage:create")
    body = body_of(req)
    validation.validate(body, schemas.CREATE)
    spec = dict(body["qos_specs"])
    name = spec.pop("name").strip()
    consumer = spec.pop("consumer", "back-end")
    return _detail(req, core(req).qos_specs.create(name, consumer, schemas.as_specs(spec)))


def show(req: router.Request, qos_id: str) -> webob.Response:
    authorize(req, "volume_extension:qos_specs_manage:get")
    return _detail(req, core(req).qos_specs.get(qos_id))


def update(req: router.Request, qos_id: str) -> webob.Response:
    """``PUT``: add or change keys (the consumer too); the answer is the keys as sent."""
    authorize(req, "volume_extension:qos_specs_manage:update")
    body = body_of(req)
    validation.validate(body, schemas.SET_KEYS)
    spec = dict(body["qos_specs"])
    if "name" in spec:
        raise exceptions.BadRequest("Invalid input for field/attribute qos_specs/name: QoS specs cannot be "
                                    "renamed.")
    consumer = spec.pop("consumer", None)
    specs = schemas.as_specs(spec)
    core(req).qos_specs.set_keys(qos_id, specs, consumer)
    return router.json_response({"qos_specs": {**specs, **({"consumer": consumer} if consumer else {})}})


def delete(req: router.Request, qos_id: str) -> webob.Response:
    authorize(req, "volume_extension:qos_specs_manage:delete")
    core(req).qos_specs.delete(qos_id, force=is_true(req.GET.get("force")))
    return router.empty_response(202)


def delete_keys(req: router.Request, qos_id: str) -> webob.Response:
    authorize(req, "volume_extension:qos_specs_manage:delete")
    body = body_of(req)
    validation.validate(body, schemas.DELETE_KEYS)
    core(req).qos_specs.delete_keys(qos_id, body["keys"])
    return router.empty_response(202)


def associations(req: router.Request, qos_id: str) -> webob.Response:
    authorize(req, "volume_extension:qos_specs_manage:get_all")
    return router.json_response({"qos_associations": core(req).qos_specs.associations(qos_id)})


def associate(req: router.Request, qos_id: str) -> webob.Response:
    authorize(req, "volume_extension:qos_specs_manage:update")
    core(req).qos_specs.associate(qos_id, _type_id(req))
    return router.empty_response(202)


def disassociate(req: router.Request, qos_id: str) -> webob.Response:
    authorize(req, "volume_extension:qos_specs_manage:update")
    core(req).qos_specs.disassociate(qos_id, _type_id(req))
    return router.empty_response(202)


def disassociate_all(req: router.Request, qos_id: str) -> webob.Response:
    authorize(req, "volume_extension:qos_specs_manage:update")
    core(req).qos_specs.disassociate_all(qos_id)
    return router.empty_response(202)


def routes(prefix: str) -> router.RouteTable:
    item = f"{prefix}/qos-specs/{{qos_id}}"
    return {
        f"{prefix}/qos-specs": {"GET": index, "POST": create},
        item: {"GET": show, "PUT": update, "DELETE": delete},
        f"{item}/delete_keys": {"PUT": delete_keys},
        f"{item}/associations": {"GET": associations},
        f"{item}/associate": {"GET": associate},
        f"{item}/disassociate": {"GET": disassociate},
        f"{item}/disassociate_all": {"GET": disassociate_all},
    }
