"""Address pools, EUI-64 and the listing rules, without a database."""

from __future__ import annotations

import ipaddress

import pytest

from nubis.common import exceptions
from nubis.network.core import ipam, query


def _net(cidr: str) -> ipam.IPNetwork:
    return ipaddress.ip_network(cidr)


def test_default_pools_leave_out_network_broadcast_and_gateway() -> None:
    pools = ipam.default_pools(_net("10.0.0.0/24"), ipaddress.ip_address("10.0.0.1"))
    assert [(str(a), str(b)) for a, b in pools] == [("10.0.0.2", "10.0.0.254")]
    middle = ipam.default_pools(_net("10.0.0.0/29"), ipaddress.ip_address("10.0.0.4"))
    assert [(str(a), str(b)) for a, b in middle] == [("10.0.0.1", "10.0.0.3"), ("10.0.0.5", "10.0.0.6")]
    assert ipam.pool_size(middle) == 5


@pytest.mark.parametrize(("pools", "error_type"), [
    ([{"start": "10.0.0.20", "end": "10.0.0.10"}], "InvalidAllocationPool"),
    ([{"start": "10.0.0.2", "end": "10.0.1.10"}], "OutOfBoundsAllocationPool"),
    ([{"start": "10.0.0.2", "end": "10.0.0.50"}, {"start": "10.0.0.40", "end": "10.0.0.60"}],
     "OverlappingAllocationPools"),
    ([{"start": "10.0.0.1", "end": "10.0.0.50"}], "GatewayConflictWithAllocationPools"),
    ([{"start": "10.0.0.2"}], "InvalidInput"),
])
def test_bad_pools_are_refused_with_their_type(pools, error_type) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exceptions.NubisError) as err:
        ipam.parse_pools(_net("10.0.0.0/24"), ipaddress.ip_address("10.0.0.1"), pools)
    assert err.value.error_type == error_type


def test_eui64_matches_the_slaac_address_a_guest_builds() -> None:
    assert ipam.eui64("2001:db8::/64", "fa:16:3e:12:34:56") == "2001:db8::f816:3eff:fe12:3456"


def _items() -> list[dict]:  # type: ignore[type-arg]
    return [{"id": f"id-{i}", "name": f"n{i % 3}", "admin_state_up": i % 2 == 0, "tags": ["a"] if i < 2 else [],
             "fixed_ips": [{"subnet_id": "s", "ip_address": f"10.0.0.{i + 1}"}]} for i in range(6)]


def test_filters_tags_and_ip_substrings() -> None:
    params = query.parse([("name", "n1"), ("admin_state_up", "False")], 100)
    assert [i["id"] for i in query.apply(_items(), params, ["id", "name"]).items] == ["id-1"]
    tagged = query.parse([("tags", "a")], 100)
    assert [i["id"] for i in query.apply(_items(), tagged, ["id"]).items] == ["id-0", "id-1"]
    by_ip = query.parse([("fixed_ips", "ip_address_substr=10.0.0.5")], 100)
    assert [i["id"] for i in query.apply(_items(), by_ip, ["id"]).items] == ["id-4"]


def test_pages_follow_markers_in_both_directions() -> None:
    params = query.parse([("limit", "4"), ("sort_key", "name"), ("sort_dir", "desc")], 100)
    first = query.apply(_items(), params, ["id", "name"])
    # ties on name are broken by id, in the same direction
    assert [i["id"] for i in first.items] == ["id-5", "id-2", "id-4", "id-1"]
    assert query.links(first.items, params) == [("next", "id-1", False), ("previous", "id-5", True)]
    params = query.parse([("limit", "4"), ("sort_key", "name"), ("sort_dir", "desc"), ("marker", "id-1")], 100)
    second = query.apply(_items(), params, ["id", "name"])
    assert [i["id"] for i in second.items] == ["id-3", "id-0"]
    assert query.links(second.items, params) == [("previous", "id-3", True)]  # short: the end
    params = query.parse([("limit", "2"), ("sort_key", "name"), ("sort_dir", "desc"), ("marker", "id-3"),
                          ("page_reverse", "True")], 100)
    back = query.apply(_items(), params, ["id", "name"])
    assert [i["id"] for i in back.items] == ["id-4", "id-1"]
    assert query.links(back.items, params) == [("next", "id-1", False), ("previous", "id-4", True)]


def test_links_are_neutrons() -> None:
    """A full page links on (even the last), a short one ends its direction, an empty one has no marker."""
    forward = query.parse([("limit", "2")], 100)
    assert query.links([{"id": "a"}, {"id": "b"}], forward) == [("next", "b", False), ("previous", "a", True)]
    assert query.links([], forward) == [("previous", None, True)]
    reverse = query.parse([("limit", "2"), ("page_reverse", "True")], 100)
    assert query.links([{"id": "a"}], reverse) == [("next", "a", False)]
    assert query.links([], reverse) == [("next", None, False)]
    assert query.links([{"id": "a"}], query.parse([], 100)) == []


def test_bad_listing_parameters_are_400() -> None:
    for items in ([("limit", "x")], [("sort_dir", "up")], [("sort_key", "a"), ("sort_key", "b"), ("sort_dir", "asc")]):
        with pytest.raises(exceptions.BadRequest):
            query.parse(items, 100)
    with pytest.raises(exceptions.BadRequest):
        query.apply(_items(), query.parse([("sort_key", "secret")], 100), ["id"])
