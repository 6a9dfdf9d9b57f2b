"""OS-OAUTH1: consumers, and the whole delegation flow driven by a real OAuth 1.0a client (oauthlib's)."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Iterator

import pytest
import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.extras import oauth1 as ka_oauth1
from keystoneauth1.identity import v3
from keystoneclient.v3 import client as ks_client
from oauthlib import oauth1

from tests import fixtures
from tests.functional import cloud as cloud_fixture
from tests.functional.cloud import Cloud, Credentials
from tests.functional.identity.conftest import FAST_HASH

Call = Callable[..., requests.Response]
REQUEST_TOKEN_SECONDS = 6  # short, so a test can watch a request token expire


@pytest.fixture(scope="module", params=fixtures.backend_ids())
def cloud(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    tmp = tmp_path_factory.mktemp("identity-oauth1")
    with fixtures.scratch_database(request.param, str(tmp)) as url:
        extra = {**FAST_HASH, "database": {"connection": url}, "resource": {"admin_project_name": "admin"},
                 "oauth1": {"request_token_duration": str(REQUEST_TOKEN_SECONDS)}}
        with cloud_fixture.running_cloud(tmp, ["identity"], extra_config=extra) as c:
            yield c


def _session(cloud: Cloud, creds: Credentials) -> ks_session.Session:
    auth = v3.Password(auth_url=cloud.auth_url, username=creds.username, password=creds.password,
                       user_domain_id="default", project_name=creds.project_name, project_domain_id="default")
    return ks_session.Session(auth=auth)


def _token(cloud: Cloud, creds: Credentials) -> str:
    return str(_session(cloud, creds).get_token())


def _caller(cloud: Cloud, token: str) -> Call:
    root = cloud.auth_url.rsplit("/v3", 1)[0]

    def call(method: str, path: str, headers: dict[str, str] | None = None, **kwargs: object) -> requests.Response:
        return requests.request(method, root + path, headers={"X-Auth-Token": token, **(headers or {})},
                                timeout=30, **kwargs)

    return call


def _url(cloud: Cloud, path: str) -> str:
    return cloud.auth_url.rstrip("/") + path


def _signed_post(cloud: Cloud, path: str, client: oauth1.Client, headers: dict[str, str] | None = None,
                 **kwargs: object) -> requests.Response:
    url, signed, _ = client.sign(_url(cloud, path), http_method="POST")
    return requests.post(url, headers={**signed, **(headers or {})}, timeout=30, **kwargs)


def _form(resp: requests.Response) -> dict[str, str]:
    assert resp.headers["Content-Type"].startswith("application/x-www-form-urlencoded"), resp.headers
    return dict(urllib.parse.parse_qsl(resp.text))


def _request_token(cloud: Cloud, consumer: dict[str, str], project_id: str,
                   secret: str | None = None) -> requests.Response:
    client = oauth1.Client(consumer["id"], client_secret=secret or consumer["secret"], callback_uri="oob")
    return _signed_post(cloud, "/OS-OAUTH1/request_token", client, {"Requested-Project-Id": project_id})


def _access_token(cloud: Cloud, consumer: dict[str, str], request_token: dict[str, str],
                  verifier: str) -> requests.Response:
    client = oauth1.Client(consumer["id"], client_secret=consumer["secret"],
                           resource_owner_key=request_token["oauth_token"],
                           resource_owner_secret=request_token["oauth_token_secret"], verifier=verifier)
    return _signed_post(cloud, "/OS-OAUTH1/access_token", client)


def _oauth_token(cloud: Cloud, consumer: dict[str, str], access: dict[str, str],
                 access_secret: str | None = None) -> requests.Response:
    client = oauth1.Client(consumer["id"], client_secret=consumer["secret"], resource_owner_key=access["oauth_token"],
                           resource_owner_secret=access_secret or access["oauth_token_secret"])
    return _signed_post(cloud, "/auth/tokens", client,
                        json={"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}})


@pytest.fixture(scope="module")
def admin(cloud: Cloud) -> Call:
    return _caller(cloud, _token(cloud, cloud.admin))


@pytest.fixture(scope="module")
def delegator(cloud: Cloud) -> Credentials:
    """A project admin (not a cloud admin) who delegates their roles on their project."""
    return cloud.new_user(("admin", "member"), prefix="oauth")


def _consumer(admin: Call, description: str = "a consumer") -> dict[str, str]:
    created = admin("POST", "/v3/OS-OAUTH1/consumers", json={"consumer": {"description": description}})
    assert created.status_code == 201, created.text
    return created.json()["consumer"]


def _delegate(cloud: Cloud, consumer: dict[str, str], user: Credentials, as_user: Call,
              role_names: tuple[str, ...] = ("member",)) -> dict[str, str]:
    """The whole flow up to an access token (its id and secret)."""
    request_token = _form(_request_token(cloud, consumer, user.project_id))
    authorized = as_user("PUT", f"/v3/OS-OAUTH1/authorize/{request_token['oauth_token']}",
                         json={"roles": [{"name": n} for n in role_names]})
    assert authorized.status_code == 200, authorized.text
    issued = _access_token(cloud, consumer, request_token, authorized.json()["token"]["oauth_verifier"])
    assert issued.status_code == 201, issued.text
    return _form(issued)


# -- consumers -----------------------------------------------------------------------------------------


def test_consumer_crud(cloud: Cloud, admin: Call) -> None:
    consumer = _consumer(admin, "first")
    assert consumer["description"] == "first" and len(consumer["secret"]) >= 32
    assert consumer["links"]["self"].endswith(f"/v3/OS-OAUTH1/consumers/{consumer['id']}")
    shown = admin("GET", f"/v3/OS-OAUTH1/consumers/{consumer['id']}")
    assert shown.status_code == 200
    # The secret is shown once, at creation.
    assert "secret" not in shown.json()["consumer"]
    assert {k: shown.json()["consumer"][k] for k in ("id", "description", "links")} == \
        {k: consumer[k] for k in ("id", "description", "links")}
    other = _consumer(admin, "second")
    listed = admin("GET", "/v3/OS-OAUTH1/consumers").json()["consumers"]
    assert {consumer["id"], other["id"]} <= {c["id"] for c in listed}
    assert all("secret" not in c for c in listed)
    updated = admin("PATCH", f"/v3/OS-OAUTH1/consumers/{consumer['id']}", json={"consumer": {"description": "new"}})
    assert updated.status_code == 200 and updated.json()["consumer"]["description"] == "new"
    assert admin("GET", f"/v3/OS-OAUTH1/consumers/{consumer['id']}").json()["consumer"]["description"] == "new"
    assert admin("DELETE", f"/v3/OS-OAUTH1/consumers/{consumer['id']}").status_code == 204
    assert admin("GET", f"/v3/OS-OAUTH1/consumers/{consumer['id']}").status_code == 404
    assert consumer["id"] not in {c["id"] for c in admin("GET", "/v3/OS-OAUTH1/consumers").json()["consumers"]}


def test_consumer_errors(cloud: Cloud, admin: Call, delegator: Credentials) -> None:
    consumer = _consumer(admin)
    path = f"/v3/OS-OAUTH1/consumers/{consumer['id']}"
    secret = admin("PATCH", path, json={"consumer": {"secret": "mine"}})
    assert secret.status_code == 400 and "secret" in secret.json()["error"]["message"]
    assert admin("PATCH", path, json={"consumer": {"description": 5}}).status_code == 400
    assert admin("POST", "/v3/OS-OAUTH1/consumers", json={"consumer": "x"}).status_code == 400
    assert admin("POST", "/v3/OS-OAUTH1/consumers", json={"description": "no wrapper"}).status_code == 400
    for method, kwargs in (("GET", {}), ("PATCH", {"json": {"consumer": {"description": "x"}}}), ("DELETE", {})):
        missing = admin(method, "/v3/OS-OAUTH1/consumers/" + "0" * 32, **kwargs)
        assert missing.status_code == 404, (method, missing.text)
        assert missing.json()["error"]["code"] == 404
    # Consumers are the cloud admin's: a project admin may neither make nor read them.
    as_user = _caller(cloud, _token(cloud, delegator))
    assert as_user("POST", "/v3/OS-OAUTH1/consumers", json={"consumer": {}}).status_code == 403
    assert as_user("GET", "/v3/OS-OAUTH1/consumers").status_code == 403
    assert as_user("GET", path).status_code == 403
    assert as_user("DELETE", path).status_code == 403
    assert requests.get(_url(cloud, "/OS-OAUTH1/consumers"), timeout=30).status_code == 401


# -- the delegation flow --------------------------------------------------------------------------------


def test_full_flow(cloud: Cloud, admin: Call, delegator: Credentials) -> None:
    consumer = _consumer(admin)
    as_user = _caller(cloud, _token(cloud, delegator))
    created = _request_token(cloud, consumer, delegator.project_id)
    assert created.status_code == 201, created.text
    request_token = _form(created)
    assert set(request_token) == {"oauth_token", "oauth_token_secret", "oauth_expires_at"}
    authorized = as_user("PUT", f"/v3/OS-OAUTH1/authorize/{request_token['oauth_token']}",
                         json={"roles": [{"name": "member"}]})
    assert authorized.status_code == 200, authorized.text
    verifier = authorized.json()["token"]["oauth_verifier"]
    issued = _access_token(cloud, consumer, request_token, verifier)
    assert issued.status_code == 201, issued.text
    access = _form(issued)
    assert set(access) == {"oauth_token", "oauth_token_secret", "oauth_expires_at"}
    # A request token is exchanged once.
    assert _access_token(cloud, consumer, request_token, verifier).status_code == 404

    got = _oauth_token(cloud, consumer, access)
    assert got.status_code == 201, got.text
    token = got.json()["token"]
    assert token["methods"] == ["oauth1"]
    assert token["user"]["id"] == delegator.user_id
    assert token["project"]["id"] == delegator.project_id
    # The delegated role and the one it implies, not the admin role the user also holds.
    assert [r["name"] for r in token["roles"]] == ["member", "reader"]
    assert token["OS-OAUTH1"] == {"access_token_id": access["oauth_token"], "consumer_id": consumer["id"]}
    oauth_token = got.headers["X-Subject-Token"]
    as_consumer = _caller(cloud, oauth_token)
    validated = as_consumer("GET", "/v3/auth/tokens", headers={"X-Subject-Token": oauth_token})
    assert validated.status_code == 200 and validated.json()["token"]["OS-OAUTH1"] == token["OS-OAUTH1"]
    # An OAuth token is not exchanged for another token, and cannot delegate further.
    rescope = requests.post(_url(cloud, "/auth/tokens"), timeout=30, json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": oauth_token}}}})
    assert rescope.status_code == 403
    other_project = admin("POST", "/v3/projects", json={"project": {"name": f"other-{consumer['id'][:8]}"}})
    scoped_elsewhere = oauth1.Client(consumer["id"], client_secret=consumer["secret"],
                                     resource_owner_key=access["oauth_token"],
                                     resource_owner_secret=access["oauth_token_secret"])
    elsewhere = _signed_post(cloud, "/auth/tokens", scoped_elsewhere, json={"auth": {
        "identity": {"methods": ["oauth1"], "oauth1": {}},
        "scope": {"project": {"id": other_project.json()["project"]["id"]}}}})
    assert elsewhere.status_code == 401

    # The user sees their access token and its roles; never its secret.
    base = f"/v3/users/{delegator.user_id}/OS-OAUTH1/access_tokens"
    listed = as_user("GET", base)
    assert listed.status_code == 200, listed.text
    mine = [a for a in listed.json()["access_tokens"] if a["id"] == access["oauth_token"]]
    assert len(mine) == 1 and mine[0]["consumer_id"] == consumer["id"]
    assert mine[0]["project_id"] == delegator.project_id and mine[0]["authorizing_user_id"] == delegator.user_id
    assert "oauth_token_secret" not in mine[0] and "access_secret" not in mine[0] and "secret" not in mine[0]
    shown = as_user("GET", f"{base}/{access['oauth_token']}")
    assert shown.status_code == 200 and shown.json()["access_token"]["id"] == access["oauth_token"]
    roles = as_user("GET", f"{base}/{access['oauth_token']}/roles")
    assert [r["name"] for r in roles.json()["roles"]] == ["member"]
    member_id = roles.json()["roles"][0]["id"]
    assert as_user("GET", f"{base}/{access['oauth_token']}/roles/{member_id}").json()["role"]["name"] == "member"
    admin_role = admin("GET", "/v3/roles?name=admin").json()["roles"][0]["id"]
    assert as_user("GET", f"{base}/{access['oauth_token']}/roles/{admin_role}").status_code == 404
    assert as_user("GET", f"{base}/{'0' * 32}").status_code == 404
    # Nor may the consumer's token manage the delegation it came from, or turn it into one that would
    # outlive the access token.
    assert as_consumer("GET", base).status_code == 403
    assert as_consumer("DELETE", f"{base}/{access['oauth_token']}").status_code == 403
    again = _form(_request_token(cloud, consumer, delegator.project_id))
    refused = as_consumer("PUT", f"/v3/OS-OAUTH1/authorize/{again['oauth_token']}", json={"roles": [{"name": "member"}]})
    assert refused.status_code == 403
    cred = as_consumer("POST", f"/v3/users/{delegator.user_id}/application_credentials",
                       json={"application_credential": {"name": f"from-oauth-{consumer['id'][:8]}"}})
    assert cred.status_code == 403, cred.text
    trust = as_consumer("POST", "/v3/OS-TRUST/trusts", json={"trust": {
        "trustor_user_id": delegator.user_id, "trustee_user_id": delegator.user_id,
        "project_id": delegator.project_id, "impersonation": False, "roles": [{"name": "member"}]}})
    assert trust.status_code == 403, trust.text


def test_signatures_and_tokens_are_checked(cloud: Cloud, admin: Call, delegator: Credentials) -> None:
    consumer = _consumer(admin)
    as_user = _caller(cloud, _token(cloud, delegator))
    # A request token: a wrong consumer secret, no OAuth header, no project, an unknown project.
    assert _request_token(cloud, consumer, delegator.project_id, secret="not-the-secret").status_code == 401
    bare = requests.post(_url(cloud, "/OS-OAUTH1/request_token"), timeout=30,
                         headers={"Requested-Project-Id": delegator.project_id})
    assert bare.status_code == 400 and "oauth_consumer_key" in bare.json()["error"]["message"]
    no_project = _signed_post(cloud, "/OS-OAUTH1/request_token",
                              oauth1.Client(consumer["id"], client_secret=consumer["secret"], callback_uri="oob"))
    assert no_project.status_code == 400 and "Requested-Project-Id" in no_project.json()["error"]["message"]
    assert _request_token(cloud, consumer, "0" * 32).status_code == 404
    plaintext = oauth1.Client(consumer["id"], client_secret=consumer["secret"], callback_uri="oob",
                              signature_method=oauth1.SIGNATURE_PLAINTEXT)
    assert _signed_post(cloud, "/OS-OAUTH1/request_token", plaintext,
                        {"Requested-Project-Id": delegator.project_id}).status_code == 400

    request_token = _form(_request_token(cloud, consumer, delegator.project_id))
    path = f"/v3/OS-OAUTH1/authorize/{request_token['oauth_token']}"
    # Exchanging a request token nobody authorized.
    assert _access_token(cloud, consumer, request_token, "abcdEFGH").status_code == 401
    # Authorizing: only roles the user holds on the project; a well-formed body; a real token.
    unheld = admin("POST", "/v3/roles", json={"role": {"name": f"unheld-{consumer['id'][:8]}"}}).json()["role"]
    assert as_user("PUT", path, json={"roles": [{"id": unheld["id"]}]}).status_code == 401
    assert as_user("PUT", path, json={"roles": []}).status_code == 400
    assert as_user("PUT", path, json={"roles": [{"name": "no-such-role"}]}).status_code == 404
    assert as_user("PUT", f"/v3/OS-OAUTH1/authorize/{'0' * 32}", json={"roles": [{"name": "member"}]}).status_code == 404
    # A user without admin may not authorize at all (Keystone's default).
    plain = cloud.new_user(("member",), prefix="oauth-plain", project_id=delegator.project_id)
    assert _caller(cloud, _token(cloud, plain))("PUT", path, json={"roles": [{"name": "member"}]}).status_code == 403
    verifier = as_user("PUT", path, json={"roles": [{"name": "member"}]}).json()["token"]["oauth_verifier"]
    # A wrong verifier, a wrong request token secret, another consumer's key.
    wrong = "a" * 8 if verifier != "a" * 8 else "b" * 8
    mismatch = _access_token(cloud, consumer, request_token, wrong)
    assert mismatch.status_code == 401 and "verifier" in mismatch.json()["error"]["message"]
    forged = {**request_token, "oauth_token_secret": "0" * 64}
    assert _access_token(cloud, consumer, forged, verifier).status_code == 401
    odd = _access_token(cloud, consumer, request_token, "\u00e9" * 8)
    assert odd.status_code in (400, 401), odd.text
    stranger = _consumer(admin, "stranger")
    assert _access_token(cloud, stranger, request_token, verifier).status_code == 401
    access = _form(_access_token(cloud, consumer, request_token, verifier))
    # A token: a wrong access secret, an unknown access token.
    assert _oauth_token(cloud, consumer, access, access_secret="0" * 64).status_code == 401
    assert _oauth_token(cloud, consumer, {**access, "oauth_token": "0" * 32}).status_code == 401
    unsigned = requests.post(_url(cloud, "/auth/tokens"), timeout=30,
                             json={"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}})
    assert unsigned.status_code == 400 and "oauth_token" in unsigned.json()["error"]["message"]
    assert _oauth_token(cloud, consumer, access).status_code == 201


def test_request_token_expires(cloud: Cloud, admin: Call, delegator: Credentials) -> None:
    consumer = _consumer(admin)
    as_user = _caller(cloud, _token(cloud, delegator))
    unauthorized = _form(_request_token(cloud, consumer, delegator.project_id))
    authorized = _form(_request_token(cloud, consumer, delegator.project_id))
    verifier = as_user("PUT", f"/v3/OS-OAUTH1/authorize/{authorized['oauth_token']}",
                       json={"roles": [{"name": "member"}]}).json()["token"]["oauth_verifier"]
    time.sleep(REQUEST_TOKEN_SECONDS + 0.5)
    late = as_user("PUT", f"/v3/OS-OAUTH1/authorize/{unauthorized['oauth_token']}",
                   json={"roles": [{"name": "member"}]})
    assert late.status_code == 401 and "expired" in late.json()["error"]["message"]
    exchanged = _access_token(cloud, consumer, authorized, verifier)
    assert exchanged.status_code == 401 and "expired" in exchanged.json()["error"]["message"]
    # The consumer's next request token clears its expired ones away.
    assert _request_token(cloud, consumer, delegator.project_id).status_code == 201
    gone = as_user("PUT", f"/v3/OS-OAUTH1/authorize/{unauthorized['oauth_token']}", json={"roles": [{"name": "member"}]})
    assert gone.status_code == 404


def test_revocation(cloud: Cloud, admin: Call, delegator: Credentials) -> None:
    consumer = _consumer(admin)
    as_user = _caller(cloud, _token(cloud, delegator))
    base = f"/v3/users/{delegator.user_id}/OS-OAUTH1/access_tokens"

    def valid(token: str) -> int:
        return admin("GET", "/v3/auth/tokens", headers={"X-Subject-Token": token}).status_code

    # Deleting the access token ends its tokens, and it signs no new ones.
    first = _delegate(cloud, consumer, delegator, as_user)
    token = _oauth_token(cloud, consumer, first).headers["X-Subject-Token"]
    assert valid(token) == 200
    # Only the user (or the cloud admin) deletes it.
    other = cloud.new_user(("admin",), prefix="oauth-other")
    assert _caller(cloud, _token(cloud, other))("DELETE", f"{base}/{first['oauth_token']}").status_code == 403
    assert as_user("DELETE", f"{base}/{first['oauth_token']}").status_code == 204
    assert valid(token) == 404
    assert _oauth_token(cloud, consumer, first).status_code == 401
    assert as_user("DELETE", f"{base}/{first['oauth_token']}").status_code == 404

    # Losing the delegated role takes it out of the tokens; a token with no role left is no token.
    extra = admin("POST", "/v3/roles", json={"role": {"name": f"delegated-{consumer['id'][:8]}"}}).json()["role"]
    grant = f"/v3/projects/{delegator.project_id}/users/{delegator.user_id}/roles/{extra['id']}"
    assert admin("PUT", grant).status_code == 204
    second = _delegate(cloud, consumer, delegator, as_user, role_names=(extra["name"],))
    token = _oauth_token(cloud, consumer, second).headers["X-Subject-Token"]
    assert valid(token) == 200
    assert admin("DELETE", grant).status_code == 204
    assert valid(token) == 404
    assert _oauth_token(cloud, consumer, second).status_code == 401
    assert admin("PUT", grant).status_code == 204
    token = _oauth_token(cloud, consumer, second).headers["X-Subject-Token"]
    assert valid(token) == 200

    # Deleting the consumer ends every access token and token issued from it.
    assert admin("DELETE", f"/v3/OS-OAUTH1/consumers/{consumer['id']}").status_code == 204
    assert valid(token) == 404
    assert _oauth_token(cloud, consumer, second).status_code == 401
    as_user = _caller(cloud, _token(cloud, delegator))
    assert second["oauth_token"] not in {a["id"] for a in as_user("GET", base).json()["access_tokens"]}


def test_a_delegate_cannot_delegate_further(cloud: Cloud, admin: Call, delegator: Credentials) -> None:
    # Even with the admin role delegated, the consumer's token may not authorize or manage delegations.
    consumer = _consumer(admin)
    access = _delegate(cloud, consumer, delegator, _caller(cloud, _token(cloud, delegator)), role_names=("admin",))
    got = _oauth_token(cloud, consumer, access)
    assert "admin" in [r["name"] for r in got.json()["token"]["roles"]]
    as_consumer = _caller(cloud, got.headers["X-Subject-Token"])
    pending = _form(_request_token(cloud, consumer, delegator.project_id))
    for method, path, body in (
            ("PUT", f"/v3/OS-OAUTH1/authorize/{pending['oauth_token']}", {"roles": [{"name": "member"}]}),
            ("GET", f"/v3/users/{delegator.user_id}/OS-OAUTH1/access_tokens", None),
            ("DELETE", f"/v3/users/{delegator.user_id}/OS-OAUTH1/access_tokens/{access['oauth_token']}", None)):
        refused = as_consumer(method, path, json=body)
        assert refused.status_code == 403, (method, path, refused.text)
        assert "delegation" in refused.json()["error"]["message"]


def test_malformed_oauth_requests_are_4xx(cloud: Cloud, admin: Call, delegator: Credentials) -> None:
    consumer = _consumer(admin)
    key = consumer["id"]
    headers = [
        "OAuth ", "OAuth oauth_consumer_key", 'OAuth oauth_consumer_key="zz"', 'OAuth oauth_consumer_key="%ZZ"',
        f'OAuth oauth_consumer_key="{key}", oauth_signature="x"',
        f'OAuth oauth_consumer_key="{key}", oauth_consumer_key="{key}"',
        f'OAuth oauth_consumer_key="{key}", oauth_token="{"0" * 32}", oauth_verifier="abcdEFGH", '
        'oauth_signature_method="HMAC-SHA1", oauth_signature="x", oauth_timestamp="abc", oauth_nonce="1"',
        f'OAuth oauth_consumer_key="{key}", oauth_token="{"0" * 32}", oauth_signature_method="RSA-SHA1", '
        f'oauth_signature="x", oauth_timestamp="{int(time.time())}", oauth_nonce="n", oauth_version="2.0"',
        'OAuth oauth_consumer_key="\u00e9\u00e9"', "Basic dXNlcjpwYXNz",
    ]
    targets = [("/OS-OAUTH1/request_token", {"Requested-Project-Id": delegator.project_id}, None),
               ("/OS-OAUTH1/access_token", {}, None),
               ("/auth/tokens", {}, {"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}})]
    for path, extra, body in targets:
        for header in headers:
            resp = requests.post(_url(cloud, path), timeout=30, json=body,
                                 headers={"Authorization": header.encode().decode("latin-1"), **extra})
            assert resp.status_code in (400, 401, 404), (path, header, resp.status_code, resp.text)
            assert resp.json()["error"]["code"] == resp.status_code
    # OAuth parameters in a form body as well as in the header are refused, not guessed at.
    client = oauth1.Client(key, client_secret=consumer["secret"], callback_uri="oob")
    url, signed, _ = client.sign(_url(cloud, "/OS-OAUTH1/request_token"), http_method="POST")
    both = requests.post(url, timeout=30, data={"oauth_consumer_key": key},
                         headers={**signed, "Requested-Project-Id": delegator.project_id})
    assert both.status_code in (400, 401), both.text


def test_keystone_clients_drive_the_flow(cloud: Cloud, delegator: Credentials) -> None:
    # python-keystoneclient's OS-OAUTH1 managers and keystoneauth's OAuth1 plugin, as a consumer uses them.
    as_admin = ks_client.Client(session=_session(cloud, cloud.admin))
    consumer = as_admin.oauth1.consumers.create(description="from keystoneclient")
    assert as_admin.oauth1.consumers.get(consumer.id).description == "from keystoneclient"
    request_token = as_admin.oauth1.request_tokens.create(consumer.id, consumer.secret, delegator.project_id)
    as_user = ks_client.Client(session=_session(cloud, delegator))
    member = as_admin.roles.find(name="member")
    verifier = as_user.oauth1.request_tokens.authorize(request_token.key, [member.id]).oauth_verifier
    access = as_admin.oauth1.access_tokens.create(consumer.id, consumer.secret, request_token.key,
                                                  request_token.secret, verifier)
    plugin = ka_oauth1.V3OAuth1(cloud.auth_url, consumer_key=consumer.id, consumer_secret=consumer.secret,
                                access_key=access.key, access_secret=access.secret)
    session = ks_session.Session(auth=plugin)
    assert session.get_project_id() == delegator.project_id
    ref = plugin.get_auth_ref(session)
    assert ref.user_id == delegator.user_id and "member" in ref.role_names and "admin" not in ref.role_names
    assert ref.oauth_access_token_id == access.key and ref.oauth_consumer_id == consumer.id
    # The token works on the API: it reads its own project.
    assert session.get(cloud.auth_url.rstrip("/") + f"/projects/{delegator.project_id}").status_code == 200
    as_admin.oauth1.consumers.delete(consumer.id)
    gone = requests.get(_url(cloud, f"/projects/{delegator.project_id}"), timeout=30,
                        headers={"X-Auth-Token": ref.auth_token})
    assert gone.status_code == 401
