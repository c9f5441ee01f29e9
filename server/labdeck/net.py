"""Small socket helpers: is a port free, pick a free one, who listens on a port.

A port chosen with `free_port` and bound later by another program can be taken in
between by any local account, which then receives what was meant for that program
(a bearer token, say). Servers labdeck starts bind port 0 where they can, and before
labdeck sends anything to a loopback port it checks with `listens_on` that the
listener there is the process it started.
"""

import ipaddress
import os
import socket
import sys
from pathlib import Path

TCP_LISTEN = "0A"  # the state column of /proc/net/tcp{,6}
# a socket on these listens on every address of its family (no other can have the port)
WILDCARDS = ("0.0.0.0", "::")  # noqa: S104 - compared with, never bound


def port_is_free(ip: str, port: int) -> bool:
    """True when nothing listens on ip:port (checked the way a server would bind it)."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # Like tornado and node, tolerate TIME_WAIT leftovers but not a live listener.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((ip, port))
        except OSError:
            return False
    return True


def free_port(ip: str = "127.0.0.1") -> int:
    """A port the OS says is free right now (someone else may bind it next: see above)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((ip, 0))
        return sock.getsockname()[1]


class ForeignListener(ConnectionRefusedError):
    """What listens on a port is not the process that should (or nothing does)."""


def listening_ports(pid: int) -> set[tuple[str, int]]:
    """The (ip, port) pairs on which process pid itself listens for TCP (IPv4 and IPv6,
    an IPv4-mapped address as its IPv4 form); empty if pid is gone or not ours to read.

    From the kernel, not from anything the process says: the listening sockets of its
    network namespace, kept when they are among its own open files.
    """
    listeners = _listeners(pid)
    if not listeners:
        return set()
    return {listeners[inode] for inode in _socket_inodes(pid) if inode in listeners}


def listens_on(pid: int, port: int, ip: str = "127.0.0.1") -> bool:
    """Whether a connection to ip:port reaches process pid (its socket on that address,
    or on the wildcard address: then no other process can hold ip:port)."""
    wanted = {
        inode
        for inode, (address, bound) in _listeners(pid).items()
        if bound == port and address in (ip, *WILDCARDS)
    }
    return bool(wanted) and not wanted.isdisjoint(_socket_inodes(pid))


def require_listener(pid: int, port: int, ip: str = "127.0.0.1") -> None:
    """Raise ForeignListener unless process pid is what listens on ip:port."""
    if not listens_on(pid, port, ip):
        raise ForeignListener(f"{ip}:{port} is not served by process {pid}")


def _listeners(pid: int) -> dict[str, tuple[str, int]]:
    """Socket inode -> (ip, port) of every listening TCP socket in pid's namespace."""
    found = {}
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == TCP_LISTEN:
                address, port = fields[1].rsplit(":", 1)
                found[fields[9]] = (_ip(address), int(port, 16))
    return found


def _socket_inodes(pid: int) -> set[str]:
    """Inodes of the sockets among pid's open files."""
    inodes = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _ip(hex_address: str) -> str:
    """An address of /proc/net/tcp{,6} (32-bit words in host order) as text."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(
        int.from_bytes(raw[i : i + 4], sys.byteorder).to_bytes(4, "big")
        for i in range(0, len(raw), 4)
    )
    address = ipaddress.ip_address(words)
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)
