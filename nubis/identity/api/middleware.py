"""Identity reads its own tokens: the same environ keystonemiddleware would give the other APIs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from nubis.api import router
from nubis.common import exceptions
from nubis.identity.core import app_creds
from nubis.identity.core.facade import IdentityCore

# Where handlers find the caller's application credential (restricted or not), if its token came from one.
APP_CRED_KEY = "nubis.identity.application_credential"
# Where handlers find how the caller's token was delegated ("OS-OAUTH1", "OS-TRUST:trust"), if it was.
DELEGATION_KEY = "nubis.identity.delegation"

# Headers only a trusted token reader may set; anything a client sends is dropped.
_IDENTITY_HEADERS = (
    "HTTP_X_IDENTITY_STATUS", "HTTP_X_USER_ID", "HTTP_X_USER_NAME", "HTTP_X_USER_DOMAIN_ID",
    "HTTP_X_USER_DOMAIN_NAME", "HTTP_X_PROJECT_ID", "HTTP_X_PROJECT_NAME", "HTTP_X_PROJECT_DOMAIN_ID",
    "HTTP_X_PROJECT_DOMAIN_NAME", "HTTP_X_DOMAIN_ID", "HTTP_X_DOMAIN_NAME", "HTTP_X_ROLES",
    "HTTP_X_SYSTEM_SCOPE", "HTTP_X_IS_ADMIN_PROJECT", "HTTP_X_SERVICE_CATALOG",
)


def auth_factory(core: IdentityCore) -> Callable[[Any], Any]:
    def factory(app: Any) -> Any:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            for key in (*_IDENTITY_HEADERS, APP_CRED_KEY, DELEGATION_KEY):
                environ.pop(key, None)
            environ[router.AUTHENTICATED_KEY] = False
            token_id = environ.get("HTTP_X_AUTH_TOKEN")
            if token_id:
                try:
                    token = core.tokens.validate(token_id)["token"]
                except exceptions.NotFound:
                    # An invalid token on a public route (token issue) is ignored; elsewhere: 401.
                    environ["HTTP_X_IDENTITY_STATUS"] = "Invalid"
                    return app(environ, start_response)
                if not _access_rules_allow(environ, token):
                    environ["HTTP_X_IDENTITY_STATUS"] = "Invalid"
                    return app(environ, start_response)
                _set_identity(environ, token)
            return app(environ, start_response)

        return middleware

    return factory


def token_app_cred(environ: dict[str, Any]) -> dict[str, Any] | None:
    """The ``application_credential`` part of the caller's token, when it came from one."""
    return environ.get(APP_CRED_KEY)


def require_not_delegated(environ: dict[str, Any], action: str,
                          kinds: tuple[str, ...] = ("OS-OAUTH1", "OS-TRUST:trust")) -> None:
    """Refuse (403) a token issued through a delegation of ``kinds`` doing what only its user may, as
    Keystone refuses it: a delegate must not re-delegate or manage the delegation it acts under."""
    if environ.get(DELEGATION_KEY) in kinds:
        raise exceptions.Forbidden(f"Cannot {action} with a token issued via delegation.")


def _access_rules_allow(environ: dict[str, Any], token: dict[str, Any]) -> bool:
    """Enforce an application credential's access rules on identity's own API, as keystonemiddleware does
    on the others; validating a token is always allowed."""
    rules = (token.get("application_credential") or {}).get("access_rules")
    if rules is None:
        return True
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    if method == "GET" and path.endswith("/v3/auth/tokens"):
        return True
    return app_creds.allows(rules, "identity", method, path)


def _set_identity(environ: dict[str, Any], token: dict[str, Any]) -> None:
    user = token["user"]
    environ.update({
        "HTTP_X_IDENTITY_STATUS": "Confirmed",
        "HTTP_X_USER_ID": user["id"], "HTTP_X_USER_NAME": user["name"],
        "HTTP_X_USER_DOMAIN_ID": user["domain"]["id"], "HTTP_X_USER_DOMAIN_NAME": user["domain"]["name"],
        "HTTP_X_ROLES": ",".join(r["name"] for r in token.get("roles", [])),
    })
    if "project" in token:
        p = token["project"]
        environ.update({"HTTP_X_PROJECT_ID": p["id"], "HTTP_X_PROJECT_NAME": p["name"],
                        "HTTP_X_PROJECT_DOMAIN_ID": p["domain"]["id"], "HTTP_X_PROJECT_DOMAIN_NAME": p["domain"]["name"],
                        # oslo.context takes a missing header as True: always say it.
                        "HTTP_X_IS_ADMIN_PROJECT": str(bool(token.get("is_admin_project"))).lower()})
    elif "domain" in token:
        environ.update({"HTTP_X_DOMAIN_ID": token["domain"]["id"], "HTTP_X_DOMAIN_NAME": token["domain"]["name"]})
    elif "system" in token:
        # The header keystonemiddleware sets and oslo.context reads.
        environ["HTTP_OPENSTACK_SYSTEM_SCOPE"] = "all"
    if "application_credential" in token:
        environ[APP_CRED_KEY] = token["application_credential"]
    delegation = next((k for k in ("OS-OAUTH1", "OS-TRUST:trust") if k in token), None)
    if delegation:
        environ[DELEGATION_KEY] = delegation
    environ[router.AUTHENTICATED_KEY] = True
