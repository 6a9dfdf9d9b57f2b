"""rally-jobs/*.yaml through rally-openstack against the all-in-one (compute on the fake driver)."""

from __future__ import annotations

import io
import json
import os
import subprocess
from typing import Any

import pytest

from tests.functional.cloud import running_cloud

pytestmark = pytest.mark.e2e

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run_job(cloud: Any, job: str, workdir: str, task_args: dict[str, Any] | None = None,
             ) -> subprocess.CompletedProcess[str]:
    """rally-jobs/<job>.yaml against ``cloud`` with tools/rally/run (exits non-zero on a missed SLA)."""
    env = dict(os.environ)
    if task_args:
        env["NUBIS_RALLY_TASK_ARGS"] = json.dumps(task_args)
    return subprocess.run(
        [os.path.join(ROOT, "tools", "rally", "run"), os.path.join(ROOT, "rally-jobs", f"{job}.yaml"),
         os.path.join(cloud.aio.state_dir, "openrc"), workdir],
        capture_output=True, text=True, timeout=1200, env=env,
    )


def test_identity_rally_job_is_green(tmp_path) -> None:  # type: ignore[no-untyped-def]
    extra = {"identity": {"password_hash_rounds": "4"}}
    with running_cloud(tmp_path / "cloud", ["identity"], extra_config=extra) as cloud:
        proc = _run_job(cloud, "identity", str(tmp_path / "rally"))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    # Every scenario ran its iterations with no failures (the SLA check printed PASS for each).
    assert proc.stdout.count("PASS") >= 4, proc.stdout[-4000:]


def test_compute_rally_job_is_green(tmp_path) -> None:  # type: ignore[no-untyped-def]
    extra = {"identity": {"password_hash_rounds": "4"}}
    services = ["image", "placement", "scheduler", "compute-api", "conductor", "compute"]
    with running_cloud(tmp_path / "cloud", services, extra_config=extra) as cloud:
        conn = cloud.connection()
        for name in ("tiny", "tiny-2"):
            conn.image.create_image(name=name, disk_format="raw", container_format="bare", visibility="public",
                                    data=io.BytesIO(name.encode() * 512))
        conn.compute.create_flavor(name="m1.tiny", ram=512, vcpus=1, disk=1)
        conn.compute.create_flavor(name="m1.small", ram=1024, vcpus=1, disk=2)
        proc = _run_job(cloud, "compute", str(tmp_path / "rally"))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-4000:]
    assert proc.stdout.count("PASS") >= 4, proc.stdout[-4000:]


def test_network_rally_job_is_green(tmp_path) -> None:  # type: ignore[no-untyped-def]
    extra = {"identity": {"password_hash_rounds": "4"}}
    with running_cloud(tmp_path / "cloud", ["network"], extra_config=extra) as cloud:
        proc = _run_job(cloud, "network", str(tmp_path / "rally"))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-4000:]
    assert proc.stdout.count("PASS") >= 7, proc.stdout[-4000:]


def test_image_rally_job_is_green(tmp_path) -> None:  # type: ignore[no-untyped-def]
    extra = {"identity": {"password_hash_rounds": "4"}}
    data = tmp_path / "small.img"
    data.write_bytes(b"nubis" * 20000)
    with running_cloud(tmp_path / "cloud", ["image"], extra_config=extra) as cloud:
        proc = _run_job(cloud, "image", str(tmp_path / "rally"), {"image_location": str(data)})
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-4000:]
    assert proc.stdout.count("PASS") >= 3, proc.stdout[-4000:]
