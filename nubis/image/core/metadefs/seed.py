"""A small starting catalog: definitions dashboards offer when an image, flavor or volume is edited.

Written for Nubis (the keys are the ones the compute service and libvirt read); an operator loads it
with ``nubis-manage image metadefs load`` and can load their own files the same way.
"""

from __future__ import annotations

from typing import Any

_IMAGE_AND_VOLUME = [{"name": "OS::Glance::Image", "prefix": "hw_"},
                     {"name": "OS::Cinder::Volume", "prefix": "hw_", "properties_target": "image"}]

WATCHDOG: dict[str, Any] = {
    "namespace": "OS::Compute::Watchdog",
    "display_name": "Watchdog Behavior",
    "description": "What the hypervisor does when the guest's emulated watchdog device fires, a sign the "
                   "guest has stopped responding.",
    "resource_type_associations": [*_IMAGE_AND_VOLUME, {"name": "OS::Nova::Flavor", "prefix": "hw:"}],
    "properties": {
        "watchdog_action": {
            "title": "Watchdog Action", "type": "string",
            "description": "Action taken when the watchdog fires; with none set no watchdog device is added.",
            "enum": ["disabled", "reset", "poweroff", "pause", "none"]}},
}

HYPERVISOR: dict[str, Any] = {
    "namespace": "OS::Compute::Hypervisor",
    "display_name": "Hypervisor Selection",
    "description": "Which kind of hypervisor and virtual machine mode an image needs; the scheduler only "
                   "places it on hosts that match.",
    "resource_type_associations": [{"name": "OS::Glance::Image"}],
    "properties": {
        "hypervisor_type": {
            "title": "Hypervisor Type", "type": "string",
            "description": "The hypervisor the image runs on.",
            "enum": ["qemu", "kvm", "lxc", "xen", "vmware", "hyperv"]},
        "vm_mode": {
            "title": "VM Mode", "type": "string",
            "description": "The virtual machine ABI the image expects: hvm for full virtualization.",
            "enum": ["hvm", "xen", "uml", "exe"]}},
}

CPU_TOPOLOGY: dict[str, Any] = {
    "namespace": "OS::Compute::VirtCPUTopology",
    "display_name": "Virtual CPU Topology",
    "description": "How the guest's virtual CPUs are laid out as sockets, cores and threads, for guest "
                   "operating systems licensed or tuned per socket.",
    "resource_type_associations": [*_IMAGE_AND_VOLUME, {"name": "OS::Nova::Flavor", "prefix": "hw:"}],
    "properties": {
        f"{kind}_{unit}": {"title": f"vCPU {unit.title()} ({kind.replace('_', ' ')})", "type": "integer",
                           "description": f"The {kind.replace('_', ' ')} number of {unit} per guest.", "minimum": 1}
        for kind in ("cpu", "cpu_max") for unit in ("sockets", "cores", "threads")},
}

CIM_PROCESSOR: dict[str, Any] = {
    "namespace": "CIM::ProcessorAllocationSettingData",
    "display_name": "CIM Processor Allocation Setting",
    "description": "Properties of the DMTF Common Information Model's processor allocation setting data, "
                   "for tools that describe virtual hardware in CIM terms.",
    # As Glance's catalog: also for volumes' image metadata, aggregates, and a server's scheduler hints (the
    # dashboard's launch wizard asks for the namespaces of those).
    "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "CIM_PASD_"},
                                   {"name": "OS::Cinder::Volume", "prefix": "CIM_PASD_", "properties_target": "image"},
                                   {"name": "OS::Nova::Aggregate", "prefix": "CIM_PASD_"},
                                   {"name": "OS::Nova::Flavor", "prefix": "CIM_PASD_"},
                                   {"name": "OS::Nova::Server", "properties_target": "scheduler_hints"}],
    "properties": {
        "InstructionSet": {"title": "Instruction Set", "type": "string",
                           "description": "The instruction set the processor runs.",
                           "enum": ["x86:i386", "x86:i486", "x86:i586", "x86:i686", "x86:64", "IA-64:IA-64",
                                    "AS/400:TIMI", "Power:Power_2.03", "Power:Power_2.04", "Power:Power_2.05",
                                    "Power:Power_2.06", "S/390:ESA/390", "S/390:z/Architecture",
                                    "S/390:z/Architecture_2", "PA-RISC:PA-RISC_1.0", "PA-RISC:PA-RISC_2.0",
                                    "ARM:A32", "ARM:A64", "ARM:T32"]},
        "ProcessorArchitecture": {"title": "Processor Architecture", "type": "string",
                                  "description": "The processor's architecture family.",
                                  "enum": ["x86", "IA-64", "AS/400", "Power", "S/390", "PA-RISC", "ARM"]}},
    "objects": [{"name": "Processor Capabilities",
                 "description": "Capabilities a guest may ask of its host's processors.",
                 "properties": {"InstructionSetExtensionName": {
                     "title": "Instruction Set Extensions", "type": "array",
                     "description": "Processor extensions the guest needs.",
                     "items": {"type": "string", "enum": ["x86:SSE4.2", "x86:AVX", "x86:AVX2", "x86:AES",
                                                          "ARM:NEON"]}}}}],
    "tags": [{"name": "cim"}],
}

RUNTIMES: dict[str, Any] = {
    "namespace": "OS::Software::Runtimes",
    "display_name": "Runtime Environment",
    "description": "Language runtimes installed in the guest, recorded so that users and tools can find an image "
                   "or a server by the software it carries.",
    # A server's metadata too: the dashboard's launch wizard offers these as the new server's metadata.
    "resource_type_associations": [{"name": "OS::Glance::Image"},
                                   {"name": "OS::Cinder::Volume", "properties_target": "image"},
                                   {"name": "OS::Nova::Server", "properties_target": "metadata"}],
    "objects": [{"name": runtime, "description": f"The {runtime} runtime in the guest.",
                 "properties": {f"sw_runtime_{runtime.lower()}_version": {
                     "title": "Version", "type": "string", "description": f"The version of {runtime} installed."}}}
                for runtime in ("Python", "Java", "PHP", "Ruby")],
}

CATALOG: list[dict[str, Any]] = [WATCHDOG, HYPERVISOR, CPU_TOPOLOGY, CIM_PROCESSOR, RUNTIMES]


def definitions() -> list[dict[str, Any]]:
    """The seed catalog: public, protected namespaces."""
    return [{"visibility": "public", "protected": True, **ns} for ns in CATALOG]
