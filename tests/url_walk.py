"""Every URL the app answers, from Django's resolver.

Checks that must cover every page (who may open it, whether it passes axe)
take their list of URLs from here, so a new URL without a row in their table
fails them.
"""

from django.urls import URLPattern, URLResolver, get_resolver


def named_routes(patterns=None, prefix="", namespace=""):
    """(name, route) of every named URL, the admin's as one "admin:index"; unnamed ones as None."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                found.append(("admin:index", route))
                continue
            inner = ":".join(filter(None, [namespace, entry.namespace]))
            found += named_routes(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            found.append((name, route))
    return found
