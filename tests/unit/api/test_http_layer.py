"""Request ids, faults, microversions, validation, limits, health and metrics."""

from __future__ import annotations

import json

import pytest
import webob
from oslo_config import cfg

from nubis.api import deploy, faults, request_id
from nubis.common import context
from tests import fixtures
from tests.unit.api import sample_app

USER = {"X-User-Id": "u1", "X-Project-Id": "p1", "X-Roles": "member"}


@pytest.fixture
def app(conf: cfg.ConfigOpts):  # type: ignore[no-untyped-def]
    conf.set_override("auth_strategy", "noauth", group="api")
    return sample_app.build(conf)


def call(app, path: str, method: str = "GET", headers=None, body: bytes | None = None,  # type: ignore[no-untyped-def]
         remote_addr: str = "127.0.0.1") -> webob.Response:
    req = webob.Request.blank(path, method=method, headers=headers or {}, environ={"REMOTE_ADDR": remote_addr})
    if body is not None:
        req.body = body
        req.content_type = "application/json"
    return req.get_response(app)


def test_request_id_generated_and_valid_inbound_kept(app) -> None:  # type: ignore[no-untyped-def]
    generated = call(app, "/").headers["x-openstack-request-id"]
    assert request_id.is_valid(generated)
    inbound = "req-12345678-1234-1234-1234-123456789abc"
    kept = call(app, "/", headers={"X-OpenStack-Request-ID": inbound}).headers["x-openstack-request-id"]
    assert kept == inbound
    forged = call(app, "/", headers={"X-OpenStack-Request-ID": "<script>"}).headers["x-openstack-request-id"]
    assert forged != "<script>" and request_id.is_valid(forged)


def test_request_id_and_caller_on_log_lines(app, conf) -> None:  # type: ignore[no-untyped-def]
    context.clear_current()  # as a server thread is between requests
    with fixtures.log_lines(conf) as lines:
        resp = call(app, "/v1/things/abc", headers=USER)
    rid = resp.headers["x-openstack-request-id"]
    handler_lines = [line for line in lines if " tests.sample_app " in line]
    access = [line for line in lines if " nubis.api.access_log " in line]
    assert handler_lines and access
    # The handler logs before it reads req.context: the caller is current from auth on anyway.
    assert all(f"{rid} u1 p1 " in line for line in handler_lines + access), lines
    assert '"GET /v1/things/abc" status: 200' in access[0]
    # The serving thread is left with no context, so its next lines carry no stale id.
    assert context.current() is None


def test_lines_before_auth_carry_the_request_id(app, conf) -> None:  # type: ignore[no-untyped-def]
    with fixtures.log_lines(conf) as lines:
        resp = call(app, "/v1/things/abc")
    assert resp.status_int == 401
    access = [line for line in lines if " nubis.api.access_log " in line]
    assert access and resp.headers["x-openstack-request-id"] in access[0] and " status: 401 " in access[0]


def test_access_log_line_escapes_the_path(app, conf) -> None:  # type: ignore[no-untyped-def]
    """The path arrives percent-decoded; a newline in it stays inside the one access line."""
    with fixtures.log_lines(conf) as lines:
        call(app, "/v1/things/a%0Aforged%20line", headers=USER)
    access = [line for line in lines if " nubis.api.access_log " in line]
    assert len(access) == 1 and '"GET /v1/things/a\\nforged line" status: 200' in access[0]


def test_unexpected_error_is_500_without_traceback(app) -> None:  # type: ignore[no-untyped-def]
    resp = call(app, "/v1/things/boom", headers=USER)
    assert resp.status_int == 500
    body = resp.json
    assert set(body) == {"computeFault"}
    assert "hunter2" not in resp.text and "Traceback" not in resp.text
    assert resp.headers["x-openstack-request-id"] in body["computeFault"]["message"]


@pytest.mark.parametrize(
    ("formatter", "expected"),
    [
        (faults.compute_fault, {"itemNotFound": {"message": "Thing missing could not be found.", "code": 404}}),
        (faults.identity_fault, {"error": {"code": 404, "title": "Not Found", "message": "Thing missing could not be found."}}),
        (faults.network_fault, {"NeutronError": {"type": "ThingNotFound", "message": "Thing missing could not be found.", "detail": ""}}),
    ],
)
def test_fault_formats(conf, formatter, expected) -> None:  # type: ignore[no-untyped-def]
    conf.set_override("auth_strategy", "noauth", group="api")
    app = sample_app.build(conf, formatter)
    resp = call(app, "/v1/things/missing", headers=USER)
    assert resp.status_int == 404
    assert resp.content_type == "application/json"
    assert resp.json == expected


def test_placement_fault_format(conf) -> None:  # type: ignore[no-untyped-def]
    conf.set_override("auth_strategy", "noauth", group="api")
    app = sample_app.build(conf, faults.placement_fault)
    resp = call(app, "/v1/things/missing", headers=USER)
    (error,) = resp.json["errors"]
    assert error["status"] == 404 and error["code"] == "placement.undefined_code"
    assert error["request_id"] == resp.headers["x-openstack-request-id"]


def test_unknown_route_and_method(app) -> None:  # type: ignore[no-untyped-def]
    resp = call(app, "/v1/nothing", headers=USER)
    assert resp.status_int == 404 and "itemNotFound" in resp.json
    resp = call(app, "/v1/things/x", method="DELETE", headers=USER)
    assert resp.status_int == 405
    assert resp.headers["Allow"] == "GET"


def test_an_empty_id_is_not_found(app) -> None:  # type: ignore[no-untyped-def]
    """``DELETE /v1/things/`` names a thing with an empty id: 404 (as Glance and Nova answer), not the
    collection's 405; the collection's own methods still answer with the slash."""
    resp = call(app, "/v1/things/", method="DELETE", headers=USER)
    assert resp.status_int == 404 and "itemNotFound" in resp.json
    assert call(app, "/v1/things", method="DELETE", headers=USER).status_int == 405


def test_missing_token_is_401(app) -> None:  # type: ignore[no-untyped-def]
    resp = call(app, "/v1/things/abc")
    assert resp.status_int == 401
    assert resp.json["unauthorized"]["code"] == 401
    assert "WWW-Authenticate" in resp.headers
    assert call(app, "/").status_int == 200  # public route


def test_malformed_json_and_wrong_content_type(app) -> None:  # type: ignore[no-untyped-def]
    resp = call(app, "/v1/things", method="POST", headers=USER, body=b"{not json")
    assert resp.status_int == 400
    assert "Malformed JSON" in resp.json["badRequest"]["message"]
    req = webob.Request.blank("/v1/things", method="POST", headers=USER)
    req.body = b"name=x"
    req.content_type = "application/x-www-form-urlencoded"
    resp = req.get_response(app)
    assert resp.status_int == 415


def test_schema_errors_name_the_field(app) -> None:  # type: ignore[no-untyped-def]
    resp = call(app, "/v1/things", method="POST", headers=USER, body=json.dumps({"thing": {"name": ""}}).encode())
    assert resp.status_int == 400
    assert "thing/name" in resp.json["badRequest"]["message"]
    resp = call(app, "/v1/things", method="POST", headers=USER, body=json.dumps({"thing": {"name": "a", "color": 1}}).encode())
    assert resp.status_int == 400
    assert "'color' was unexpected" in resp.json["badRequest"]["message"]
    resp = call(app, "/v1/things", method="POST", headers=USER, body=json.dumps({"thing": {"name": "ok"}}).encode())
    assert resp.status_int == 201


def test_oversized_body_is_413(app) -> None:  # type: ignore[no-untyped-def]
    big = json.dumps({"thing": {"name": "x" * 200_000}}).encode()
    resp = call(app, "/v1/things", method="POST", headers=USER, body=big)
    assert resp.status_int == 413
    assert "overLimit" in resp.json


def test_chunked_oversized_body_is_413(app) -> None:  # type: ignore[no-untyped-def]
    import io

    req = webob.Request.blank("/v1/things", method="POST", headers=USER)
    req.environ["wsgi.input"] = io.BytesIO(b"[" + b"1," * 100_000 + b"1]")
    req.environ.pop("CONTENT_LENGTH", None)
    req.environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    req.environ["wsgi.input_terminated"] = True  # what cheroot sets for chunked bodies
    req.content_type = "application/json"
    req.is_body_seekable = False
    resp = req.get_response(app)
    assert resp.status_int == 413


@pytest.mark.parametrize(
    ("headers", "status", "served"),
    [
        ({}, 200, "2.1"),
        ({"OpenStack-API-Version": "compute 2.5"}, 200, "2.5"),
        ({"OpenStack-API-Version": "compute latest"}, 200, "2.10"),
        ({"X-OpenStack-Nova-API-Version": "2.3"}, 200, "2.3"),
        ({"OpenStack-API-Version": "compute 2.11"}, 406, None),
        ({"OpenStack-API-Version": "compute 1.0"}, 406, None),
        ({"OpenStack-API-Version": "compute two"}, 400, None),
        ({"OpenStack-API-Version": "identity 3.0"}, 200, "2.1"),  # another service's header is ignored
    ],
)
def test_microversion_negotiation(app, headers, status, served) -> None:  # type: ignore[no-untyped-def]
    resp = call(app, "/v1/things/abc", headers={**USER, **headers})
    assert resp.status_int == status
    if served:
        assert resp.headers["OpenStack-API-Version"] == f"compute {served}"
        assert resp.headers["X-OpenStack-Nova-API-Version"] == served
        assert "OpenStack-API-Version" in resp.headers["Vary"]
        assert ("added_in_2_5" in resp.json) == (served not in ("2.1", "2.3"))


def test_healthcheck_needs_no_token(app) -> None:  # type: ignore[no-untyped-def]
    resp = call(app, "/healthcheck")
    assert resp.status_int == 200
    assert resp.text.strip() == "OK"


def test_metrics_count_routes_and_statuses(app) -> None:  # type: ignore[no-untyped-def]
    call(app, "/v1/things/a", headers=USER)
    call(app, "/v1/things/b", headers=USER)
    call(app, "/v1/things/missing", headers=USER)
    text = call(app, "/metrics").text
    ok = 'nubis_http_requests_total{method="GET",route="/v1/things/{thing_id}",service="sample",status="200"} 2.0'
    missing = 'nubis_http_requests_total{method="GET",route="/v1/things/{thing_id}",service="sample",status="404"} 1.0'
    assert ok in text and missing in text
    assert 'nubis_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/v1/things/{thing_id}",service="sample"}' in text


@pytest.mark.parametrize("remote_addr", ["203.0.113.5", "::ffff:198.51.100.1", "2001:db8::1", ""])
def test_metrics_only_for_allowed_addresses(app, remote_addr) -> None:  # type: ignore[no-untyped-def]
    resp = call(app, "/metrics", remote_addr=remote_addr)
    assert resp.status_int == 403
    assert "metrics_allowed_cidrs" in resp.json["forbidden"]["message"]
    assert "nubis_http_requests" not in resp.text
    assert call(app, "/metrics", remote_addr="::1").status_int == 200


def test_metrics_allowed_cidrs_option(conf) -> None:  # type: ignore[no-untyped-def]
    conf.set_override("auth_strategy", "noauth", group="api")
    conf.set_override("metrics_allowed_cidrs", ["198.51.100.0/24"], group="api")
    app = sample_app.build(conf)
    assert call(app, "/metrics", remote_addr="::ffff:198.51.100.7").status_int == 200
    assert call(app, "/metrics", remote_addr="127.0.0.1").status_int == 403
    conf.set_override("metrics_allowed_cidrs", [], group="api")
    assert call(sample_app.build(conf), "/metrics", remote_addr="127.0.0.1").status_int == 403


def test_deeply_nested_json_is_400(app) -> None:  # type: ignore[no-untyped-def]
    for body in (b"[" * 50000 + b"]" * 50000, b'{"a":' * 65 + b"1" + b"}" * 65):
        resp = call(app, "/v1/things", "POST", USER, body)
        assert resp.status_int == 400, resp.text
        assert "64 levels" in resp.json["badRequest"]["message"]
    # Brackets inside strings are not nesting; 64 levels are fine.
    inside = json.dumps({"thing": {"name": "[[[[{{{{"}}).encode()
    assert call(app, "/v1/things", "POST", USER, inside).status_int == 201
    deep_ok = b'{"thing": {"name": "x"}, "extra": ' + b"[" * 62 + b"]" * 62 + b"}"
    resp = call(app, "/v1/things", "POST", USER, deep_ok)
    assert resp.status_int == 400 and "extra" in resp.text  # the schema's 400, past the depth check


def test_lone_surrogates_are_400(app) -> None:  # type: ignore[no-untyped-def]
    for body in (b'{"thing": {"name": "\\ud800"}}', b'{"thing": {"\\uDFFF": "x"}}', b'[["\\ud83d"]]'):
        resp = call(app, "/v1/things", "POST", USER, body)
        assert resp.status_int == 400, resp.text
        assert "lone surrogate" in resp.json["badRequest"]["message"]
    # A proper pair (an emoji) is a character like any other.
    pair = b'{"thing": {"name": "\\ud83d\\ude00"}}'
    assert call(app, "/v1/things", "POST", USER, pair).status_int == 201


@pytest.mark.parametrize("path", ["/v1/things/a?x=%ff", "/v1/things/a?%C3%28=1", "/v1/things/%ff", "/?x=%e2%82"])
def test_invalid_utf8_in_path_or_query_is_400(app, path) -> None:  # type: ignore[no-untyped-def]
    resp = call(app, path, headers=USER)
    assert resp.status_int == 400, resp.text
    assert "UTF-8" in resp.json["badRequest"]["message"]


def test_healthcheck_drain_file(app, conf) -> None:  # type: ignore[no-untyped-def]
    import os

    path = os.path.join(conf.state_path, "sample-healthcheck-disable")
    open(path, "w").close()
    assert call(app, "/healthcheck").status_int == 503
    os.unlink(path)
    assert call(app, "/healthcheck").status_int == 200


def test_healthcheck_drain_dir_of_one_copy(conf, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A copy given its own drain directory is drained by a file there, not by the state_path's."""
    conf.set_override("auth_strategy", "noauth", group="api")
    copy_dir = tmp_path / "copy-2"
    copy_dir.mkdir()
    conf.set_override("healthcheck_disable_dir", str(copy_dir), group="api")
    app = sample_app.build(conf)
    (copy_dir / "sample-healthcheck-disable").touch()
    assert call(app, "/healthcheck").status_int == 503
    (copy_dir / "sample-healthcheck-disable").unlink()
    open(f"{conf.state_path}/sample-healthcheck-disable", "w").close()
    assert call(app, "/healthcheck").status_int == 200


def test_two_apis_in_one_process_drain_apart(conf, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The all-in-one serves every API from one process: draining one must leave the others healthy."""
    conf.set_override("auth_strategy", "noauth", group="api")
    conf.set_override("healthcheck_disable_dir", str(tmp_path), group="api")
    sample = sample_app.build(conf)
    other = deploy.build_app(deploy.ApiSpec(name="other", routes=sample_app.ROUTES,
                                            fault_format=faults.compute_fault), conf, service=None)
    (tmp_path / "sample-healthcheck-disable").touch()
    assert call(sample, "/healthcheck").status_int == 503
    assert call(other, "/healthcheck").status_int == 200
