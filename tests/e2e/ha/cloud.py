"""A thin authenticated client for the kill tests: one token, the catalog's endpoints, no retries.

The load generator and the checks must count every failure honestly, so nothing here retries: a
request either answers or raises, and the caller records which.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import requests

TIMEOUT_S = 30.0


def read_openrc(path: str) -> dict[str, str]:
    """The ``export K=V`` lines of an openrc file, as a dict (quotes around values removed)."""
    env: dict[str, str] = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("export "):
                continue
            key, _, value = line.removeprefix("export ").partition("=")
            env[key.strip()] = value.strip().strip("'\"")
    return env


def password_auth(user: str, password: str, project: str, user_domain: str = "default",
                  project_domain: str = "default") -> dict[str, Any]:
    """The body of POST /v3/auth/tokens for a password login scoped to a project (domains by id)."""
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": password, "domain": {"id": user_domain}}}},
        "scope": {"project": {"name": project, "domain": {"id": project_domain}}}}}


@dataclasses.dataclass
class Cloud:
    """A token, the endpoints of the public interface by service type, and a session to use them."""

    auth_url: str
    token: str
    project_id: str
    user_id: str
    endpoints: dict[str, str]
    http: requests.Session

    @classmethod
    def login(cls, auth_url: str, body: dict[str, Any], interface: str = "public") -> Cloud:
        """Issue a token with ``body`` at ``auth_url`` (…/v3) and read the catalog it carries."""
        http = requests.Session()
        resp = http.post(auth_url.rstrip("/") + "/auth/tokens", json=body, timeout=TIMEOUT_S)
        resp.raise_for_status()
        token = resp.json()["token"]
        endpoints = {}
        for entry in token.get("catalog", []):
            for ep in entry["endpoints"]:
                if ep["interface"] == interface:
                    endpoints[entry["type"]] = ep["url"].rstrip("/")
        http.headers.update({"X-Auth-Token": resp.headers["X-Subject-Token"],
                             "OpenStack-API-Version": "compute 2.90, placement 1.39",
                             "X-OpenStack-Nova-API-Version": "2.90"})
        return cls(auth_url.rstrip("/"), resp.headers["X-Subject-Token"], token["project"]["id"],
                   token["user"]["id"], endpoints, http)

    @classmethod
    def from_openrc(cls, path: str) -> Cloud:
        """Log in with the credentials of an openrc file (the deployment's admin)."""
        env = read_openrc(path)
        body = password_auth(env["OS_USERNAME"], env["OS_PASSWORD"], env["OS_PROJECT_NAME"],
                             env.get("OS_USER_DOMAIN_ID", "default"), env.get("OS_PROJECT_DOMAIN_ID", "default"))
        return cls.login(env["OS_AUTH_URL"], body, env.get("OS_INTERFACE", "public"))

    @staticmethod
    def from_openrc_token(cloud: Cloud) -> str:
        """A second token of the same user (a subject to validate), issued with ``cloud``'s own token."""
        resp = cloud.http.post(cloud.auth_url + "/auth/tokens", timeout=TIMEOUT_S, json={"auth": {
            "identity": {"methods": ["token"], "token": {"id": cloud.token}}}})
        resp.raise_for_status()
        return resp.headers["X-Subject-Token"]

    def url(self, service_type: str, path: str) -> str:
        """The URL of ``path`` under the endpoint of ``service_type`` (identity: the auth URL)."""
        base = self.auth_url if service_type == "identity" else self.endpoints[service_type]
        if service_type == "image" and not base.endswith("/v2"):
            base += "/v2"
        if service_type == "network" and not base.endswith("/v2.0"):
            base += "/v2.0"
        return base + path

    def call(self, method: str, service_type: str, path: str, expect: tuple[int, ...] = (200,),
             **kwargs: Any) -> requests.Response:
        """One request; raises RuntimeError with the body when the status is not one of ``expect``."""
        kwargs.setdefault("timeout", TIMEOUT_S)
        resp = self.http.request(method, self.url(service_type, path), **kwargs)
        if resp.status_code not in expect:
            raise RuntimeError(f"{method} {service_type} {path}: {resp.status_code} {resp.text[:300]}")
        return resp

    def get(self, service_type: str, path: str, **kwargs: Any) -> Any:
        """GET and decode the JSON body (200 expected)."""
        return self.call("GET", service_type, path, **kwargs).json()

    def post(self, service_type: str, path: str, body: Any, expect: tuple[int, ...] = (200, 201, 202)) -> Any:
        """POST a JSON body and decode the answer (empty answers give None)."""
        resp = self.call("POST", service_type, path, expect=expect, data=json.dumps(body),
                         headers={"Content-Type": "application/json"})
        return resp.json() if resp.content else None
