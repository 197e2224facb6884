"""Which places an answer points the customer to, and whether the desk may send them there.

A knowledge-base document is written by whoever could upload it, so a link in it is the uploader's, not ours: an
answer may point the customer only to the domains the operator lists (`link_allowlist`, subdomains included).
Links are found by linkify-it (the link finder markdown-it uses), not a hand-made pattern: it knows the schemes,
bare domains (`brightwave-refunds.top/claim`), IP addresses and email addresses, and the full IANA list of
top-level domains ships inside the package, so nothing is downloaded when it runs. Hosts are compared in their
ASCII (punycode) form, so a look-alike domain written in another script is a different domain, as it is to a
browser; the host is the URL's own (`https://brightwave.com@evil.top/` goes to evil.top).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from linkify_it import LinkifyIt
from linkify_it.tlds import TLDS


@dataclass(frozen=True)
class Link:
    text: str  # as written in the answer
    host: str  # ASCII, lower case; "" when the link names no host (a relative or malformed URL)


@lru_cache(maxsize=1)
def _finder() -> LinkifyIt:
    return LinkifyIt(options={"fuzzy_link": True, "fuzzy_email": True, "fuzzy_ip": True}).tlds(TLDS, True)


def ascii_host(host: str) -> str:
    """A host as a browser resolves it: lower case, no trailing dot, international labels in punycode."""
    host = host.strip().strip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:  # not a valid international name: compare it as written, it matches no allowed domain
        return host


def allowed_domains(setting: str | None) -> tuple[str, ...]:
    """The `link_allowlist` setting ("brightwave.com, help.brightwave.co.uk") as hosts; "*." and "www." are
    accepted and mean the same as the bare domain."""
    out = []
    for item in (setting or "").split(","):
        item = item.strip().removeprefix("*.")
        host = urlsplit(item if "//" in item else f"//{item}").hostname or ""
        if host := ascii_host(host.removeprefix("www.")):
            out.append(host)
    return tuple(dict.fromkeys(out))


def links(text: str) -> list[Link]:
    """Every URL, bare domain, IP address and email address in `text`, in order."""
    out = []
    for match in _finder().match(text) or []:
        url = match.url
        if url.startswith("mailto:"):
            host = url.removeprefix("mailto:").rpartition("@")[2]
        else:
            try:
                host = urlsplit(url).hostname or ""
            except ValueError:  # a malformed URL (an unclosed IPv6 bracket): it names no host we can trust
                host = ""
        out.append(Link(text=match.text, host=ascii_host(host)))
    return out


def is_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    return bool(host) and any(host == d or host.endswith("." + d) for d in allowed)


def outside_links(text: str, allowed: tuple[str, ...]) -> list[Link]:
    """The links of `text` whose host is not an allowed domain or one of its subdomains."""
    return [link for link in links(text) if not is_allowed(link.host, allowed)]
