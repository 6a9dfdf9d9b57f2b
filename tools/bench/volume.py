"""Block storage: volume from image, attach/detach latency, sequential I/O through the NBD export vs the raw file.

    python -m tools.bench.volume [--image-mib 1024] [--attaches 10] [--io-mib 1024] [--db sqlite|URL]

The cloud is ``nubis all-in-one`` in its own process (``tools.bench.compute``'s in-process mode: keystone tokens,
SQLite, in-process messaging, one fake compute host) with its volume API and volume manager (file backend, NBD
exports by ``qemu-storage-daemon`` on loopback). Figures:

* Volume from image: seconds from ``POST /volumes`` (``imageRef`` of a raw image of ``--image-mib`` MiB, filled
  with non-zero data so the conversion really writes) to ``available``, the first and the second time. The
  manager has no image cache: each create downloads the image from the image service to a temporary file and
  converts it with ``qemu-img convert`` (``nubis/volume/manager/manager.py`` ``_from_image``), so the second
  create is the same work; the first also waits for the volume API's and the manager's image clients to get
  their first keystone tokens (about 0.3 s each on a 2-core host), and reads a colder page cache.
* Attach/detach through the compute API (``os-volume_attachments``) on the fake driver: ``POST`` until the
  volume is ``in-use``, ``DELETE`` until it is ``available``; each attach really starts an NBD export.
* Sequential I/O: ``qemu-img bench`` (1 MiB requests, 8 in flight, ``--io-mib`` MiB, writes of 0xa5 then reads)
  against the attached volume's export (``nbd://host:port/volume-<id>`` from the attachment's ``connection_info``), then
  against the volume's raw file once detached, with ``-t none`` (O_DIRECT) and with ``-t writeback`` (the page
  cache, as the export's daemon opens the file: ``cache.direct=off``).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import requests

from tools import ports
from tools.bench import _service, compute, figures

MiB = 1024 * 1024
POLL = 0.02  # seconds between status polls: the resolution of the latency figures
BLOCK_MIB, DEPTH = 1, 8
PATTERN = 0xA5  # the byte qemu-img bench writes (its default, 0, could be stored as holes by a smarter path)
# Why a second create from the same image can be faster although nothing is cached by Nubis.
FASTER = ("; the first also pays the services' first keystone tokens (the volume API's and the manager's "
          "image clients log in on first use) and a colder page cache")
_RUN = re.compile(r"Run completed in ([0-9.]+) seconds")


def parse_bench(output: str) -> float:
    """The seconds ``qemu-img bench`` reports (``Run completed in 1.234 seconds.``)."""
    found = _RUN.search(output)
    if found is None:
        raise ValueError(f"no 'Run completed in N seconds' in qemu-img bench's output: {output.strip()[:200]!r}")
    return float(found.group(1))


def mib_per_s(total_mib: float, seconds: float) -> float:
    """Throughput of ``total_mib`` moved in ``seconds`` (a run too short to time counts as 1 ms)."""
    return total_mib / max(seconds, 0.001)


def qemu_bench(target: list[str], io_mib: int, write: bool, cache: str) -> float:
    """MiB/s of ``qemu-img bench`` (sequential, ``BLOCK_MIB`` MiB requests, ``DEPTH`` in flight) on ``target``
    (the arguments naming the image, e.g. ``["-f", "raw", path]``)."""
    count = max(1, io_mib // BLOCK_MIB)
    argv = ["qemu-img", "bench", "-t", cache, "-s", f"{BLOCK_MIB}M", "-c", str(count), "-d", str(DEPTH),
            *(["-w", f"--pattern={PATTERN}"] if write else []), *target]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr.strip()[:500]}")
    return mib_per_s(count * BLOCK_MIB, parse_bench(proc.stdout))


class Client:
    """The compute and volume APIs with the all-in-one admin's token."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.http = requests.Session()
        self.token = compute.HEADERS["X-Auth-Token"]
        me = self.http.get(f"{urls['identity']}/v3/auth/tokens", timeout=30,
                           headers={"X-Auth-Token": self.token, "X-Subject-Token": self.token})
        me.raise_for_status()
        self.volume = f"{urls['volume']}/v3/{me.json()['token']['project']['id']}"
        self.compute = f"{urls['compute-api']}/v2.1"
        self.image = urls["image"]

    def call(self, method: str, url: str, body: Any = None, version: str | None = None,
             **kwargs: Any) -> requests.Response:
        headers = {"X-Auth-Token": self.token, **kwargs.pop("headers", {})}
        if version:
            headers["OpenStack-API-Version"] = version
        return self.http.request(method, url, json=body, headers=headers, timeout=600, **kwargs)

    def wait_storage_host(self, timeout: float = 120) -> None:
        """Until the volume manager has reported (the API refuses creates in a zone with no storage host)."""
        deadline = time.monotonic() + timeout
        while True:
            resp = self.call("GET", f"{self.volume}/os-availability-zone")
            if resp.status_code == 200 and any(z.get("zoneState", {}).get("available")
                                               for z in resp.json()["availabilityZoneInfo"]):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"no storage host reported within {timeout:.0f} s")
            time.sleep(0.2)

    def volume_status(self, volume_id: str) -> str:
        resp = self.call("GET", f"{self.volume}/volumes/{volume_id}")
        if resp.status_code == 404:
            return "deleted"
        resp.raise_for_status()
        volume = resp.json()["volume"]
        if volume["status"].startswith("error"):
            raise RuntimeError(f"volume {volume_id} is {volume['status']}: {volume.get('error_message')}")
        return str(volume["status"])

    def wait_volume(self, volume_id: str, status: str, timeout: float = 600) -> float:
        """Poll until the volume has ``status``; the time it was seen so (``time.perf_counter``)."""
        deadline = time.monotonic() + timeout
        while (now := self.volume_status(volume_id)) != status:
            if time.monotonic() > deadline:
                raise RuntimeError(f"volume {volume_id} is still {now}, not {status}, after {timeout:.0f} s")
            time.sleep(POLL)
        return time.perf_counter()


def upload_image(c: Client, state: str, image_mib: int) -> str:
    """A public raw image of ``image_mib`` MiB of non-zero data (a random MiB repeated)."""
    path = os.path.join(state, "bench-image.raw")
    block = os.urandom(MiB)
    with open(path, "wb") as f:
        for _ in range(image_mib):
            f.write(block)
    image = c.call("POST", f"{c.image}/v2/images", {"name": "bench-volume-image", "disk_format": "raw",
                                                   "container_format": "bare", "visibility": "public"})
    image.raise_for_status()
    image_id = str(image.json()["id"])
    with open(path, "rb") as f:
        c.call("PUT", f"{c.image}/v2/images/{image_id}/file", data=f,
               headers={"Content-Type": "application/octet-stream"}).raise_for_status()
    os.unlink(path)
    return image_id


def volume_from_image(c: Client, image_id: str, size_gib: int) -> tuple[str, float]:
    started = time.perf_counter()
    resp = c.call("POST", f"{c.volume}/volumes", {"volume": {"size": size_gib, "imageRef": image_id,
                                                             "name": "bench"}})
    if resp.status_code != 202:
        raise RuntimeError(f"volume create answered {resp.status_code}: {resp.text[:300]}")
    volume_id = str(resp.json()["volume"]["id"])
    return volume_id, c.wait_volume(volume_id, "available") - started


def boot(c: Client, urls: dict[str, str]) -> str:
    """A server on the fake host, once the compute agent has registered with the scheduler."""
    image, flavor = compute.prepare(urls)
    for _ in range(30):
        try:
            return compute.boot_to_active(c.http, urls["compute-api"], image, flavor, POLL)[0]
        except RuntimeError:  # NoValidHost while the agent is still joining: try again
            time.sleep(2)
    raise RuntimeError("no server became ACTIVE in a minute")


def attach(c: Client, server_id: str, volume_id: str) -> float:
    started = time.perf_counter()
    resp = c.call("POST", f"{c.compute}/servers/{server_id}/os-volume_attachments",
                  {"volumeAttachment": {"volumeId": volume_id}}, "compute 2.79")
    if resp.status_code != 200:
        raise RuntimeError(f"attach answered {resp.status_code}: {resp.text[:300]}")
    return c.wait_volume(volume_id, "in-use") - started


def detach(c: Client, server_id: str, volume_id: str) -> float:
    started = time.perf_counter()
    resp = c.call("DELETE", f"{c.compute}/servers/{server_id}/os-volume_attachments/{volume_id}")
    if resp.status_code != 202:
        raise RuntimeError(f"detach answered {resp.status_code}: {resp.text[:300]}")
    return c.wait_volume(volume_id, "available") - started


def export_of(c: Client, volume_id: str) -> dict[str, Any]:
    """The NBD export (``connection_info.data``) of the volume's one attachment."""
    attachment = c.call("GET", f"{c.volume}/volumes/{volume_id}").json()["volume"]["attachments"][0]
    shown = c.call("GET", f"{c.volume}/attachments/{attachment['attachment_id']}", version="volume 3.27")
    shown.raise_for_status()
    info = shown.json()["attachment"]["connection_info"]
    if info.get("driver_volume_type") != "nbd":
        raise RuntimeError(f"the attachment's connection_info is not an NBD export: {info}")
    return dict(info["data"])


def wait_unexported(volumes_dir: str, volume_id: str, timeout: float = 30) -> None:
    """Until the manager has stopped the volume's export (its state file gone): the daemon holds the file's lock."""
    deadline = time.monotonic() + timeout
    while os.path.exists(os.path.join(volumes_dir, f"export-{volume_id}.json")):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the export of volume {volume_id} is still there after {timeout:.0f} s")
        time.sleep(0.1)


def stop_leftover_exports(volumes_dir: str) -> list[int]:
    """Stop any ``qemu-storage-daemon`` still exporting a file of this bench's ``volumes_dir`` (they run detached
    from the manager; rapid attach/detach cycles can leave one whose state file was overwritten); the pids."""
    stopped = []
    needle = f"filename={volumes_dir}/".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if b"qemu-storage-daemon" in cmdline.split(b"\0")[0] and needle in cmdline:
            os.kill(int(entry), signal.SIGTERM)
            stopped.append(int(entry))
    return stopped


def _io(target: list[str], io_mib: int, cache: str) -> tuple[float, float]:
    return qemu_bench(target, io_mib, True, cache), qemu_bench(target, io_mib, False, cache)


def run(c: Client, urls: dict[str, str], state: str, args: argparse.Namespace) -> dict[str, Any]:
    size_gib = max(1, -(-args.image_mib // 1024))
    image_id = upload_image(c, state, args.image_mib)
    c.wait_storage_host()
    volume_id, first = volume_from_image(c, image_id, size_gib)
    second_id, second = volume_from_image(c, image_id, size_gib)
    c.call("DELETE", f"{c.volume}/volumes/{second_id}").raise_for_status()
    c.wait_volume(second_id, "deleted")

    server_id = boot(c, urls)
    attaches, detaches = [], []
    for _ in range(args.attaches):
        attaches.append(attach(c, server_id, volume_id))
        detaches.append(detach(c, server_id, volume_id))

    volumes_dir = os.path.join(state, "volumes")
    attach(c, server_id, volume_id)
    data = export_of(c, volume_id)
    nbd = ["--image-opts", f"driver=raw,file.driver=nbd,file.host={data['host']},file.port={data['port']},"
                           f"file.export={data['name']}"]
    nbd_write, nbd_read = _io(nbd, args.io_mib, "none")
    detach(c, server_id, volume_id)
    wait_unexported(volumes_dir, volume_id)
    raw = ["-f", "raw", os.path.join(volumes_dir, f"volume-{volume_id}")]
    direct_write, direct_read = _io(raw, args.io_mib, "none")
    cached_write, cached_read = _io(raw, args.io_mib, "writeback")

    c.call("DELETE", f"{c.compute}/servers/{server_id}").raise_for_status()
    c.call("DELETE", f"{c.volume}/volumes/{volume_id}").raise_for_status()
    c.wait_volume(volume_id, "deleted")
    c.call("DELETE", f"{c.image}/v2/images/{image_id}")
    return {"size_gib": size_gib, "first": first, "second": second, "attaches": attaches, "detaches": detaches,
            "nbd": (nbd_write, nbd_read), "direct": (direct_write, direct_read),
            "cached": (cached_write, cached_read)}


def report(r: dict[str, Any], args: argparse.Namespace) -> list[str]:
    base = {"db": args.db.split(":")[0], "driver": "fake", "backend": "file"}
    image = {**base, "image_mib": args.image_mib, "volume_gib": r["size_gib"], "image_cache": "none"}
    figures.record("volume", "volume from raw image to available, first", r["first"], "s", **image)
    figures.record("volume", "volume from raw image to available, second", r["second"], "s", **image)
    n = args.attaches
    attach_p50, detach_p50 = statistics.median(r["attaches"]) * 1000, statistics.median(r["detaches"]) * 1000
    figures.record("volume", f"attach to in-use, p50 of {n}", attach_p50, "ms", **base, export="nbd")
    figures.record("volume", f"detach to available, p50 of {n}", detach_p50, "ms", **base, export="nbd")
    io = {**base, "tool": "qemu-img bench", "block": f"{BLOCK_MIB}M", "depth": DEPTH, "io_mib": args.io_mib}
    paths = (("NBD export (loopback), client -t none", "nbd"), ("raw file -t none (O_DIRECT)", "direct"),
             ("raw file -t writeback", "cached"))
    for label, key in paths:
        write, read = r[key]
        figures.record("volume", f"sequential write, {label}", write, "MiB/s", **io)
        figures.record("volume", f"sequential read, {label}", read, "MiB/s", **io)
    for key in ("direct", "cached"):
        for i, kind in enumerate(("write", "read")):
            figures.record("volume", f"sequential {kind}, NBD export / raw file -t "
                                     f"{'none' if key == 'direct' else 'writeback'}",
                           100 * r["nbd"][i] / r[key][i], "%", **io)
    faster = r["second"] < r["first"] * 0.9
    lines = [f"  volume from a {args.image_mib} MiB raw image ({r['size_gib']} GiB volume) to available: "
             f"first {r['first']:.2f} s, second {r['second']:.2f} s "
             f"({'faster' if faster else 'not faster'}; no image cache: the manager downloads and converts the "
             f"image every time{FASTER if faster else ''})",
             f"  attach to in-use:     p50 {attach_p50:6.0f} ms  (of {n}: "
             f"{', '.join(f'{x * 1000:.0f}' for x in r['attaches'])})",
             f"  detach to available:  p50 {detach_p50:6.0f} ms  (of {n}: "
             f"{', '.join(f'{x * 1000:.0f}' for x in r['detaches'])})",
             f"  sequential I/O, qemu-img bench {BLOCK_MIB} MiB x {args.io_mib // BLOCK_MIB}, depth {DEPTH}:"
             "            write MiB/s   read MiB/s"]
    for label, key in paths:
        lines.append(f"    {label:<40} {r[key][0]:10.0f} {r[key][1]:12.0f}")
    for key, label in (("direct", "raw -t none"), ("cached", "raw -t writeback")):
        lines.append(f"    NBD / {label:<34} {100 * r['nbd'][0] / r[key][0]:9.0f}% "
                     f"{100 * r['nbd'][1] / r[key][1]:11.0f}%")
    return lines


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="tools.bench.volume")
    parser.add_argument("--image-mib", type=int, default=1024, help="size of the raw image volumes are made from")
    parser.add_argument("--attaches", type=int, default=10, help="attach/detach cycles timed")
    parser.add_argument("--io-mib", type=int, default=1024, help="MiB each qemu-img bench run moves")
    parser.add_argument("--db", default="sqlite", help="sqlite, or a server URL without a database name")
    args = parser.parse_args(argv)
    if args.image_mib < 1 or args.attaches < 1 or args.io_mib < BLOCK_MIB:
        parser.error("--image-mib, --attaches and --io-mib must be positive")
    nbd = ports.free_offset(list(range(20)))
    settings = {"compute": compute.BIG_HOST, "quota": compute.NO_QUOTA,
                "volume": {"nbd_port_min": str(nbd), "nbd_port_max": str(nbd + 19), "report_interval": "1"}}
    with tempfile.TemporaryDirectory() as state, _service.scratch_database(args.db, state, "volume") as db:
        try:
            with compute.in_process(state, db, settings=settings) as urls:
                result = run(Client(urls), urls, state, args)
        finally:
            stopped = stop_leftover_exports(os.path.join(state, "volumes"))
            if stopped:
                print(f"  stopped qemu-storage-daemon left exporting: pids {stopped}", flush=True)
    print(f"volume bench: nubis all-in-one, db={args.db.split(':')[0]}, fake compute driver, file backend, "
          "NBD exports on loopback, keystone tokens")
    print("\n".join(report(result, args)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
