"""The metadata definitions catalog over real HTTP: glanceclient (as Horizon's image forms use it) and raw
requests, as admins, as readers of the owning project and as other projects."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from glanceclient import client as glance_client

from nubis.cmd import manage
from tests.functional.cloud import Cloud, Credentials

IMAGE_TYPE = "OS::Glance::Image"


class Api:
    """Raw calls to the image API with one user's token; answers are never raised."""

    def __init__(self, cloud: Cloud, creds: Credentials | None = None) -> None:
        self.session = cloud.connection(creds).session
        self.base = cloud.url("image").split("/v2")[0].rstrip("/")

    def __call__(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        return self.session.request(self.base + path, method, json=body, raise_exc=False,
                                    headers={"Accept": "application/json", **headers})


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Api:
    return Api(cloud)


@pytest.fixture(scope="module")
def project_a(cloud: Cloud) -> Credentials:
    return cloud.new_user(roles=("member", "reader"), prefix="md-a")


@pytest.fixture(scope="module")
def project_b(cloud: Cloud) -> Credentials:
    return cloud.new_user(roles=("member", "reader"), prefix="md-b")


def _name(prefix: str = "OS::Test") -> str:
    return f"{prefix}::{uuid.uuid4().hex[:10]}"


@pytest.fixture
def namespace(admin: Api) -> Iterator[str]:
    """A public, unprotected namespace made by the admin; deleted after the test."""
    name = _name()
    resp = admin("POST", "/v2/metadefs/namespaces", {"namespace": name, "visibility": "public"})
    assert resp.status_code == 201, resp.text
    yield name
    admin("PUT", f"/v2/metadefs/namespaces/{name}", {"namespace": name, "protected": False})
    admin("DELETE", f"/v2/metadefs/namespaces/{name}")


def test_a_namespace_lives_through_glanceclient(cloud: Cloud, project_a: Credentials) -> None:
    glance = glance_client.Client("2", session=cloud.connection().session)
    name = _name()
    created = glance.metadefs_namespace.create(
        namespace=name, display_name="Test Hypervisor", description="for the test", visibility="public",
        protected=True, resource_type_associations=[{"name": IMAGE_TYPE, "prefix": "hw_"}],
        properties={"watchdog": {"title": "Watchdog", "type": "string", "enum": ["reset", "pause"]}},
        objects=[{"name": "Limits", "properties": {"cpu_quota": {"title": "CPU quota", "type": "integer"}},
                  "required": ["cpu_quota"]}],
        tags=[{"name": "fast"}])
    assert created["namespace"] == name and created["protected"] is True
    assert created["created_at"].endswith("Z") and created["owner"]
    raw = Api(cloud)("GET", f"/v2/metadefs/namespaces/{name}").json()
    assert raw["self"] == f"/v2/metadefs/namespaces/{name}" and raw["schema"] == "/v2/schemas/metadefs/namespace"

    # A reader of another project finds it among the image's namespaces, with its definitions.
    reader = glance_client.Client("2", session=cloud.connection(project_a).session)
    listed = [ns["namespace"] for ns in reader.metadefs_namespace.list(filters={"resource_types": [IMAGE_TYPE]})]
    assert name in listed
    shown = reader.metadefs_namespace.get(name, resource_type=IMAGE_TYPE)
    assert set(shown["properties"]) == {"hw_watchdog"}  # prefixed as the image's metadata names it
    assert shown["objects"][0]["required"] == ["hw_cpu_quota"]
    assert shown["tags"] == [{"name": "fast"}]
    assert [a["name"] for a in shown["resource_type_associations"]] == [IMAGE_TYPE]
    assert reader.metadefs_property.get(name, "watchdog")["enum"] == ["reset", "pause"]
    assert [o["name"] for o in reader.metadefs_object.list(name)] == ["Limits"]
    assert [t["name"] for t in reader.metadefs_tag.list(name)] == ["fast"]

    # Protected: not deleted, nor anything in it, until that is turned off. (Raw calls: glanceclient cannot
    # read the image API's JSON error bodies, whose "code" is a number.)
    admin = Api(cloud)
    assert admin("DELETE", f"/v2/metadefs/namespaces/{name}").status_code == 403
    assert admin("DELETE", f"/v2/metadefs/namespaces/{name}/tags/fast").status_code == 403
    updated = glance.metadefs_namespace.update(name, protected=False, visibility="private",
                                               description="changed")
    assert updated["protected"] is False and updated["visibility"] == "private"
    assert updated["description"] == "changed"
    glance.metadefs_namespace.delete(name)
    assert admin("GET", f"/v2/metadefs/namespaces/{name}").status_code == 404


def test_objects_properties_tags_and_associations(admin: Api, namespace: str) -> None:
    ns = f"/v2/metadefs/namespaces/{namespace}"
    resp = admin("POST", f"{ns}/objects", {"name": "CPU Limits", "description": "d",
                                          "properties": {"period": {"title": "Period", "type": "integer",
                                                                    "minimum": 1000}}})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["self"] == f"{ns}/objects/CPU Limits" and body["schema"] == "/v2/schemas/metadefs/object"
    resp = admin("PUT", f"{ns}/objects/CPU Limits", {"name": "CPU Caps", "properties": {}})
    assert resp.status_code == 200 and resp.json()["name"] == "CPU Caps"
    assert admin("GET", f"{ns}/objects/CPU Limits").status_code == 404
    assert admin("DELETE", f"{ns}/objects/CPU Caps").status_code == 204
    assert admin("GET", f"{ns}/objects").json() == {"objects": [], "schema": "/v2/schemas/metadefs/objects"}

    resp = admin("POST", f"{ns}/properties", {"name": "hypervisor_type", "title": "Hypervisor", "type": "string",
                                             "enum": ["kvm", "qemu"]})
    assert resp.status_code == 201, resp.text
    assert resp.json() == {"name": "hypervisor_type", "title": "Hypervisor", "type": "string",
                           "enum": ["kvm", "qemu"]}
    resp = admin("PUT", f"{ns}/properties/hypervisor_type", {"name": "hypervisor_type", "title": "HV",
                                                             "type": "string"})
    assert resp.json()["title"] == "HV" and "enum" not in resp.json()
    assert admin("GET", f"{ns}/properties").json() == {"properties": {"hypervisor_type": {"title": "HV",
                                                                                          "type": "string"}}}

    assert admin("POST", f"{ns}/tags/one").status_code == 201
    resp = admin("POST", f"{ns}/tags", {"tags": [{"name": "two"}, {"name": "three"}]})
    assert resp.status_code == 201 and resp.json() == {"tags": [{"name": "two"}, {"name": "three"}]}
    assert {t["name"] for t in admin("GET", f"{ns}/tags").json()["tags"]} == {"two", "three"}  # replaced
    resp = admin("POST", f"{ns}/tags", {"tags": [{"name": "four"}]}, **{"X-Openstack-Append": "true"})
    assert resp.status_code == 201
    assert {t["name"] for t in admin("GET", f"{ns}/tags").json()["tags"]} == {"two", "three", "four"}
    resp = admin("PUT", f"{ns}/tags/four", {"name": "five"})
    assert resp.status_code == 200 and resp.json()["name"] == "five" and resp.json()["created_at"]
    assert admin("GET", f"{ns}/tags/five").json()["name"] == "five"
    assert admin("DELETE", f"{ns}/tags/five").status_code == 204
    assert admin("DELETE", f"{ns}/tags").status_code == 204
    assert admin("GET", f"{ns}/tags").json() == {"tags": []}

    types = [t["name"] for t in admin("GET", "/v2/metadefs/resource_types").json()["resource_types"]]
    assert {IMAGE_TYPE, "OS::Nova::Flavor", "OS::Cinder::Volume"} <= set(types)
    resp = admin("POST", f"{ns}/resource_types", {"name": "OS::Nova::Flavor", "prefix": "hw:"})
    assert resp.status_code == 201 and resp.json()["prefix"] == "hw:"
    listed = admin("GET", f"{ns}/resource_types").json()["resource_type_associations"]
    assert [a["name"] for a in listed] == ["OS::Nova::Flavor"]
    filtered = admin("GET", "/v2/metadefs/namespaces?resource_types=OS::Nova::Flavor&limit=1000").json()
    assert namespace in [n["namespace"] for n in filtered["namespaces"]]
    assert admin("DELETE", f"{ns}/resource_types/OS::Nova::Flavor").status_code == 204
    assert admin("DELETE", f"{ns}/resource_types/OS::Nova::Flavor").status_code == 404
    # A resource type not known yet is made by its first association.
    assert admin("POST", f"{ns}/resource_types", {"name": "OS::Test::Thing"}).status_code == 201
    assert "OS::Test::Thing" in [t["name"] for t in admin("GET", "/v2/metadefs/resource_types").json()[
        "resource_types"]]


def test_private_namespaces_stay_in_their_project(cloud: Cloud, admin: Api, project_a: Credentials,
                                                  project_b: Credentials) -> None:
    name = _name()
    resp = admin("POST", "/v2/metadefs/namespaces", {"namespace": name, "visibility": "private",
                                                      "owner": project_a.project_id,
                                                      "tags": [{"name": "secret"}]})
    assert resp.status_code == 201 and resp.json()["owner"] == project_a.project_id
    a, b = Api(cloud, project_a), Api(cloud, project_b)
    assert a("GET", f"/v2/metadefs/namespaces/{name}").status_code == 200
    assert name in [n["namespace"] for n in a("GET", "/v2/metadefs/namespaces?limit=1000").json()["namespaces"]]
    assert name not in [n["namespace"] for n in b("GET", "/v2/metadefs/namespaces?limit=1000").json()["namespaces"]]
    assert name not in [n["namespace"] for n in b("GET", "/v2/metadefs/namespaces?visibility=private").json()[
        "namespaces"]]
    for path in ("", "/tags", "/tags/secret", "/objects", "/properties", "/resource_types"):
        resp = b("GET", f"/v2/metadefs/namespaces/{name}{path}")
        assert resp.status_code == 404, (path, resp.text)
    # Writes by another project are 404 too: the namespace is not there for it.
    assert b("DELETE", f"/v2/metadefs/namespaces/{name}").status_code == 404
    assert b("POST", f"/v2/metadefs/namespaces/{name}/tags/x").status_code == 404
    # The owning project reads but does not write (Glance's defaults: only admins write).
    assert a("POST", f"/v2/metadefs/namespaces/{name}/tags/x").status_code == 403
    assert a("DELETE", f"/v2/metadefs/namespaces/{name}").status_code == 403
    assert admin("DELETE", f"/v2/metadefs/namespaces/{name}").status_code == 204


def test_only_admins_write(cloud: Cloud, project_a: Credentials, namespace: str) -> None:
    a = Api(cloud, project_a)
    ns = f"/v2/metadefs/namespaces/{namespace}"
    assert a("POST", "/v2/metadefs/namespaces", {"namespace": _name()}).status_code == 403
    assert a("PUT", ns, {"namespace": namespace}).status_code == 403
    assert a("DELETE", ns).status_code == 403
    assert a("POST", f"{ns}/objects", {"name": "o"}).status_code == 403
    assert a("POST", f"{ns}/properties", {"name": "p", "title": "P", "type": "string"}).status_code == 403
    assert a("POST", f"{ns}/tags", {"tags": [{"name": "t"}]}).status_code == 403
    assert a("POST", f"{ns}/resource_types", {"name": IMAGE_TYPE}).status_code == 403
    assert a("DELETE", f"{ns}/tags").status_code == 403
    assert a("GET", ns).status_code == 200  # a public namespace: readable


def test_glanceclient_reads_the_errors(cloud: Cloud, project_a: Credentials, namespace: str) -> None:
    """glanceclient (Horizon's image client) turns the JSON error bodies into its own exceptions, message kept."""
    from glanceclient import exc

    glance = glance_client.Client("2", session=cloud.connection(project_a).session)
    with pytest.raises(exc.HTTPForbidden):
        glance.metadefs_namespace.create(namespace=_name())
    missing = str(uuid.uuid4())
    with pytest.raises(exc.HTTPNotFound) as caught:
        glance.images.get(missing)
    assert missing in str(caught.value.details)


def test_names_taken_are_409(admin: Api, namespace: str) -> None:
    ns = f"/v2/metadefs/namespaces/{namespace}"
    assert admin("POST", "/v2/metadefs/namespaces", {"namespace": namespace}).status_code == 409
    assert admin("POST", f"{ns}/objects", {"name": "o"}).status_code == 201
    assert admin("POST", f"{ns}/objects", {"name": "o"}).status_code == 409
    prop = {"name": "p", "title": "P", "type": "string"}
    assert admin("POST", f"{ns}/properties", prop).status_code == 201
    assert admin("POST", f"{ns}/properties", prop).status_code == 409
    assert admin("POST", f"{ns}/tags/t").status_code == 201
    assert admin("POST", f"{ns}/tags/t").status_code == 409
    assert admin("POST", f"{ns}/tags", {"tags": [{"name": "x"}, {"name": "x"}]}).status_code == 409
    assert admin("POST", f"{ns}/tags", {"tags": [{"name": "t"}]}, **{"X-Openstack-Append": "true"}).status_code == 409
    assert [t["name"] for t in admin("GET", f"{ns}/tags").json()["tags"]] == ["t"]  # nothing half-done
    assert admin("POST", f"{ns}/resource_types", {"name": IMAGE_TYPE}).status_code == 201
    assert admin("POST", f"{ns}/resource_types", {"name": IMAGE_TYPE}).status_code == 409
    other = _name()
    assert admin("POST", "/v2/metadefs/namespaces", {"namespace": other}).status_code == 201
    assert admin("PUT", f"/v2/metadefs/namespaces/{other}", {"namespace": namespace}).status_code == 409
    assert admin("DELETE", f"/v2/metadefs/namespaces/{other}").status_code == 204


@pytest.mark.parametrize(("path", "body", "field"), [
    ("", {"display_name": "no name"}, "namespace"),
    ("", {"namespace": "x", "visibility": "shared"}, "visibility"),
    ("", {"namespace": "x" * 81}, "namespace"),
    ("", {"namespace": "x", "protected": "yes"}, "protected"),
    ("", {"namespace": "x", "bogus": 1}, "bogus"),
    ("", {"namespace": "x", "properties": {"p": {"type": "string"}}}, "title"),
    ("/{ns}/objects", {"description": "no name"}, "name"),
    ("/{ns}/properties", {"name": "p", "title": "P", "type": "text"}, "type"),
    ("/{ns}/properties", {"name": "p", "title": "P", "type": "integer", "minimum": "one"}, "minimum"),
    ("/{ns}/tags", {"tags": [{"nom": "x"}]}, "tags/0"),
    ("/{ns}/resource_types", {"prefix": "hw_"}, "name"),
])
def test_bad_bodies_are_400_naming_the_field(admin: Api, namespace: str, path: str, body: Any, field: str) -> None:
    resp = admin("POST", "/v2/metadefs/namespaces" + path.format(ns=namespace), body)
    assert resp.status_code == 400, resp.text
    assert field in resp.text


def test_bad_queries_and_read_only_fields(admin: Api, namespace: str) -> None:
    for query in ("limit=-1", "limit=x", "sort_dir=up", "sort_key=secret", "visibility=shared"):
        resp = admin("GET", f"/v2/metadefs/namespaces?{query}")
        assert resp.status_code == 400, (query, resp.text)
    assert admin("GET", "/v2/metadefs/namespaces?marker=OS::No::Such").status_code == 404
    resp = admin("POST", "/v2/metadefs/namespaces", {"namespace": _name(), "created_at": "2020-01-01T00:00:00Z"})
    assert resp.status_code == 403 and "read-only" in resp.text
    assert admin("GET", f"/v2/metadefs/namespaces/{'x' * 300}").status_code == 404
    assert admin("POST", f"/v2/metadefs/namespaces/{namespace}/tags/{'t' * 81}").status_code == 400


def test_namespaces_page_and_sort(admin: Api) -> None:
    prefix = f"OS::Page{uuid.uuid4().hex[:6]}"
    names = [f"{prefix}::{i}" for i in range(3)]
    for name in names:
        assert admin("POST", "/v2/metadefs/namespaces", {"namespace": name, "visibility": "public"}).status_code == 201
    seen: list[str] = []
    url = "/v2/metadefs/namespaces?limit=2&sort_key=namespace&sort_dir=asc"
    while url:
        page = admin("GET", url).json()
        assert len(page["namespaces"]) <= 2
        seen += [n["namespace"] for n in page["namespaces"]]
        url = page.get("next")
    assert [n for n in seen if n.startswith(prefix)] == names
    assert seen == sorted(seen)
    for name in names:
        assert admin("DELETE", f"/v2/metadefs/namespaces/{name}").status_code == 204


def test_every_metadefs_schema_is_served(cloud: Cloud, project_a: Credentials) -> None:
    a = Api(cloud, project_a)
    expected = {"namespace": "namespace", "namespaces": "namespaces", "object": "object", "objects": "objects",
                "property": "property", "properties": "properties", "tag": "tag", "tags": "tags",
                "resource_type": "resource_type_association", "resource_types": "resource_type_associations"}
    for path, name in expected.items():
        resp = a("GET", f"/v2/schemas/metadefs/{path}")
        assert resp.status_code == 200 and resp.json()["name"] == name, path


@pytest.mark.usefixtures("restore_logging")  # nubis-manage runs in-process and sets logging up for itself
def test_manage_loads_the_seed_catalog(cloud: Cloud, project_b: Credentials, capsys: Any) -> None:
    conf_file = f"{cloud.aio.state_dir}/all-in-one.conf"
    assert manage.main(["--config-file", conf_file, "image", "metadefs", "load"]) == 0
    assert manage.main(["--config-file", conf_file, "image", "metadefs", "load"]) == 0  # again: kept
    out = capsys.readouterr().out
    assert "created OS::Compute::Watchdog" in out and "kept OS::Compute::Watchdog" in out
    glance = glance_client.Client("2", session=cloud.connection(project_b).session)
    listed = {ns["namespace"] for ns in glance.metadefs_namespace.list(filters={"resource_types": [IMAGE_TYPE]})}
    assert {"OS::Compute::Watchdog", "OS::Compute::Hypervisor", "CIM::ProcessorAllocationSettingData"} <= listed
    # What Horizon's launch wizard asks for: a server's metadata and scheduler hints have namespaces.
    for target in ("metadata", "scheduler_hints"):
        found = [n for n in glance.metadefs_namespace.list(filters={"resource_types": ["OS::Nova::Server"]})
                 if any(a.get("properties_target") == target for a in n["resource_type_associations"])]
        assert found, target
    watchdog = glance.metadefs_namespace.get("OS::Compute::Watchdog")
    assert watchdog["protected"] is True and "watchdog_action" in watchdog["properties"]


@pytest.mark.usefixtures("restore_logging")  # nubis-manage runs in-process and sets logging up for itself
def test_manage_loads_files_and_refuses_bad_ones(cloud: Cloud, admin: Api, tmp_path: Any, capsys: Any) -> None:
    conf_file = f"{cloud.aio.state_dir}/all-in-one.conf"
    name = _name("OS::File")
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"namespace": name, "display_name": "From a file", "visibility": "public",
                                "protected": True, "tags": [{"name": "a"}], "created_at": "2014-08-28T17:13:06Z"}))
    assert manage.main(["--config-file", conf_file, "image", "metadefs", "load", str(good)]) == 0
    assert admin("GET", f"/v2/metadefs/namespaces/{name}/tags").json() == {"tags": [{"name": "a"}]}
    good.write_text(json.dumps({"namespace": name, "tags": [{"name": "b"}]}))
    assert manage.main(["--config-file", conf_file, "image", "metadefs", "load", "--replace", str(tmp_path)]) == 0
    assert admin("GET", f"/v2/metadefs/namespaces/{name}/tags").json() == {"tags": [{"name": "b"}]}
    assert f"replaced {name}" in capsys.readouterr().out

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"namespace": _name("OS::Bad"), "visibility": "everyone"}))
    assert manage.main(["--config-file", conf_file, "image", "metadefs", "load", str(bad)]) == 2
    assert "visibility" in capsys.readouterr().err
    twice = _name("OS::Twice")
    bad.write_text(json.dumps({"namespace": twice, "tags": [{"name": "x"}, {"name": "x"}]}))
    assert manage.main(["--config-file", conf_file, "image", "metadefs", "load", str(bad)]) == 2
    assert admin("GET", f"/v2/metadefs/namespaces/{twice}").status_code == 404  # nothing half-loaded
