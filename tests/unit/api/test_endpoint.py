"""URLs an API emits name its public endpoint, whatever Host header the caller sent."""

from __future__ import annotations

import socket

import pytest
import webob

from nubis.api import endpoint


def _echo(environ, start_response):  # type: ignore[no-untyped-def]
    req = webob.Request(environ)
    return webob.Response(json={"host_url": req.host_url, "application_url": req.application_url,
                                "path_url": req.path_url, "path_info": req.path_info})(environ, start_response)


@pytest.mark.parametrize(("public", "expected"), [
    ("http://cloud.example:8774", ("http://cloud.example:8774", "http://cloud.example:8774")),
    ("https://cloud.example/compute/", ("https://cloud.example", "https://cloud.example/compute")),
    ("http://[2001:db8::1]:5000", ("http://[2001:db8::1]:5000", "http://[2001:db8::1]:5000")),
])
def test_environ_says_the_public_endpoint(public, expected) -> None:  # type: ignore[no-untyped-def]
    app = endpoint.PublicEndpointMiddleware(_echo, public)
    req = webob.Request.blank("/v2.1/servers?x=1", headers={"Host": "evil.example"})
    body = req.get_response(app).json
    assert (body["host_url"], body["application_url"]) == expected
    assert body["path_url"] == expected[1] + "/v2.1/servers" and body["path_info"] == "/v2.1/servers"


def test_bad_public_endpoint_and_the_default() -> None:
    with pytest.raises(ValueError, match="not an http"):
        endpoint.PublicEndpointMiddleware(_echo, "cloud.example:8774")
    assert endpoint.default_endpoint("192.0.2.1", 8774) == "http://192.0.2.1:8774"
    assert endpoint.default_endpoint("::1", 5000) == "http://[::1]:5000"
    assert endpoint.default_endpoint("0.0.0.0", 9696) == f"http://{socket.getfqdn()}:9696"
