"""Image disk formats a volume can be made from, and qemu-img's name for each (never let qemu-img guess)."""

from __future__ import annotations

IMAGE_FORMATS = {"raw": "raw", "qcow2": "qcow2", "vmdk": "vmdk", "vdi": "vdi", "vhd": "vpc", "vhdx": "vhdx"}
