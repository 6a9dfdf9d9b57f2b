"""Neutron's QoS API (``qos``, ``qos-default``, ``qos-bw-limit-direction``, ``qos-rule-type-details``):
policies, their rules, their use by networks and ports, and what the agents are told."""

from __future__ import annotations

import uuid
from typing import Any

from nubis.network.core import qos


def _name() -> str:
    return f"q-{uuid.uuid4().hex[:8]}"


def _call(conn: Any, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    resp = conn.network.request(path, method, json=body, raise_exc=False)
    return resp.status_code, (resp.json() if resp.content else None)


def _error(answer: tuple[int, Any]) -> tuple[int, str]:
    status, body = answer
    return status, body["NeutronError"]["type"]


def _policy(admin: Any, **attrs: Any) -> dict[str, Any]:
    status, body = _call(admin, "POST", "/qos/policies", {"policy": {"name": _name(), **attrs}})
    assert status == 201, body
    return body["policy"]  # type: ignore[no-any-return]


def test_extensions_and_rule_types(cloud, admin, demo):
    aliases = {e.alias for e in admin.network.extensions()}
    assert {"qos", "qos-default", "qos-bw-limit-direction", "qos-rule-type-details"} <= aliases
    _, conn = demo
    status, body = _call(conn, "GET", "/qos/rule-types")
    assert status == 200 and {t["type"] for t in body["rule_types"]} == {"bandwidth_limit", "dscp_marking"}
    assert _error(_call(conn, "GET", "/qos/rule-types/bandwidth_limit")) == (403, "PolicyNotAuthorized")
    status, body = _call(admin, "GET", "/qos/rule-types/bandwidth_limit")
    assert status == 200 and body["rule_type"]["type"] == "bandwidth_limit"
    params = {p["parameter_name"]: p for p in body["rule_type"]["drivers"][0]["supported_parameters"]}
    assert params["direction"]["parameter_values"] == ["egress", "ingress"]
    status, body = _call(admin, "GET", "/qos/rule-types/dscp_marking")
    params = {p["parameter_name"]: p for p in body["rule_type"]["drivers"][0]["supported_parameters"]}
    assert status == 200 and list(params) == ["dscp_mark"] and params["dscp_mark"]["parameter_type"] == "choices"
    assert params["dscp_mark"]["parameter_values"][:3] == [0, 8, 10] and 46 in params["dscp_mark"]["parameter_values"]
    assert _error(_call(admin, "GET", "/qos/rule-types/minimum_bandwidth")) == (404, "QosRuleTypeNotFound")
    assert _error(_call(admin, "GET", "/qos/rule-types/no_such")) == (404, "QosRuleTypeNotFound")


def test_policy_crud_scoping_and_sharing(cloud, admin, demo):
    creds, conn = demo
    assert _error(_call(conn, "POST", "/qos/policies", {"policy": {"name": "mine"}})) == (403, "PolicyNotAuthorized")
    own = _policy(admin, project_id=creds.project_id, description="gold")
    assert own["project_id"] == creds.project_id and own["rules"] == [] and not own["shared"]
    foreign = _policy(admin)  # the admin's project: invisible to the demo project
    shared = _policy(admin, shared=True)
    status, body = _call(conn, "GET", "/qos/policies")
    seen = {p["id"] for p in body["policies"]}
    assert status == 200 and own["id"] in seen and shared["id"] in seen and foreign["id"] not in seen
    assert _error(_call(conn, "GET", f"/qos/policies/{foreign['id']}")) == (404, "QosPolicyNotFound")
    # A project member may not change even its own policy (Neutron: the admin's); another's is not there at all.
    assert _error(_call(conn, "PUT", f"/qos/policies/{own['id']}", {"policy": {"name": "x"}}))[0] == 403
    assert _error(_call(conn, "PUT", f"/qos/policies/{foreign['id']}", {"policy": {"name": "x"}}))[0] == 404
    status, body = _call(admin, "PUT", f"/qos/policies/{own['id']}", {"policy": {"name": "renamed", "shared": True}})
    assert status == 200 and body["policy"]["name"] == "renamed" and body["policy"]["shared"]
    assert body["policy"]["revision_number"] == own["revision_number"] + 1
    status, body = _call(conn, "GET", "/qos/policies?shared=True")
    assert status == 200 and all(p["shared"] for p in body["policies"]) and body["policies"]
    assert _error(_call(admin, "POST", "/qos/policies", {"policy": {"bogus": 1}}))[0] == 400
    # Attribute checks come before policy (Neutron's order); a rule create is refused before any lookup, a rule
    # update on a policy the caller cannot see is 404.
    assert _error(_call(conn, "POST", "/qos/policies", {"policy": {"name": "n" * 256}}))[0] == 400
    assert _error(_call(conn, "PUT", f"/qos/policies/{foreign['id']}", {"policy": {"description": "d" * 256}}))[
        0] == 400
    assert _error(_call(conn, "POST", f"/qos/policies/{foreign['id']}/bandwidth_limit_rules", {
        "bandwidth_limit_rule": {"max_kbps": 1}})) == (403, "PolicyNotAuthorized")
    assert _error(_call(conn, "PUT", f"/qos/policies/{foreign['id']}/bandwidth_limit_rules/{uuid.uuid4()}", {
        "bandwidth_limit_rule": {"max_kbps": 1}})) == (404, "QosPolicyNotFound")
    for p in (own, foreign, shared):
        assert _call(admin, "DELETE", f"/qos/policies/{p['id']}")[0] == 204
    assert _error(_call(admin, "GET", f"/qos/policies/{own['id']}")) == (404, "QosPolicyNotFound")


def test_bandwidth_limit_rules_both_directions_and_validation(cloud, admin, demo):
    policy = _policy(admin)
    base = f"/qos/policies/{policy['id']}/bandwidth_limit_rules"
    status, body = _call(admin, "POST", base, {"bandwidth_limit_rule": {"max_kbps": 10000}})
    assert status == 201, body
    egress = body["bandwidth_limit_rule"]
    assert egress["direction"] == "egress" and egress["max_burst_kbps"] == 0 and egress["max_kbps"] == 10000
    assert _error(_call(admin, "POST", base, {"bandwidth_limit_rule": {"max_kbps": 5}})) == (409, "QoSRulesConflict")
    status, body = _call(admin, "POST", base, {"bandwidth_limit_rule": {"max_kbps": 2000, "max_burst_kbps": 400,
                                                                         "direction": "ingress"}})
    assert status == 201 and body["bandwidth_limit_rule"]["direction"] == "ingress"
    ingress = body["bandwidth_limit_rule"]
    for bad in ({"max_kbps": -1}, {"max_kbps": "fast"}, {"max_kbps": 1, "direction": "sideways"}, {},
                {"max_kbps": 1, "dscp_mark": 8}, {"max_kbps": 2 ** 40}):
        assert _error(_call(admin, "POST", base, {"bandwidth_limit_rule": bad}))[0] == 400, bad
    # Turning the egress rule into a second ingress one conflicts.
    assert _error(_call(admin, "PUT", f"{base}/{egress['id']}", {"bandwidth_limit_rule": {"direction": "ingress"}}))[
        0] == 409
    status, body = _call(admin, "PUT", f"{base}/{egress['id']}", {"bandwidth_limit_rule": {"max_kbps": 20000}})
    assert status == 200 and body["bandwidth_limit_rule"]["max_kbps"] == 20000
    status, body = _call(admin, "GET", f"/qos/policies/{policy['id']}")
    assert {(r["type"], r["direction"], r["max_kbps"]) for r in body["policy"]["rules"]} == {
        ("bandwidth_limit", "egress", 20000), ("bandwidth_limit", "ingress", 2000)}
    assert all(r["qos_policy_id"] == policy["id"] for r in body["policy"]["rules"])
    status, body = _call(admin, "GET", base)
    assert status == 200 and len(body["bandwidth_limit_rules"]) == 2
    _, conn = demo
    assert _error(_call(conn, "GET", base)) == (404, "QosPolicyNotFound")  # not the demo project's policy
    assert _call(admin, "DELETE", f"{base}/{ingress['id']}")[0] == 204
    assert _error(_call(admin, "GET", f"{base}/{ingress['id']}")) == (404, "QosRuleNotFound")
    assert _error(_call(admin, "POST", f"/qos/policies/{uuid.uuid4()}/bandwidth_limit_rules",
                        {"bandwidth_limit_rule": {"max_kbps": 1}})) == (404, "QosPolicyNotFound")
    assert _call(admin, "DELETE", f"/qos/policies/{policy['id']}")[0] == 204  # its rules go with it


def test_dscp_marks_are_neutrons_and_minimum_bandwidth_is_stored(cloud, admin):
    policy = _policy(admin)
    base = f"/qos/policies/{policy['id']}"
    for mark in (1, 9, 57, 64, -2):
        assert _error(_call(admin, "POST", f"{base}/dscp_marking_rules", {"dscp_marking_rule": {"dscp_mark": mark}}))[
            0] == 400, mark
    for mark in qos.DSCP_MARKS[:3]:
        status, body = _call(admin, "POST", f"{base}/dscp_marking_rules", {"dscp_marking_rule": {"dscp_mark": mark}})
        assert status == 201 and body["dscp_marking_rule"]["dscp_mark"] == mark
        assert _call(admin, "DELETE", f"{base}/dscp_marking_rules/{body['dscp_marking_rule']['id']}")[0] == 204
    status, body = _call(admin, "POST", f"{base}/minimum_bandwidth_rules", {"minimum_bandwidth_rule": {
        "min_kbps": 1000}})
    assert status == 201 and body["minimum_bandwidth_rule"]["min_kbps"] == 1000
    assert _error(_call(admin, "POST", f"{base}/minimum_bandwidth_rules", {"minimum_bandwidth_rule": {}}))[0] == 400
    assert _error(_call(admin, "GET", f"{base}/no_such_rules"))[0] == 404
    assert _call(admin, "DELETE", base)[0] == 204


def test_networks_ports_default_policy_and_in_use(cloud, admin, demo):
    creds, conn = demo
    default = _policy(admin, project_id=creds.project_id, is_default=True)
    assert _error(_call(admin, "POST", "/qos/policies", {"policy": {
        "project_id": creds.project_id, "is_default": True}})) == (409, "QoSPolicyDefaultAlreadyExists")
    other = _policy(admin, project_id=creds.project_id)
    foreign = _policy(admin)
    status, body = _call(conn, "POST", "/networks", {"network": {"name": _name()}})
    net = body["network"]
    assert status == 201 and net["qos_policy_id"] == default["id"]  # qos-default
    status, body = _call(conn, "POST", "/networks", {"network": {"name": _name(), "qos_policy_id": other["id"]}})
    assert status == 201 and body["network"]["qos_policy_id"] == other["id"]
    named = body["network"]
    assert _error(_call(conn, "POST", "/networks", {"network": {"qos_policy_id": foreign["id"]}})) == (
        404, "QosPolicyNotFound")
    status, body = _call(conn, "POST", "/ports", {"port": {"network_id": net["id"], "qos_policy_id": other["id"]}})
    assert status == 201 and body["port"]["qos_policy_id"] == other["id"]
    port = body["port"]
    assert _error(_call(conn, "PUT", f"/ports/{port['id']}", {"port": {"qos_policy_id": foreign["id"]}}))[0] == 404
    assert _error(_call(admin, "DELETE", f"/qos/policies/{other['id']}")) == (409, "QosPolicyInUse")
    status, body = _call(conn, "PUT", f"/ports/{port['id']}", {"port": {"qos_policy_id": None}})
    assert status == 200 and body["port"]["qos_policy_id"] is None
    status, body = _call(conn, "PUT", f"/networks/{named['id']}", {"network": {"qos_policy_id": None}})
    assert status == 200 and body["network"]["qos_policy_id"] is None
    assert _call(admin, "DELETE", f"/qos/policies/{other['id']}")[0] == 204
    assert _error(_call(admin, "DELETE", f"/qos/policies/{default['id']}")) == (409, "QosPolicyInUse")
    for path in (f"/ports/{port['id']}", f"/networks/{net['id']}", f"/networks/{named['id']}",
                 f"/qos/policies/{default['id']}", f"/qos/policies/{foreign['id']}"):
        assert _call(admin if "qos" in path else conn, "DELETE", path)[0] == 204, path


def test_policy_shared_with_one_project_through_rbac(cloud, admin, demo):
    creds, conn = demo
    policy = _policy(admin)
    assert _error(_call(conn, "GET", f"/qos/policies/{policy['id']}"))[0] == 404
    status, body = _call(admin, "POST", "/rbac-policies", {"rbac_policy": {
        "object_type": "qos_policy", "object_id": policy["id"], "action": "access_as_shared",
        "target_tenant": creds.project_id}})
    assert status == 201, body
    grant = body["rbac_policy"]
    assert _error(_call(admin, "POST", "/rbac-policies", {"rbac_policy": {
        "object_type": "qos_policy", "object_id": policy["id"], "action": "access_as_external",
        "target_tenant": creds.project_id}}))[0] == 400
    assert _call(conn, "GET", f"/qos/policies/{policy['id']}")[0] == 200
    status, body = _call(conn, "POST", "/networks", {"network": {"qos_policy_id": policy["id"]}})
    assert status == 201
    net = body["network"]
    assert _error(_call(admin, "DELETE", f"/rbac-policies/{grant['id']}")) == (409, "RbacPolicyInUse")
    assert _call(conn, "DELETE", f"/networks/{net['id']}")[0] == 204
    assert _call(admin, "DELETE", f"/rbac-policies/{grant['id']}")[0] == 204
    assert _error(_call(conn, "GET", f"/qos/policies/{policy['id']}"))[0] == 404
    # shared=True is the grant to every project, kept in step both ways.
    _call(admin, "PUT", f"/qos/policies/{policy['id']}", {"policy": {"shared": True}})
    status, body = _call(admin, "GET", f"/rbac-policies?object_id={policy['id']}")
    assert [g["target_tenant"] for g in body["rbac_policies"]] == ["*"]
    assert _call(admin, "DELETE", f"/rbac-policies/{body['rbac_policies'][0]['id']}")[0] == 204
    assert not _call(admin, "GET", f"/qos/policies/{policy['id']}")[1]["policy"]["shared"]
    assert _call(admin, "DELETE", f"/qos/policies/{policy['id']}")[0] == 204


def _links(body: dict[str, Any], key: str) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in body.get(f"{key}_links", [])}


def _follow(conn: Any, href: str) -> tuple[int, Any]:
    """GET an absolute link the API gave, through the connection's network endpoint."""
    endpoint = conn.network.get_endpoint().rstrip("/")
    assert href.startswith(endpoint + "/"), (href, endpoint)  # the published endpoint, version and collection
    return _call(conn, "GET", href[len(endpoint):])


def test_policy_listing_links_walk_forth_and_back_as_neutrons(cloud, admin):
    description = _name()
    made = [_policy(admin, description=description) for _ in range(3)]
    names = sorted(p["name"] for p in made)
    status, body = _call(admin, "GET", f"/qos/policies?description={description}&sort_key=name&sort_dir=asc&limit=1")
    seen = []
    for _ in range(3):
        assert status == 200 and len(body["policies"]) == 1, body
        seen.append(body["policies"][0]["name"])
        links = _links(body, "policies")
        # Neutron links a full page onwards even when it is the last one, and back even from the first.
        assert set(links) == {"next", "previous"}, links
        assert "/v2.0/qos/policies?" in links["next"] and "description=" in links["next"]
        status, body = _follow(admin, links["next"])
    assert seen == names
    assert status == 200 and body["policies"] == []
    links = _links(body, "policies")
    assert "next" not in links and "marker=" not in links["previous"]  # from the end of the listing
    back = []
    for _ in range(3):
        status, body = _follow(admin, links["previous"])
        assert status == 200 and len(body["policies"]) == 1, body
        back.append(body["policies"][0]["name"])
        links = _links(body, "policies")
    assert back == names[::-1]
    # The first page backwards is full: previous goes on; the next one is short and ends there.
    status, body = _call(admin, "GET", f"/qos/policies?description={description}&sort_key=name&limit=2"
                                       "&page_reverse=True")
    assert [p["name"] for p in body["policies"]] == names[1:] and set(_links(body, "policies")) == {"next", "previous"}
    status, body = _follow(admin, _links(body, "policies")["previous"])
    assert [p["name"] for p in body["policies"]] == names[:1] and set(_links(body, "policies")) == {"next"}
    status, body = _call(admin, "GET", f"/qos/policies?description={description}&limit=5")
    assert len(body["policies"]) == 3 and set(_links(body, "policies")) == {"previous"}
    for p in made:
        assert _call(admin, "DELETE", f"/qos/policies/{p['id']}")[0] == 204


def test_rule_listing_links_and_rule_types_listed_whole(cloud, admin):
    policy = _policy(admin)
    path = f"/qos/policies/{policy['id']}/bandwidth_limit_rules"
    for direction in ("egress", "ingress"):
        assert _call(admin, "POST", path, {"bandwidth_limit_rule": {"max_kbps": 100, "direction": direction}})[0] == 201
    status, body = _call(admin, "GET", f"{path}?limit=1&sort_key=direction&sort_dir=asc")
    assert status == 200 and [r["direction"] for r in body["bandwidth_limit_rules"]] == ["egress"]
    status, body = _follow(admin, _links(body, "bandwidth_limit_rules")["next"])
    assert [r["direction"] for r in body["bandwidth_limit_rules"]] == ["ingress"]
    status, body = _follow(admin, _links(body, "bandwidth_limit_rules")["next"])
    assert body["bandwidth_limit_rules"] == [] and "next" not in _links(body, "bandwidth_limit_rules")
    # Neutron lists the rule types whole, whatever the limit: no links to a page that would be the same again.
    status, body = _call(admin, "GET", "/qos/rule-types?limit=1")
    assert status == 200 and len(body["rule_types"]) == 2 and "rule_types_links" not in body
    assert _call(admin, "DELETE", f"/qos/policies/{policy['id']}")[0] == 204


def _grant(admin: Any, object_type: str, object_id: str, target: str) -> dict[str, Any]:
    status, body = _call(admin, "POST", "/rbac-policies", {"rbac_policy": {
        "object_type": object_type, "object_id": object_id, "action": "access_as_shared", "target_tenant": target}})
    assert status == 201, body
    return body["rbac_policy"]  # type: ignore[no-any-return]


def test_rbac_policy_target_update_as_neutron(cloud, admin, demo):
    creds, conn = demo
    other_creds = cloud.new_user()
    other = cloud.connection(other_creds)
    policy = _policy(admin)
    grant = _grant(admin, "qos_policy", policy["id"], creds.project_id)
    # One shape everywhere: Neutron shows the target as target_tenant only.
    assert set(grant) == {"id", "project_id", "tenant_id", "object_type", "object_id", "action", "target_tenant"}
    status, body = _call(admin, "PUT", f"/rbac-policies/{grant['id']}", {"rbac_policy": {
        "target_tenant": other_creds.project_id}})
    assert status == 200, body
    assert body["rbac_policy"] == {**grant, "target_tenant": other_creds.project_id}
    assert _call(admin, "GET", f"/rbac-policies/{grant['id']}")[1]["rbac_policy"] == body["rbac_policy"]
    listed = _call(admin, "GET", f"/rbac-policies?object_id={policy['id']}")[1]["rbac_policies"]
    assert listed == [body["rbac_policy"]]
    assert _call(conn, "GET", f"/qos/policies/{policy['id']}")[0] == 404
    assert _call(other, "GET", f"/qos/policies/{policy['id']}")[1]["policy"]["shared"] is True
    # The other project's network now depends on its grant: not removable, nor movable elsewhere.
    status, body = _call(other, "POST", "/networks", {"network": {"name": _name(), "qos_policy_id": policy["id"]}})
    assert status == 201, body
    net = body["network"]
    assert _error(_call(admin, "PUT", f"/rbac-policies/{grant['id']}", {"rbac_policy": {
        "target_tenant": creds.project_id}})) == (409, "RbacPolicyInUse")
    # A grant to everyone lets the specific one go; then it is the one the network depends on.
    wild = _grant(admin, "qos_policy", policy["id"], "*")
    assert _call(admin, "GET", f"/qos/policies/{policy['id']}")[1]["policy"]["shared"] is True
    assert _call(admin, "DELETE", f"/rbac-policies/{grant['id']}")[0] == 204
    assert _error(_call(admin, "DELETE", f"/rbac-policies/{wild['id']}")) == (409, "RbacPolicyInUse")
    # Neutron counts only the other grants, not the new target: '*' -> the network's project is refused too.
    assert _error(_call(admin, "PUT", f"/rbac-policies/{wild['id']}", {"rbac_policy": {
        "target_tenant": other_creds.project_id}})) == (409, "RbacPolicyInUse")
    assert _call(other, "DELETE", f"/networks/{net['id']}")[0] == 204
    # Nothing depends on the wildcard any more: it may become a one-project grant, and back.
    status, body = _call(admin, "PUT", f"/rbac-policies/{wild['id']}", {"rbac_policy": {
        "target_tenant": creds.project_id}})
    assert status == 200 and body["rbac_policy"]["target_tenant"] == creds.project_id
    assert _call(admin, "GET", f"/qos/policies/{policy['id']}")[1]["policy"]["shared"] is False
    assert _call(other, "GET", f"/qos/policies/{policy['id']}")[0] == 404
    assert _call(conn, "GET", f"/qos/policies/{policy['id']}")[0] == 200
    second = _grant(admin, "qos_policy", policy["id"], other_creds.project_id)
    assert _error(_call(admin, "PUT", f"/rbac-policies/{second['id']}", {"rbac_policy": {
        "target_tenant": creds.project_id}})) == (409, "DuplicateRbacPolicy")
    status, body = _call(admin, "PUT", f"/rbac-policies/{wild['id']}", {"rbac_policy": {"target_project": "*"}})
    assert status == 200 and body["rbac_policy"]["target_tenant"] == "*"
    assert _call(admin, "GET", f"/qos/policies/{policy['id']}")[1]["policy"]["shared"] is True
    assert _error(_call(admin, "PUT", f"/rbac-policies/{wild['id']}", {"rbac_policy": {"target_tenant": ""}}))[0] == 400
    assert _call(admin, "DELETE", f"/qos/policies/{policy['id']}")[0] == 204


def test_network_rbac_target_update_keeps_shared_in_step(cloud, admin, demo):
    creds, conn = demo
    other_creds = cloud.new_user()
    other = cloud.connection(other_creds)
    status, body = _call(admin, "POST", "/networks", {"network": {"name": _name(), "shared": True}})
    net = body["network"]
    wild = _call(admin, "GET", f"/rbac-policies?object_id={net['id']}")[1]["rbac_policies"][0]
    status, body = _call(other, "POST", "/ports", {"port": {"network_id": net["id"]}})
    assert status == 201, body
    port = body["port"]
    # The other project's port needs the wildcard: moving it to the demo project would strand it.
    assert _error(_call(admin, "PUT", f"/rbac-policies/{wild['id']}", {"rbac_policy": {
        "target_tenant": creds.project_id}})) == (409, "RbacPolicyInUse")
    assert _call(other, "DELETE", f"/ports/{port['id']}")[0] == 204
    status, body = _call(admin, "PUT", f"/rbac-policies/{wild['id']}", {"rbac_policy": {
        "target_tenant": creds.project_id}})
    assert status == 200 and body["rbac_policy"]["target_tenant"] == creds.project_id
    assert _call(admin, "GET", f"/networks/{net['id']}")[1]["network"]["shared"] is False
    assert _call(conn, "GET", f"/networks/{net['id']}")[1]["network"]["shared"] is True
    assert _call(other, "GET", f"/networks/{net['id']}")[0] == 404
    status, body = _call(admin, "PUT", f"/rbac-policies/{wild['id']}", {"rbac_policy": {"target_tenant": "*"}})
    assert status == 200 and _call(other, "GET", f"/networks/{net['id']}")[1]["network"]["shared"] is True
    assert _call(admin, "GET", f"/networks/{net['id']}")[1]["network"]["shared"] is True
    assert _call(admin, "DELETE", f"/networks/{net['id']}")[0] == 204


def test_unsharing_a_policy_in_use_is_refused_as_neutron(cloud, admin, demo):
    creds, conn = demo
    policy = _policy(admin, shared=True)
    wild = _call(admin, "GET", f"/rbac-policies?object_id={policy['id']}")[1]["rbac_policies"][0]
    # Neutron counts even the owner's own network among the users of the grant to everyone.
    status, body = _call(admin, "POST", "/networks", {"network": {"name": _name(), "qos_policy_id": policy["id"]}})
    assert status == 201, body
    net = body["network"]
    assert _error(_call(admin, "PUT", f"/qos/policies/{policy['id']}", {"policy": {"shared": False}})) == (
        409, "RbacPolicyInUse")
    assert _error(_call(admin, "DELETE", f"/rbac-policies/{wild['id']}")) == (409, "RbacPolicyInUse")
    assert _error(_call(admin, "PUT", f"/rbac-policies/{wild['id']}", {"rbac_policy": {
        "target_tenant": creds.project_id}})) == (409, "RbacPolicyInUse")
    assert _call(admin, "GET", f"/qos/policies/{policy['id']}")[1]["policy"]["shared"] is True
    assert _call(admin, "DELETE", f"/networks/{net['id']}")[0] == 204
    # Another project's network with a grant of its own does not hold the policy shared.
    _grant(admin, "qos_policy", policy["id"], creds.project_id)
    status, body = _call(conn, "POST", "/networks", {"network": {"name": _name(), "qos_policy_id": policy["id"]}})
    assert status == 201, body
    theirs = body["network"]
    status, body = _call(admin, "PUT", f"/qos/policies/{policy['id']}", {"policy": {"shared": False}})
    assert status == 200 and body["policy"]["shared"] is False
    assert _call(conn, "GET", f"/qos/policies/{policy['id']}")[1]["policy"]["shared"] is True  # its grant
    assert _call(conn, "DELETE", f"/networks/{theirs['id']}")[0] == 204
    assert _call(admin, "DELETE", f"/qos/policies/{policy['id']}")[0] == 204
