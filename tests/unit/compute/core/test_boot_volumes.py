"""Block device mappings of a boot read as Nova reads them: what makes a server volume-backed, and what is a 400."""

from __future__ import annotations

from typing import Any

import pytest

from nubis.common import exceptions
from nubis.compute.core import boot_volumes

VOLUME = "8a1b7c2e-0000-4000-8000-000000000001"
IMAGE = "8a1b7c2e-0000-4000-8000-000000000002"


def _v2(*items: dict[str, Any]) -> list[boot_volumes.BootDevice]:
    return boot_volumes.parse({"block_device_mapping_v2": list(items)})


def test_a_volume_root_from_each_source() -> None:
    for source, uuid in (("volume", VOLUME), ("snapshot", VOLUME), ("image", IMAGE), ("blank", None)):
        item = {"boot_index": "0", "source_type": source, "destination_type": "volume", "volume_size": "2",
                "delete_on_termination": "yes", **({"uuid": uuid} if uuid else {})}
        root = boot_volumes.root_volume(_v2(item))
        assert root == boot_volumes.BootDevice(source, "volume", uuid, 0, 2, True), source


def test_legacy_vda_is_the_root_and_no_device_is_skipped() -> None:
    found = boot_volumes.parse({"block_device_mapping": [
        {"device_name": "/dev/vda", "volume_id": VOLUME, "delete_on_termination": True},
        {"device_name": "vdb", "no_device": True}]})
    assert found == [boot_volumes.BootDevice("volume", "volume", VOLUME, 0, None, True, device_name="/dev/vda")]
    [snap] = boot_volumes.parse({"block_device_mapping": [{"device_name": "vda", "snapshot_id": VOLUME}]})
    assert (snap.source_type, snap.boot_index) == ("snapshot", 0)


def test_an_image_to_local_root_is_the_image_boot() -> None:
    devices = _v2({"boot_index": 0, "source_type": "image", "uuid": IMAGE, "destination_type": "local"})
    assert boot_volumes.root_volume(devices) is None and boot_volumes.root_image(devices) == IMAGE
    # destination_type defaults to local for images, as in Nova.
    assert boot_volumes.root_image(_v2({"boot_index": 0, "source_type": "image", "uuid": IMAGE})) == IMAGE


@pytest.mark.parametrize(("items", "why"), [
    ([{"boot_index": 0, "source_type": "image", "uuid": IMAGE, "destination_type": "volume"}], "non-zero size"),
    ([{"boot_index": 0, "source_type": "blank", "destination_type": "volume"}], "non-zero size"),
    ([{"boot_index": 0, "source_type": "volume", "destination_type": "volume"}], "Missing device UUID"),
    ([{"boot_index": 0, "source_type": "floppy", "uuid": VOLUME}], "source_type"),
    ([{"boot_index": 0, "source_type": "volume", "uuid": VOLUME, "destination_type": "volume"},
      {"boot_index": 0, "source_type": "volume", "uuid": IMAGE, "destination_type": "volume"}], "Boot sequence"),
    ([{"boot_index": 1, "source_type": "volume", "uuid": VOLUME, "destination_type": "volume"}], "Boot sequence"),
    ([{"boot_index": 0, "source_type": "volume", "uuid": VOLUME, "destination_type": "local"}], "local disk"),
    ([{"boot_index": 0, "source_type": "blank", "destination_type": "local", "volume_size": 1}], "not supported"),
    ([{"boot_index": 0, "source_type": "volume", "uuid": VOLUME, "destination_type": "volume", "volume_size": "0"}],
     "at least 1"),
    ([{"boot_index": 0, "source_type": "volume", "uuid": VOLUME, "destination_type": "volume"},
      {"source_type": "volume", "uuid": VOLUME, "destination_type": "volume"}], "mapped more than once"),
    ([{"boot_index": 0, "source_type": "volume", "uuid": VOLUME, "destination_type": "volume"},
      {"boot_index": 2, "source_type": "volume", "uuid": IMAGE, "destination_type": "volume"}], "Boot sequence"),
])
def test_bad_mappings_are_400(items: list[dict[str, Any]], why: str) -> None:
    with pytest.raises(exceptions.BadRequest, match=why):
        _v2(*items)


def test_both_syntaxes_at_once_are_400() -> None:
    with pytest.raises(exceptions.BadRequest, match="different block_device_mapping syntaxes"):
        boot_volumes.parse({"block_device_mapping": [{"device_name": "vda", "volume_id": VOLUME}],
                            "block_device_mapping_v2": [{"boot_index": 0, "source_type": "volume", "uuid": VOLUME,
                                                         "destination_type": "volume"}]})


def test_a_negative_boot_index_is_not_bootable_and_leaves_no_gap() -> None:
    root = {"boot_index": 0, "source_type": "volume", "uuid": VOLUME, "destination_type": "volume"}
    image = {"boot_index": "-1", "source_type": "image", "uuid": IMAGE, "destination_type": "volume",
             "volume_size": 1}
    # Not bootable (None), so the sequence 0 has no gap: a data volume made from the image.
    found = _v2(root, image)
    assert [d.boot_index for d in boot_volumes.data_volumes(found)] == [None]
    assert boot_volumes._boot_index("-1") is None and boot_volumes._boot_index(None) is None


def test_data_volumes_go_with_an_image_root() -> None:
    """imageRef is the boot_index 0 (Nova adds its mapping): a volume with boot_index 1 leaves no gap."""
    data = {"boot_index": 1, "source_type": "blank", "destination_type": "volume", "volume_size": 1}
    found = boot_volumes.parse({"imageRef": IMAGE, "block_device_mapping_v2": [data]})
    assert boot_volumes.root_volume(found) is None and len(boot_volumes.data_volumes(found)) == 1
    with pytest.raises(exceptions.BadRequest, match="Boot sequence"):
        _v2(data)
    # a legacy mapping other than vda is a data volume
    [legacy] = boot_volumes.parse({"imageRef": IMAGE, "block_device_mapping": [{"device_name": "vdc",
                                                                                  "volume_id": VOLUME}]})
    assert (legacy.boot_index, legacy.device_name) == (None, "/dev/vdc")


def test_device_names_asked_for_are_kept_when_free_and_the_rest_follow_the_guests_disks() -> None:
    def volume(name: str | None = None) -> boot_volumes.BootDevice:
        return boot_volumes.BootDevice("blank", "volume", None, None, 1, device_name=name)

    local = boot_volumes.local_devices({"ephemeral_gb": 1, "swap": 0}, config_drive=False)
    assert local == ["/dev/vda", "/dev/vdb"]
    named = boot_volumes.name_devices([volume(), volume("/dev/vdd"), volume("/dev/vda"), volume("sdb")], local)
    # vdd as asked; vda is the root's and sdb no virtio name: those get the next free ones, like the unnamed one
    assert [d.device_name for d in named] == ["/dev/vdc", "/dev/vdd", "/dev/vde", "/dev/vdf"]
    assert boot_volumes.local_devices({"ephemeral_gb": 0, "swap": 512}, config_drive=True) == [
        "/dev/vda", "/dev/vdb", "/dev/vdc"]
    with pytest.raises(exceptions.BadRequest, match="too many volumes"):
        boot_volumes.name_devices([volume() for _ in range(26)], ["/dev/vda"])
