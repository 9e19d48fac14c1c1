"""Fixed-window counters per client address, kept in Django's cache.

Used to slow down anyone trying patient link tokens (``views/patient.py``).
A window is a fixed stretch of time (this minute, this hour); its counter
lives in the cache until shortly after the window ends. The default cache is
a folder every worker of the server shares (``project/cache.py``); with
several app servers it must be one Redis (``CACHE_URL=redis://…``), or each
server counts on its own and the limits multiply by the number of servers.
"""

import ipaddress
import math

from django.core.cache import cache

from tracker.security import audit

PREFIX = "ratelimit"


def client_key(request) -> str:
    """Who is counted: the client's address as the audit trail reads it.

    IPv6 addresses are counted per /64, the block one home or phone usually
    gets, so that stepping through addresses inside it does not reset the count.
    """
    address = audit.client_ip(request)
    if address is None:
        return "unknown"
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _window(name: str, who: str, seconds: int, now: float) -> tuple[str, int]:
    start = int(now // seconds) * seconds
    return f"{PREFIX}:{name}:{seconds}:{who}:{start}", max(1, math.ceil(start + seconds - now))


def count(name: str, who: str, *, seconds: int, now: float) -> tuple[int, int]:
    """(hits so far in the current window, seconds until it ends)."""
    key, remaining = _window(name, who, seconds, now)
    return cache.get(key, 0), remaining


def hit(name: str, who: str, *, seconds: int, now: float) -> tuple[int, int]:
    """Count one more hit; (hits in the current window including this one, seconds left)."""
    key, remaining = _window(name, who, seconds, now)
    # add() then incr(): atomic in Redis and in the shared folder cache.
    cache.add(key, 0, timeout=seconds + 60)
    try:
        return cache.incr(key), remaining
    except ValueError:  # the key expired between the two calls
        cache.set(key, 1, timeout=seconds + 60)
        return 1, remaining
