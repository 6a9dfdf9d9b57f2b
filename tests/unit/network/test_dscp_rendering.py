"""DSCP marking rules as the network agent renders them from a host's state."""

from __future__ import annotations

from nubis.network.agent import dscp
from nubis.network.core import qos


def _port(tap: str, mark: int | None, **extra: object) -> dict[str, object]:
    return {"tap": tap, "qos": {"policy_id": "p", "bandwidth_limit": {}, "dscp_mark": mark, **extra}}


def test_only_ports_with_a_mark_get_a_rule_keyed_by_tap() -> None:
    ports = [_port("tapb", 46), _port("tapa", 0), _port("tapc", None), {"tap": "tapd", "qos": {}},
             {"tap": "tape"}, _port("tapf", None, bandwidth_limit={"egress": {"max_kbps": 10}})]
    # Mark 0 is a rule too: it clears whatever the guest set (Neutron's CS0).
    assert dscp.marks(ports) == {"tapb": 46, "tapa": 0}


def test_rules_match_the_bridged_tap_and_set_the_code_point_in_tap_order() -> None:
    assert dscp.rules({"tapb": 46, "tapa": 8}) == [
        "-m physdev --physdev-in tapa --physdev-is-bridged -j DSCP --set-dscp 0x08",
        "-m physdev --physdev-in tapb --physdev-is-bridged -j DSCP --set-dscp 0x2e",
    ]
    assert dscp.rules({}) == []


def test_every_valid_mark_renders_within_the_six_bit_field() -> None:
    for mark in qos.DSCP_MARKS:
        (spec,) = dscp.rules({"tapa": mark})
        assert int(spec.rsplit(" ", 1)[1], 16) == mark < 64


def test_dscp_marking_is_offered_and_minimum_bandwidth_is_not() -> None:
    assert [t["type"] for t in qos.rule_types()] == ["bandwidth_limit", "dscp_marking"]
    details = qos.rule_type_details("dscp_marking")
    (param,) = details["drivers"][0]["supported_parameters"]
    assert param == {"parameter_name": "dscp_mark", "parameter_type": "choices",
                     "parameter_values": list(qos.DSCP_MARKS)}
