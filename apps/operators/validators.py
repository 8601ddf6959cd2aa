"""Where CopyPool may send an operator's calls: the one check of ``callback_url`` and
``wallet_url`` (the model fields' validator, so every path that saves an operator runs it).

CopyPool's workers post signed requests to these URLs, so a URL is also a way to make them
talk to something else: a database or cache on the internal network, the cloud's metadata
service, the host itself. The check is deterministic: it looks at the URL only and never
resolves a name (a name that resolves to an internal address is the network's egress rules'
job to stop). A URL must

- use ``https``; ``http`` only with the development switch
  (``COPYPOOL_ALLOW_INSECURE_OPERATOR_URLS``, on in the local and test settings, off in
  production); any other scheme (``ftp:``, ``file:``, ``gopher:``) never;
- carry no credentials (``user:password@``): they would be stored in clear in the call log;
- not name ``localhost`` (or ``*.localhost``), nor an IP literal (in any spelling resolvers
  accept: ``127.1``, ``2130706433``, ``0x7f000001``, ``[::ffff:127.0.0.1]``) that is
  loopback, private or otherwise not public; the development switch allows these, for the
  sandbox on 127.0.0.1 and a test network;
- never, even with the switch, be link-local (``169.254.0.0/16`` with the metadata service at
  169.254.169.254, ``fe80::/10``), multicast, unspecified (``0.0.0.0``, ``::``) or reserved;
- use the scheme's default port or one from 1024 to 65535, and never a well-known internal
  service's port (``SERVICE_PORTS``: SSH, SMTP, MySQL, PostgreSQL, Redis, memcached, ...).
"""

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

SCHEMES = ("https", "http")
DEFAULT_PORTS = {"https": 443, "http": 80}
FIRST_UNPRIVILEGED_PORT = 1024
SERVICE_PORTS = {
    22: "SSH",
    25: "SMTP",
    2375: "Docker",
    2376: "Docker",
    2379: "etcd",
    3306: "MySQL",
    5432: "PostgreSQL",
    5672: "AMQP",
    6379: "Redis",
    9200: "Elasticsearch",
    11211: "memcached",
    27017: "MongoDB",
}
# What inet_aton reads as an IPv4 address besides dotted quads: "127.1", "0x7f.1", "2130706433".
_IPV4_SHORTHAND = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def insecure_operator_urls_allowed() -> bool:
    return bool(getattr(settings, "COPYPOOL_ALLOW_INSECURE_OPERATOR_URLS", False))


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, code="operator_url")


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _IPV4_SHORTHAND.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _address_refusal(ip: IPAddress, *, development: bool) -> str | None:
    """Why ``ip`` may not be an operator's host, or None."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified:
        return "an unspecified address"
    # Before the reserved ranges: IPv6's ::/8 (reserved) holds ::1.
    if ip.is_loopback:
        return None if development else "a loopback address"
    always = (
        (ip.is_link_local, "a link-local address (where cloud metadata services answer)"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_reserved, "a reserved address"),
    )
    for refused, what in always:
        if refused:
            return what
    if development:
        return None
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


def validate_operator_url(value: str) -> None:
    """Raise ``ValidationError`` unless ``value`` is a URL CopyPool may send calls to."""
    development = insecure_operator_urls_allowed()
    try:
        parts = urlsplit(str(value).strip())
        port = parts.port
    except ValueError as error:
        raise _invalid("Enter a valid URL with a valid port.") from error
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise _invalid("The URL must use https.")
    if scheme == "http" and not development:
        raise _invalid("The URL must use https (plain http is for development only).")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise _invalid(
            "The URL must not contain a user name or password: they would be stored in the "
            "call log; operators authenticate with their keys instead."
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _invalid("The URL must name a host.")
    if (host == "localhost" or host.endswith(".localhost")) and not development:
        raise _invalid("The URL must not point at this machine (localhost).")
    ip = _ip_literal(host)
    if ip is not None:
        refusal = _address_refusal(ip, development=development)
        if refusal:
            raise _invalid(f"The URL's host is {refusal}; operators must be reached publicly.")
    if port is not None and port != DEFAULT_PORTS[scheme]:
        if port in SERVICE_PORTS:
            raise _invalid(f"Port {port} is {SERVICE_PORTS[port]}'s, not an operator's API.")
        if port < FIRST_UNPRIVILEGED_PORT:
            raise _invalid(
                f"Use the default port of {scheme} or one from {FIRST_UNPRIVILEGED_PORT} to 65535."
            )
