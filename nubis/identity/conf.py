"""Identity's options."""

from __future__ import annotations

from oslo_config import cfg

TOKEN_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("expiration", default=3600, min=60, help="Seconds a token stays valid."),
    cfg.IntOpt("allow_expired_window", default=172800,
               help="Seconds after expiry a service may still validate a token with allow_expired."),
    cfg.IntOpt("cache_time", default=300, help="Seconds a validated token stays in the cache."),
]

FERNET_OPTS = [
    cfg.StrOpt("key_repository", help="Directory of Fernet keys (default: <state_path>/fernet-keys)."),
    cfg.IntOpt("max_active_keys", default=3, min=1,
               help="Keys kept by rotation: the staged key, the primary and the newest secondaries."),
]

IDENTITY_OPTS = [
    cfg.StrOpt("password_hash_algorithm", default="bcrypt", choices=["bcrypt", "scrypt", "pbkdf2_sha512"],
               help="Hash for new passwords; all three are accepted when verifying."),
    cfg.IntOpt("password_hash_rounds", default=12, help="bcrypt cost (Keystone's default: 12)."),
    cfg.IntOpt("password_hash_concurrency", default=0, min=0,
               help="Password checks (token issue, password change) hashing at once per API process; the rest "
               "wait first come, first served. 0: the host's cores divided among the API's worker processes."),
    cfg.IntOpt("password_hash_queue", default=8, min=0,
               help="Password checks allowed to wait for a hashing slot; beyond that a login is refused with "
               "503 and Retry-After. Keep it below the API's threads so token validation always finds a thread."),
    cfg.StrOpt("credential_key", secret=True,
               help="Fernet key (urlsafe base64, 32 bytes) encrypting /v3/credentials blobs "
               "(default: a key file under the Fernet key repository's parent, made on first use)."),
]

RESOURCE_OPTS: list[cfg.Opt] = [
    cfg.StrOpt("admin_project_name",
               help="The cloud-admin project: admin on it is admin of the whole cloud (like a system-scoped "
               "admin), and admin on any other project is not. Tokens scoped to it say is_admin_project: "
               "true. Unset (Keystone's default), every project-scoped token is an admin-project token, so "
               "admin on any project is a cloud admin, as Tempest and most tools expect. Set it (e.g. to the "
               "bootstrap's 'admin') to confine cloud administration to one project."),
    cfg.StrOpt("admin_project_domain_name", default="Default", help="The domain of admin_project_name."),
]

SECURITY_COMPLIANCE_OPTS = [
    cfg.IntOpt("lockout_failure_attempts", default=0, help="Failed logins before a lockout (0: never)."),
    cfg.IntOpt("lockout_duration", default=1800, help="Seconds a locked-out user stays locked."),
    cfg.IntOpt("password_expires_days", default=0, help="Days a password stays valid (0: forever)."),
    cfg.IntOpt("unique_last_password_count", default=0, help="A new password may not repeat the last N."),
    cfg.IntOpt("minimum_password_age", default=0, min=0,
               help="Days a password must be in use before its user may change it themselves (0: any time); "
               "an administrator may always reset it."),
    cfg.StrOpt("password_regex", help="Passwords must match this regular expression."),
    cfg.StrOpt("password_regex_description", help="What password_regex requires, in words users understand."),
]

OAUTH1_OPTS: list[cfg.Opt] = [
    cfg.IntOpt("request_token_duration", default=28800, min=0,
               help="Seconds an OS-OAUTH1 request token stays valid for authorizing and exchanging "
               "(0: until used)."),
    cfg.IntOpt("access_token_duration", default=86400, min=0,
               help="Seconds an OS-OAUTH1 access token stays valid for getting tokens (0: until revoked)."),
]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [
        ("token", TOKEN_OPTS),
        ("fernet_tokens", FERNET_OPTS),
        ("identity", IDENTITY_OPTS),
        ("resource", RESOURCE_OPTS),
        ("security_compliance", SECURITY_COMPLIANCE_OPTS),
        ("oauth1", OAUTH1_OPTS),
    ]


def password_hash_concurrency(conf: cfg.ConfigOpts) -> int:
    """``[identity] password_hash_concurrency``, or this process's share of the host's cores."""
    if conf.identity.password_hash_concurrency:
        return int(conf.identity.password_hash_concurrency)
    import os

    try:
        workers = int(conf.identity.workers)  # registered when identity serves an API
    except (cfg.NoSuchOptError, AttributeError):
        workers = 1
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def key_repository(conf: cfg.ConfigOpts) -> str:
    import os

    return conf.fernet_tokens.key_repository or os.path.join(conf.state_path, "fernet-keys")
