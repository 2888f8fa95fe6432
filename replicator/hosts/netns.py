"""Network namespaces, veth pairs and the private bridge of the simulated hosts.

The bridge lives in a namespace of its own (the "lan" namespace), not in the
root one: once the main dockerd runs, the root namespace's FORWARD policy is
DROP, and a bridge there would need iptables rules of ours. Each host's veth
is created directly between its namespace and the lan namespace, so nothing
of ours ever appears in the root namespace's links or iptables.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from replicator.errors import EngineUnavailableError

NETNS_DIR = Path("/var/run/netns")
BRIDGE = "br0"  # inside the lan namespace: the name cannot clash with anything outside
HOST_IF = "eth0"  # inside each host namespace


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30,
                              check=False)
    except FileNotFoundError:
        raise EngineUnavailableError("the `ip` command (iproute2) is not installed",
                                     fix="apt-get install iproute2") from None
    if check and proc.returncode != 0:
        raise EngineUnavailableError(f"`ip {' '.join(args)}` failed: {proc.stderr.strip()}",
                                     fix="run as root on a Linux machine with network namespaces")
    return proc


def exists(namespace: str) -> bool:
    return (NETNS_DIR / namespace).exists()


def ensure_namespace(namespace: str) -> bool:
    """Create the namespace unless it exists, with its loopback up. True if created."""
    created = False
    if not exists(namespace):
        _ip("netns", "add", namespace)
        created = True
    in_ns(namespace, "ip", "link", "set", "lo", "up")
    return created


def delete_namespace(namespace: str) -> bool:
    if not exists(namespace):
        return False
    _ip("netns", "del", namespace)
    return True


def in_ns(namespace: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command in the namespace with nsenter (`ip netns exec` would remount /sys)."""
    proc = subprocess.run(["nsenter", f"--net={NETNS_DIR / namespace}", *argv],
                          capture_output=True, text=True, timeout=30, check=False)
    if check and proc.returncode != 0:
        raise EngineUnavailableError(
            f"`{' '.join(argv)}` in namespace {namespace} failed: {proc.stderr.strip()}",
            fix="run as root; `replicator hosts down` then `hosts up` starts from clean")
    return proc


def _link_exists(namespace: str, link: str) -> bool:
    return in_ns(namespace, "ip", "link", "show", link, check=False).returncode == 0


def ensure_bridge(lan_ns: str) -> None:
    ensure_namespace(lan_ns)
    if not _link_exists(lan_ns, BRIDGE):
        in_ns(lan_ns, "ip", "link", "add", BRIDGE, "type", "bridge")
    in_ns(lan_ns, "ip", "link", "set", BRIDGE, "up")


def ensure_host_link(lan_ns: str, host_ns: str, lan_end: str, address: str, prefix: int) -> None:
    """A veth from the host's namespace (eth0, with its address) to the bridge."""
    if not _link_exists(host_ns, HOST_IF):
        if _link_exists(lan_ns, lan_end):  # half of a pair left by an interrupted run
            in_ns(lan_ns, "ip", "link", "del", lan_end)
        _ip("link", "add", HOST_IF, "netns", host_ns, "type", "veth",
            "peer", "name", lan_end, "netns", lan_ns)
    in_ns(lan_ns, "ip", "link", "set", lan_end, "master", BRIDGE, "up")
    have = in_ns(host_ns, "ip", "-o", "-4", "addr", "show", "dev", HOST_IF).stdout
    if f" {address}/{prefix} " not in have:
        in_ns(host_ns, "ip", "addr", "add", f"{address}/{prefix}", "dev", HOST_IF)
    in_ns(host_ns, "ip", "link", "set", HOST_IF, "up")


def esp_support() -> tuple[bool, str]:
    """Can this kernel run the ESP transform Docker's encrypted overlay uses?

    Probed in a throwaway namespace with the very algorithm Docker asks for
    (rfc4106(gcm(aes))); the state is never used for traffic.
    """
    probe = "rh-esp-probe"
    ensure_namespace(probe)
    try:
        proc = in_ns(probe, "ip", "xfrm", "state", "add", "src", "192.0.2.1", "dst", "192.0.2.2",
                     "proto", "esp", "spi", "0x100", "reqid", "1", "mode", "transport", "aead",
                     "rfc4106(gcm(aes))", "0x" + "11" * 20, "64", check=False)
    finally:
        delete_namespace(probe)
    if proc.returncode == 0:
        return True, ""
    return False, f"the kernel has no ESP rfc4106(gcm(aes)) transform ({proc.stderr.strip()})"
