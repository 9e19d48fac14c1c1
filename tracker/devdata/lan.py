"""This machine's address on the local network, for ``make run-lan``.

    python -m tracker.devdata.lan      # prints e.g. 192.168.1.20

The operating system is asked which of its addresses it would send from to
an address outside this machine: ``connect`` on a UDP socket only chooses the
route, it sends nothing. Without a route (no network), the addresses the host
name resolves to are tried. Prints nothing and exits 1 when there is none but
loopback, saying so on stderr.
"""

import ipaddress
import socket
import sys

# A documentation address (RFC 5737): never a real host, only a destination
# the routing table can be asked about.
_PROBE = ("203.0.113.1", 9)


def lan_address() -> str | None:
    """An IPv4 address of this machine that other machines on its network can reach."""
    candidates = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(_PROBE)
            candidates.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        candidates += socket.gethostbyname_ex(socket.gethostname())[2]
    except OSError:
        pass
    for candidate in candidates:
        address = ipaddress.ip_address(candidate)
        if not (address.is_loopback or address.is_unspecified or address.is_link_local):
            return candidate
    return None


if __name__ == "__main__":
    found = lan_address()
    if found is None:
        sys.exit(
            "No network address found: connect to a network, or name the address: "
            "make run-lan ADDRESS=192.168.1.20"
        )
    print(found)
