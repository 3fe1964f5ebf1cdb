"""The `http.request` plugin: one HTTP(S) request from a service task, with the standard library only.

Which addresses it may reach, decided once for every URL it visits (the first and each redirect):
- refused by default: link-local networks (169.254.0.0/16, which holds 169.254.169.254, and
  fe80::/10), the other cloud metadata addresses (fd00:ec2::254, 100.100.100.200), the metadata
  host names (`metadata.google.internal`, `metadata.goog`), and addresses that are no destination
  (0.0.0.0/8, ::, multicast). An IPv6 address that embeds an IPv4 one (::ffff:a.b.c.d, NAT64
  64:ff9b::/96, 6to4 2002::/16) is judged by the embedded address as well;
- allowed by default: loopback and private networks, because calling a service on the same
  machine or the internal network is the normal case (and the examples and tests call a local
  server). `BATON_HTTP_REFUSE_PRIVATE_NETWORKS` refuses every address that is not globally
  routable (loopback, RFC 1918, fc00::/7, 100.64.0.0/10, ...);
- `BATON_HTTP_ALLOWED_NETWORKS` (CIDRs) lets through addresses that would otherwise be refused.

The plugin resolves the host name itself, checks every address it resolves to, and connects only
to a checked address (the TLS certificate is still verified against the host name), so a DNS
answer that changes between the check and the connection (DNS rebinding) cannot redirect it.
Proxy environment variables are ignored.
"""
from __future__ import annotations

import http.client
import ipaddress
import json as jsonlib
import re
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 64 * 1024
# Response headers returned to the process, by lower-case name, when the server sent them.
RETURNED_HEADERS = ("content-type", "content-length", "etag", "last-modified", "location", "retry-after")
# Request headers the plugin sets itself: a process may not override them.
RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "accept-encoding"})
# Request headers dropped when a redirect leads to another origin (scheme, host or port).
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
DEFAULT_HEADERS = {"Accept": "application/json, text/*;q=0.9, */*;q=0.8", "User-Agent": "Baton http.request"}

METADATA_HOSTNAMES = frozenset({"metadata.google.internal", "metadata.goog"})
METADATA_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("169.254.169.254/32", "fd00:ec2::254/128", "100.100.100.200/32")
)
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
NAT64_NETWORK = ipaddress.ip_network("64:ff9b::/96")

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")
# Characters left as they are in the request target; anything else (non-ASCII) is percent-encoded.
_TARGET_SAFE = "/?[]@!$&'()*+,;=:%-._~"

# Error messages (also used by the tests).
BAD_URL = "url {url!r}: {why}"
REFUSED_HOST = "url {url!r}: the host {host!r} is a cloud metadata service and is refused"
REFUSED_ADDRESS = (
    "url {url!r}: {host} resolves to {address}, {why}, which is refused "
    "(BATON_HTTP_ALLOWED_NETWORKS can allow it)"
)
TOO_MANY_REDIRECTS = "url {url!r}: more than {limit} redirects (BATON_HTTP_MAX_REDIRECTS)"
TOO_LARGE = "url {url!r}: the response is larger than {limit} bytes (BATON_HTTP_MAX_RESPONSE_BYTES)"
TIMED_OUT = "url {url!r}: no complete response within {timeout} s"

WHY_METADATA = "a cloud metadata address"
WHY_LINK_LOCAL = "a link-local address"
WHY_NO_DESTINATION = "not a unicast destination"
WHY_NOT_GLOBAL = "a loopback or private address (BATON_HTTP_REFUSE_PRIVATE_NETWORKS is on)"


class RefusedAddress(ValueError):
    """The URL, or a redirect, leads to an address or host the safety rules refuse."""


class TooManyRedirects(ValueError):
    """The server redirected more often than BATON_HTTP_MAX_REDIRECTS allows."""


class ResponseTooLarge(ValueError):
    """The response body is larger than BATON_HTTP_MAX_RESPONSE_BYTES."""


@shared_task(name="http.request")
def request(
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    json: Any = None,
    timeout: float = 10.0,
    baton_job_id: str | None = None,
) -> dict[str, Any]:
    """Send one HTTP(S) request and return the response, whatever its status.

    Arguments: `url` (http or https only), `method` (GET, HEAD, POST, PUT, PATCH, DELETE or
    OPTIONS), `headers` (a dict of extra request headers), `json` (a value sent as the JSON body,
    with Content-Type application/json), `timeout` (seconds for the whole exchange, redirects
    included; capped by BATON_HTTP_MAX_TIMEOUT). The job id is sent as the `Idempotency-Key`
    header unless `headers` sets one.

    Returns {"status": 200, "response": ..., "response_headers": {...}}:
    - status: the final HTTP status code. A non-2xx status is returned, not raised: the process
      decides what it means;
    - response: the body parsed as JSON when the Content-Type is JSON (application/json or
      */*+json) and parses; otherwise the body as text (charset from the Content-Type, else
      UTF-8); None when the body is empty;
    - response_headers: content-type, content-length, etag, last-modified, location and
      retry-after, by lower-case name, those the server sent.

    Redirects (301, 302, 303, 307, 308) are followed up to BATON_HTTP_MAX_REDIRECTS; 303, and 301
    or 302 after a POST, continue as a GET without a body; Authorization and Cookie headers are
    dropped when a redirect leaves the origin. A body larger than BATON_HTTP_MAX_RESPONSE_BYTES
    is an error. Link-local and cloud metadata addresses are refused; loopback and private
    networks are allowed unless BATON_HTTP_REFUSE_PRIVATE_NETWORKS is set.

    Raises ValueError for a bad argument (naming it), and its subclasses RefusedAddress,
    TooManyRedirects and ResponseTooLarge: retrying does not help. Raises OSError (connection
    refused or reset, TimeoutError, DNS failure socket.gaierror, ssl.SSLError) and
    http.client.HTTPException for technical failures, which are worth retrying.
    """
    method = _method(method)
    timeout = _timeout(timeout)
    given = _headers(headers)
    request_headers = {
        **{name: value for name, value in DEFAULT_HEADERS.items() if not _has_header(given, name)},
        **given,
    }
    if baton_job_id is not None and not _has_header(request_headers, "Idempotency-Key"):
        request_headers["Idempotency-Key"] = str(baton_job_id)
    body = None
    if json is not None:
        body = _json_body(json)
        if not _has_header(request_headers, "Content-Type"):
            request_headers["Content-Type"] = "application/json"

    try:
        return _follow(url, method, request_headers, body, _Deadline(url, timeout))
    except TimeoutError as exc:
        message = TIMED_OUT.format(url=url, timeout=timeout)
        if str(exc) == message:
            raise
        raise TimeoutError(message) from exc


def _follow(url: str, method: str, request_headers: dict[str, str], body: bytes | None,
            deadline: _Deadline) -> dict[str, Any]:
    """Send the request and follow redirects, checking every URL against the settings' rules."""
    rules = _Rules.from_settings()
    current = _target(url, rules)
    redirects = 0
    while True:
        with _exchange(current, method, request_headers, body, deadline) as (response, sock):
            location = response.getheader("Location")
            if response.status not in REDIRECT_STATUSES or not location:
                raw = _read_body(response, sock, current.url, deadline, rules.max_response_bytes)
                return {
                    "status": response.status,
                    "response": _parse_body(raw, response.headers),
                    "response_headers": {
                        name: response.headers[name] for name in RETURNED_HEADERS if name in response.headers
                    },
                }
            status = response.status
        redirects += 1
        if redirects > rules.max_redirects:
            raise TooManyRedirects(TOO_MANY_REDIRECTS.format(url=url, limit=rules.max_redirects))
        following = _target(urljoin(current.url, location), rules)
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method, body = "GET", None
            request_headers = {k: v for k, v in request_headers.items() if k.lower() != "content-type"}
        if following.origin != current.origin:
            request_headers = {k: v for k, v in request_headers.items() if k.lower() not in CREDENTIAL_HEADERS}
        current = following


# --- arguments ---------------------------------------------------------------------------------


def _method(method: Any) -> str:
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
    return method.upper()


def _timeout(timeout: Any) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout {timeout!r} is not a positive number of seconds")
    return min(float(timeout), settings.BATON_HTTP_MAX_TIMEOUT)


def _headers(headers: Any) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise ValueError(f"headers must be a dict of header names to values, not {type(headers).__name__}")
    checked = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise ValueError(f"headers: {name!r} is not a valid header name")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"headers: {name!r} is set by http.request itself")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError(f"headers[{name!r}] must be a string or a number, not {type(value).__name__}")
        value = str(value)
        if re.search(r"[\x00-\x08\x0a-\x1f\x7f]", value) or not value.isascii() and not _latin1(value):
            raise ValueError(f"headers[{name!r}] contains a line break, a control character or non-Latin-1 text")
        checked[name] = value
    return checked


def _has_header(headers: dict[str, str], wanted: str) -> bool:
    return any(name.lower() == wanted.lower() for name in headers)


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _json_body(value: Any) -> bytes:
    try:
        return jsonlib.dumps(value, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"json cannot be sent as JSON: {exc}") from None


# --- where a URL may lead ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Rules:
    refuse_private: bool
    allowed: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    max_redirects: int
    max_response_bytes: int

    @classmethod
    def from_settings(cls) -> _Rules:
        allowed = []
        for network in settings.BATON_HTTP_ALLOWED_NETWORKS:
            try:
                allowed.append(ipaddress.ip_network(network, strict=False))
            except ValueError as exc:
                raise ImproperlyConfigured(f"BATON_HTTP_ALLOWED_NETWORKS: {exc}") from None
        return cls(
            refuse_private=settings.BATON_HTTP_REFUSE_PRIVATE_NETWORKS,
            allowed=tuple(allowed),
            max_redirects=settings.BATON_HTTP_MAX_REDIRECTS,
            max_response_bytes=settings.BATON_HTTP_MAX_RESPONSE_BYTES,
        )

    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` is refused (one of the WHY_* reasons), or None if it may be reached."""
        candidates = _with_embedded(address)
        if any(candidate in network for candidate in candidates for network in self.allowed):
            return None
        for candidate in candidates:
            if any(candidate in network for network in METADATA_NETWORKS):
                return WHY_METADATA
            if candidate.is_link_local:
                return WHY_LINK_LOCAL
            if candidate.is_unspecified or candidate.is_multicast or candidate in THIS_NETWORK:
                return WHY_NO_DESTINATION
            if self.refuse_private and not candidate.is_global:
                return WHY_NOT_GLOBAL
        return None


def refusal_reason(address: str) -> str | None:
    """Why the current settings refuse the IP `address`, or None if http.request may reach it."""
    return _Rules.from_settings().refusal(ipaddress.ip_address(address))


def _with_embedded(address: IPAddress) -> list[IPAddress]:
    if isinstance(address, ipaddress.IPv4Address):
        return [address]
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    candidates: list[IPAddress] = [address]
    if address.sixtofour is not None:
        candidates.append(address.sixtofour)
    if address in NAT64_NETWORK:
        candidates.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return candidates


@dataclass(frozen=True)
class _Target:
    """A checked URL: where to connect (`addresses`, all allowed) and what to ask for."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port


def _target(url: Any, rules: _Rules) -> _Target:
    if not isinstance(url, str) or not url:
        raise ValueError(f"url must be a non-empty string, not {url!r}")
    if _SPACE_OR_CONTROL.search(url):
        raise ValueError(BAD_URL.format(url=url, why="contains white space or control characters"))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(BAD_URL.format(url=url, why=str(exc))) from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(BAD_URL.format(url=url, why=f"only http and https are allowed, not {parts.scheme!r}"))
    if "@" in parts.netloc:
        why = "credentials in the URL are refused; send an Authorization header"
        raise ValueError(BAD_URL.format(url=url, why=why))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError(BAD_URL.format(url=url, why="no host"))
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(BAD_URL.format(url=url, why=f"invalid host name: {exc}")) from None
    port = port or DEFAULT_PORTS[scheme]
    if host in METADATA_HOSTNAMES and not rules.allowed:
        raise RefusedAddress(REFUSED_HOST.format(url=url, host=host))

    addresses = _resolve(host, port)
    for address in addresses:
        why = rules.refusal(ipaddress.ip_address(address))
        if why is None and host in METADATA_HOSTNAMES and not any(
            ipaddress.ip_address(address) in network for network in rules.allowed
        ):
            why = WHY_METADATA
        if why is not None:
            raise RefusedAddress(REFUSED_ADDRESS.format(url=url, host=host, address=address, why=why))

    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(
        url=url, scheme=scheme, host=host, port=port, path=quote(path, safe=_TARGET_SAFE), addresses=addresses
    )


def _resolve(host: str, port: int) -> tuple[str, ...]:
    """Every address `host` stands for, in the resolver's order; an IP address stands for itself."""
    try:
        return (str(ipaddress.ip_address(host)),)
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)  # socket.gaierror: retryable
    return tuple(dict.fromkeys(info[4][0] for info in infos))


# --- the exchange ------------------------------------------------------------------------------


class _Deadline:
    """The whole call's time budget: each connection and each read gets what is left of it."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url, self.timeout = url, timeout
        self.at = time.monotonic() + timeout

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError(TIMED_OUT.format(url=self.url, timeout=self.timeout))
        return left


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Sends `Host: <host>` but connects to `address`, the one that was checked."""

    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.pinned_address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Like _PinnedHTTPConnection, with TLS: SNI and certificate checked against `host`."""

    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        self.tls_context = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls_context)
        self.pinned_address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


@contextmanager
def _exchange(target: _Target, method: str, headers: dict[str, str], body: bytes | None,
              deadline: _Deadline) -> Iterator[tuple[http.client.HTTPResponse, socket.socket]]:
    """One request on a fresh connection to a checked address; everything is closed on exit.

    Yields the socket too: http.client lets go of `connection.sock` once a response will close it,
    and every read gets the time left on the deadline.
    """
    connection = _connect(target, deadline)
    sock = connection.sock
    try:
        connection.request(method, target.path, body=body, headers=headers)
        sock.settimeout(deadline.remaining())
        response = connection.getresponse()
        try:
            yield response, sock
        finally:
            response.close()
    finally:
        connection.close()
        sock.close()


def _connect(target: _Target, deadline: _Deadline) -> http.client.HTTPConnection:
    """A connection to the first of the target's checked addresses that accepts one."""
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    error: OSError | None = None
    for address in target.addresses:
        connection = kind(address, target.host, target.port, timeout=deadline.remaining())
        try:
            connection.connect()
        except OSError as exc:
            connection.close()
            error = exc
            continue
        return connection
    raise error or OSError(f"url {target.url!r}: no address to connect to")


def _read_body(response: http.client.HTTPResponse, sock: socket.socket, url: str, deadline: _Deadline,
               limit: int) -> bytes:
    """The body, read in chunks; refused as soon as it is known to exceed `limit` bytes."""
    declared = response.getheader("Content-Length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise ResponseTooLarge(TOO_LARGE.format(url=url, limit=limit))
    chunks, size = [], 0
    while True:
        sock.settimeout(deadline.remaining())
        chunk = response.read1(CHUNK_BYTES)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge(TOO_LARGE.format(url=url, limit=limit))
        chunks.append(chunk)


def _parse_body(raw: bytes, headers: http.client.HTTPMessage) -> Any:
    if not raw:
        return None
    content_type = headers.get_content_type()
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            return jsonlib.loads(raw)
        except ValueError:
            pass
    charset = headers.get_content_charset() or "utf-8"
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")
