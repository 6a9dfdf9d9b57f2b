"""Writing tempest.conf: the admin's credentials, the discovered settings, the run's own options."""

from __future__ import annotations

from tools.tempest.cloud import Credentials
from tools.tempest.discover import Setting


def render(creds: Credentials, settings: list[Setting], log_file: str) -> str:
    """tempest.conf text (INI); a discovered setting overrides the base ones below."""
    sections: dict[str, dict[str, str]] = {
        "DEFAULT": {"log_file": log_file, "use_stderr": "false"},
        "auth": {
            # Tempest makes a project and users per test class from the admin's credentials.
            "use_dynamic_credentials": "true",
            "create_isolated_networks": "true",
            "admin_username": creds.username,
            "admin_password": creds.password,
            "admin_project_name": creds.project_name,
            "admin_domain_name": "Default" if creds.user_domain_id else creds.user_domain_name,
        },
        "identity": {"v3_endpoint_type": "public"},
    }
    for s in settings:
        sections.setdefault(s.group, {})[s.option] = s.value
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {v}" for k, v in values.items()]
        lines.append("")
    return "\n".join(lines)
