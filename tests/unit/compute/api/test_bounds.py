"""Bounds and encodings the compute API applies before any work."""

from __future__ import annotations

import pytest

from nubis.api import validation
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api import common, schemas
from nubis.compute.api.schemas import servers as server_schemas
from nubis.compute.api.views import links
from nubis.compute.core import extra_specs


@pytest.mark.parametrize(("value", "expected"), [(None, 1000), ("0", 0), ("25", 25), ("1000", 1000),
                                                 ("1001", 1000), ("9" * 5000, 1000), ("000007", 7)])
def test_page_limit_is_capped(value: str | None, expected: int) -> None:
    assert common.page_limit(value) == expected


@pytest.mark.parametrize("value", ["-1", "ten", "1.5", "", "١٢"])
def test_page_limit_must_be_digits(value: str) -> None:
    with pytest.raises(exceptions.BadRequest, match="limit"):
        common.page_limit(value)


@pytest.mark.parametrize(("value", "ok"), [(1, True), ("7", True), (2**31 - 1, True), (2**31, False), (-2, False),
                                           (True, False), (1.0, False), ("x", False), (None, False)])
def test_as_int_bounds(value: object, ok: bool) -> None:
    if ok:
        assert schemas.as_int(value, "cores", -1) == int(value)  # type: ignore[call-overload]
    else:
        with pytest.raises(exceptions.BadRequest, match="cores"):
            schemas.as_int(value, "cores", -1)


def test_server_create_keys_follow_the_microversion() -> None:
    for key, value, first in (("description", "d", "2.19"), ("tags", ["a"], "2.52"), ("hostname", "vm-1", "2.90"),
                              ("trusted_image_certificates", ["c"], "2.63"), ("host", "h1", "2.74")):
        # networks: a list before 2.37, and from 2.37 required ("none" allowed).
        server = {"name": "x", "flavorRef": "1", "networks": [] if first < "2.37" else "none"}
        before = Version.parse(first)._replace(minor=Version.parse(first).minor - 1)
        with pytest.raises(exceptions.BadRequest, match=key):
            validation.validate({"server": {**server, key: value}}, schemas.pick(server_schemas.CREATE, before))
        validation.validate({"server": {**server, key: value}},
                            schemas.pick(server_schemas.CREATE, Version.parse(first)))
    server = {"name": "x", "flavorRef": "1", "networks": "none"}
    with pytest.raises(exceptions.BadRequest, match="personality"):
        validation.validate({"server": {**server, "personality": []}},
                            schemas.pick(server_schemas.CREATE, Version(2, 57)))


@pytest.mark.parametrize(("key", "value"), [("hw:cpu_policy", "bogus"), ("hw:cpu_thread_policy", "often"),
                                            ("hw:mem_page_size", "big"), ("hw:numa_nodes", "-1"),
                                            ("hw:numa_cpus.0", "a-b"), ("hw:pmu", "maybe")])
def test_known_extra_specs_reject_bad_values(key: str, value: str) -> None:
    with pytest.raises(exceptions.BadRequest, match=key):
        extra_specs.check(key, value)


@pytest.mark.parametrize(("key", "value"), [("hw:cpu_policy", "dedicated"), ("hw:mem_page_size", "1GB"),
                                            ("hw:mem_page_size", "2048"), ("hw:pmu", "True"),
                                            ("hw:cpu_dedicated_mask", "^0-1"), ("trait:HW_CPU_X86_AVX", "required")])
def test_good_or_unknown_extra_specs_pass(key: str, value: str) -> None:
    extra_specs.check(key, value)


def test_links_encode_each_segment() -> None:
    shown = links.links("http://api:8774", "flavors", "a b/c?d")
    assert shown == [{"rel": "self", "href": "http://api:8774/v2.1/flavors/a%20b%2Fc%3Fd"},
                     {"rel": "bookmark", "href": "http://api:8774/flavors/a%20b%2Fc%3Fd"}]
    nxt = links.next_link("http://api:8774", "servers", {"name": "a&b", "marker": "old"}, "m 1")
    assert nxt[0]["href"] == "http://api:8774/v2.1/servers?name=a%26b&marker=m+1"
