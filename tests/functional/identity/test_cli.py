"""Identity through python-openstackclient, as an operator uses it."""

from __future__ import annotations

import uuid

from tests.functional.cloud import Cloud, Credentials


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_token_issue_and_catalog(cloud: Cloud) -> None:
    token = cloud.openstack("token", "issue")
    assert token["project_id"] and token["user_id"] and token["id"]
    catalog = cloud.openstack("catalog", "list")
    assert [e["Type"] for e in catalog] == ["identity"]
    urls = {ep["interface"]: ep["url"] for ep in catalog[0]["Endpoints"]}
    assert urls["public"] == cloud.auth_url


def test_create_resources_and_assign_roles(cloud: Cloud) -> None:
    project, user, group, role = _name("p"), _name("u"), _name("g"), _name("r")
    created = cloud.openstack("project", "create", "--description", "test project", project)
    assert created["name"] == project and created["domain_id"] == "default"
    cloud.openstack("user", "create", "--password", "pw-" + user, "--project", project, user)
    cloud.openstack("group", "create", group)
    cloud.openstack("role", "create", role)
    cloud.openstack("group", "add", "user", group, user, json_output=False)
    cloud.openstack("role", "add", "--project", project, "--group", group, "member", json_output=False)
    cloud.openstack("role", "add", "--domain", "default", "--user", user, role, json_output=False)
    cloud.openstack("role", "add", "--system", "all", "--user", user, "reader", json_output=False)
    effective = cloud.openstack("role", "assignment", "list", "--effective", "--names", "--user", user)
    seen = {(a["Role"], a["Project"], a["Domain"], a["System"]) for a in effective}
    assert ("member", f"{project}@Default", "", "") in seen  # through the group
    assert ("reader", f"{project}@Default", "", "") in seen  # implied by member
    assert (role, "", "Default", "") in seen
    assert ("reader", "", "", "all") in seen
    # The user can now log in to the project with what the CLI made.
    creds = Credentials(user, "pw-" + user, project)
    assert cloud.openstack("token", "issue", creds=creds)["project_id"] == created["id"]


def test_duplicate_names_conflict(cloud: Cloud) -> None:
    name = _name("dup")
    cloud.openstack("project", "create", name)
    proc = cloud.openstack("project", "create", name, check=False)
    assert proc.returncode != 0 and "409" in proc.stderr and "Duplicate" in proc.stderr


def test_inherited_domain_role_reaches_projects(cloud: Cloud) -> None:
    user, project = _name("inh"), _name("inhp")
    cloud.openstack("user", "create", "--password", "x" * 12, user)
    project_id = cloud.openstack("project", "create", project)["id"]
    cloud.openstack("role", "add", "--domain", "default", "--user", user, "--inherited", "member", json_output=False)
    effective = cloud.openstack("role", "assignment", "list", "--effective", "--user", user, "--project", project)
    assert {a["Role"] for a in effective} >= {cloud.connection().identity.find_role("member").id}
    token = cloud.openstack("token", "issue", creds=Credentials(user, "x" * 12, project))
    assert token["project_id"] == project_id


def test_application_credential_cli(cloud: Cloud) -> None:
    created = cloud.openstack("application", "credential", "create", _name("ac"))
    assert created["Secret"] and created["Project ID"]
    assert {r["name"] for r in created["Roles"]} >= {"admin", "member", "reader"}
    listed = cloud.openstack("application", "credential", "list")
    assert created["ID"] in [c["ID"] for c in listed]
