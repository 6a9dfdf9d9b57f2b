"""Token issue under overload: password checks wait for a hashing slot; past the queue bound, 503 + Retry-After."""

from __future__ import annotations

import threading

import requests

from tests.functional.cloud import running_cloud

# One slot and no queue, with a hash slow enough (bcrypt cost 10) that simultaneous logins overlap.
OVERLOAD = {"identity": {"password_hash_rounds": "10", "password_hash_concurrency": "1",
                         "password_hash_queue": "0"}}


def test_logins_past_the_queue_are_shed_with_retry_after(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with running_cloud(tmp_path, ["identity"], extra_config=OVERLOAD) as cloud:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": cloud.admin.password}}}}}
        start = threading.Barrier(6)
        answers: list[requests.Response] = []

        def login() -> None:
            start.wait()
            answers.append(requests.post(cloud.auth_url + "/auth/tokens", json=body, timeout=60))

        threads = [threading.Thread(target=login) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in answers)
        assert 201 in codes and 503 in codes and set(codes) <= {201, 503}, codes
        shed = next(r for r in answers if r.status_code == 503)
        assert int(shed.headers["Retry-After"]) >= 1
        error = shed.json()["error"]
        assert error["code"] == 503 and error["title"] == "Service Unavailable" and "retry" in error["message"]
        # Token validation needs no hashing slot: it is never shed.
        token = next(r for r in answers if r.status_code == 201).headers["X-Subject-Token"]
        check = requests.get(cloud.auth_url + "/auth/tokens", timeout=20,
                             headers={"X-Auth-Token": token, "X-Subject-Token": token})
        assert check.status_code == 200
