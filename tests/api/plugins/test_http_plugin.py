"""The `http.request` plugin against a real HTTP server on 127.0.0.1, called as a plain function.

Nothing on the network is mocked. Only host-name resolution is replaced (in the tests that need
a name resolving to a link-local address, or one whose answer changes), and an audit hook
records every connection and name lookup, to show that a refused address is never contacted.
"""
from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from config import celery_app
from tasks import http as http_plugin

request = celery_app.tasks["http.request"]

# --- what the process did on the network, through Python's audit events ------------------------

_network_events: list[tuple[str, object]] | None = None


def _audit(event: str, args: tuple) -> None:
    if _network_events is not None and event in ("socket.connect", "socket.getaddrinfo"):
        _network_events.append((event, args[1] if event == "socket.connect" else args[0]))


sys.addaudithook(_audit)


@contextmanager
def network_events() -> Iterator[list[tuple[str, object]]]:
    """Connections made and names looked up in this process while the block runs."""
    global _network_events
    _network_events = events = []
    try:
        yield events
    finally:
        _network_events = None


# --- the local server --------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    server: LocalServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.route()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    def route(self) -> None:
        url = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        step, _, rest = url.path.strip("/").partition("/")
        getattr(self, f"page_{step.replace('-', '_')}")(rest, query)

    def send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, value: object, **headers: str) -> None:
        self.send(status, json.dumps(value).encode(), "application/json", **headers)

    def page_json(self, rest: str, query: dict) -> None:
        self.send_json(200, {"hello": "world", "n": [1, 2]}, ETag='"v1"', X_Internal="not returned")

    def page_text(self, rest: str, query: dict) -> None:
        self.send(200, "café".encode("latin-1"), "text/plain; charset=iso-8859-1")

    def page_echo(self, rest: str, query: dict) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.send_json(200, {
            "method": self.command,
            "path": self.path,
            "body": json.loads(body) if body else None,
            "headers": dict(self.headers.items()),
        })

    def page_missing(self, rest: str, query: dict) -> None:
        self.send_json(404, {"error": "no such thing"})

    def page_empty(self, rest: str, query: dict) -> None:
        self.send_response(204)
        self.end_headers()

    def page_redirect(self, rest: str, query: dict) -> None:
        self.send(int(query.get("status", 302)), b"", "text/plain", Location=query["to"])

    def page_hops(self, rest: str, query: dict) -> None:
        left = int(rest)
        if left:
            self.send(302, b"", "text/plain", Location=f"/hops/{left - 1}")
        else:
            self.send_json(200, {"arrived": True})

    def page_big(self, rest: str, query: dict) -> None:
        """`size` bytes, announced in Content-Length, or not (then the closed connection ends the body)."""
        size, chunk = int(query["size"]), b"x" * 65536
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if query.get("announce") == "yes":
            self.send_header("Content-Length", str(size))
        self.end_headers()
        self.close_connection = True
        try:
            while self.server.written < size:
                self.wfile.write(chunk)
                self.server.written += len(chunk)
        except OSError:
            pass
        finally:
            self.server.big_done.set()

    def page_slow(self, rest: str, query: dict) -> None:
        self.server.release.wait(5)
        self.send_json(200, {"late": True})

    def page_drip(self, rest: str, query: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.close_connection = True
        try:
            for _ in range(50):
                if self.server.release.wait(0.1):
                    return
                self.wfile.write(b".")
                self.wfile.flush()
        except OSError:
            pass


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.written = 0
        self.big_done = threading.Event()
        self.release = threading.Event()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    server = LocalServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


class LocalTLSServer(LocalServer):
    """LocalServer over TLS with a self-signed certificate for `localhost`; records the SNI names asked for."""

    def __init__(self, certificate: str, key: str) -> None:
        super().__init__()
        self.server_names: list[str | None] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
        self.socket = context.wrap_socket(self.socket, server_side=True)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client refusing the certificate is what some tests expect

    def url(self, path: str, host: str = "localhost") -> str:
        return f"https://{host}:{self.port}{path}"


@pytest.fixture
def tls_server(tmp_path, monkeypatch) -> Iterator[LocalTLSServer]:
    """A TLS server whose certificate the plugin trusts (SSL_CERT_FILE) only when a test says so."""
    assert shutil.which("openssl") is not None, "the TLS tests need the openssl command: apt-get install openssl"
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )
    server = LocalTLSServer(str(certificate), str(key))
    server.certificate = str(certificate)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Resolver:
    """Names answered with given addresses (one list per lookup, the last one repeated)."""

    def __init__(self) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []


@pytest.fixture
def resolver(monkeypatch) -> Resolver:
    """Replaces name resolution for the names in `answers`; other names resolve as usual."""
    fake = Resolver()
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in fake.answers:
            return real(host, port, family, type, proto, flags)
        fake.lookups.append(host)
        answers = fake.answers[host]
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return fake


# --- requests and responses --------------------------------------------------------------------


def test_get_returns_status_parsed_json_and_selected_headers(server):
    result = request.run(url=server.url("/json"))

    assert result == {
        "status": 200,
        "response": {"hello": "world", "n": [1, 2]},
        "response_headers": {"content-type": "application/json", "content-length": "31", "etag": '"v1"'},
    }


def test_a_text_body_is_decoded_with_its_charset(server):
    assert request.run(url=server.url("/text"))["response"] == "café"


def test_an_empty_body_is_none(server):
    assert request.run(url=server.url("/empty")) == {"status": 204, "response": None, "response_headers": {}}


def test_post_sends_the_json_body(server):
    result = request.run(url=server.url("/echo"), method="post", json={"order": 7, "items": ["a", "é"]})

    echoed = result["response"]
    assert (echoed["method"], echoed["body"]) == ("POST", {"order": 7, "items": ["a", "é"]})
    assert echoed["headers"]["Content-Type"] == "application/json"


def test_custom_headers_are_sent_beside_the_defaults(server):
    echoed = request.run(
        url=server.url("/echo"), headers={"X-Trace": "abc", "Accept": "text/plain", "X-Count": 3}
    )["response"]

    assert echoed["headers"]["X-Trace"] == "abc"
    assert echoed["headers"]["X-Count"] == "3"
    assert echoed["headers"]["Accept"] == "text/plain"
    assert echoed["headers"]["User-Agent"] == "Baton http.request"
    assert echoed["headers"]["Host"] == f"127.0.0.1:{server.port}"


def test_the_job_id_is_the_idempotency_key(server):
    echoed = request.run(url=server.url("/echo"), method="POST", json={}, baton_job_id="job-42")["response"]

    assert echoed["headers"]["Idempotency-Key"] == "job-42"


def test_an_idempotency_key_in_headers_wins_over_the_job_id(server):
    echoed = request.run(url=server.url("/echo"), headers={"idempotency-key": "mine"}, baton_job_id="job-42")

    assert echoed["response"]["headers"]["idempotency-key"] == "mine"
    assert "Idempotency-Key" not in echoed["response"]["headers"]


def test_a_404_is_returned_not_raised(server):
    result = request.run(url=server.url("/missing"))

    assert (result["status"], result["response"]) == (404, {"error": "no such thing"})


def test_the_plugin_is_discovered_with_its_documented_arguments():
    from apps.plugins.registry import discover_plugins

    info = discover_plugins()["http.request"]

    assert (info.module, info.arguments, info.required, info.accepts_job_id) == (
        "tasks.http", ("url", "method", "headers", "json", "timeout"), ("url",), True
    )
    assert "response_headers" in info.doc and "RefusedAddress" in info.doc


# --- redirects ---------------------------------------------------------------------------------


def test_a_redirect_is_followed(server):
    result = request.run(url=server.url("/redirect?to=/json"))

    assert (result["status"], result["response"]["hello"]) == (200, "world")


def test_303_after_post_continues_as_get_without_body(server):
    echoed = request.run(
        url=server.url("/redirect?status=303&to=/echo"), method="POST", json={"a": 1}
    )["response"]

    assert (echoed["method"], echoed["body"]) == ("GET", None)
    assert "Content-Type" not in echoed["headers"]


def test_307_keeps_the_method_and_the_body(server):
    echoed = request.run(
        url=server.url("/redirect?status=307&to=/echo"), method="POST", json={"a": 1}
    )["response"]

    assert (echoed["method"], echoed["body"]) == ("POST", {"a": 1})


def test_credentials_are_dropped_when_a_redirect_leaves_the_origin(server):
    headers = {"Authorization": "Bearer secret", "X-Other": "kept"}

    same = request.run(url=server.url("/redirect?to=/echo"), headers=headers)["response"]
    other = request.run(
        url=server.url(f"/redirect?to={server.url('/echo', host='localhost')}"), headers=headers
    )["response"]

    assert same["headers"]["Authorization"] == "Bearer secret"
    assert "Authorization" not in other["headers"]
    assert other["headers"]["X-Other"] == "kept"
    assert other["headers"]["Host"] == f"localhost:{server.port}"


def test_up_to_max_redirects_are_followed(server):
    assert request.run(url=server.url("/hops/5"))["response"] == {"arrived": True}


def test_too_many_redirects_are_refused(server):
    url = server.url("/hops/6")

    with pytest.raises(http_plugin.TooManyRedirects) as raised:
        request.run(url=url)

    assert str(raised.value) == http_plugin.TOO_MANY_REDIRECTS.format(url=url, limit=5)
    assert isinstance(raised.value, ValueError)


def test_max_redirects_is_a_setting(server, settings):
    settings.BATON_HTTP_MAX_REDIRECTS = 0

    assert request.run(url=server.url("/hops/0"))["status"] == 200
    with pytest.raises(http_plugin.TooManyRedirects):
        request.run(url=server.url("/hops/1"))


def test_a_redirect_to_the_metadata_address_is_refused_before_connecting_to_it(server):
    url = server.url("/redirect?to=http://169.254.169.254/latest/meta-data/")

    with network_events() as events, pytest.raises(http_plugin.RefusedAddress) as raised:
        request.run(url=url)

    assert "169.254.169.254" in str(raised.value) and http_plugin.WHY_METADATA in str(raised.value)
    assert [address for event, address in events if event == "socket.connect"] == [("127.0.0.1", server.port)]


# --- size and time limits ----------------------------------------------------------------------


def test_an_announced_body_over_the_cap_is_refused_from_its_headers(server):
    url = server.url("/big?announce=yes&size=2097152")

    with pytest.raises(http_plugin.ResponseTooLarge) as raised:
        request.run(url=url)

    assert str(raised.value) == http_plugin.TOO_LARGE.format(url=url, limit=1024 * 1024)


def test_an_unannounced_body_over_the_cap_is_refused_without_reading_it_all(server, settings):
    settings.BATON_HTTP_MAX_RESPONSE_BYTES = 100_000
    size = 256 * 1024 * 1024
    url = server.url(f"/big?size={size}")

    started = time.monotonic()
    with pytest.raises(http_plugin.ResponseTooLarge):
        request.run(url=url)

    assert time.monotonic() - started < 5
    assert server.big_done.wait(10), "the server should see the connection closed"
    assert server.written < size / 4


def test_a_body_within_the_cap_is_read_whole(server, settings):
    settings.BATON_HTTP_MAX_RESPONSE_BYTES = 65536 * 3

    assert len(request.run(url=server.url(f"/big?size={65536 * 3}"))["response"]) == 65536 * 3


def test_a_server_that_does_not_answer_in_time_raises_timeout(server):
    url = server.url("/slow")

    started = time.monotonic()
    with pytest.raises(TimeoutError) as raised:
        request.run(url=url, timeout=0.3)

    assert time.monotonic() - started < 2
    assert str(raised.value) == http_plugin.TIMED_OUT.format(url=url, timeout=0.3)


def test_the_timeout_bounds_the_whole_response_not_each_read(server):
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        request.run(url=server.url("/drip"), timeout=0.5)

    assert time.monotonic() - started < 2


def test_the_timeout_is_capped_by_the_setting(server, settings):
    settings.BATON_HTTP_MAX_TIMEOUT = 0.3

    with pytest.raises(TimeoutError):
        request.run(url=server.url("/slow"), timeout=60)


def test_a_refused_connection_raises_for_a_retry():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    with pytest.raises(ConnectionRefusedError):
        request.run(url=f"http://127.0.0.1:{port}/", timeout=2)


def test_https_refuses_a_certificate_it_does_not_trust(tls_server):
    with pytest.raises(ssl.SSLCertVerificationError):
        request.run(url=tls_server.url("/json"), timeout=5)


def test_https_to_a_trusted_server_checks_the_host_name_not_the_address(tls_server, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", tls_server.certificate)

    result = request.run(url=tls_server.url("/json"), timeout=5)
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        request.run(url=tls_server.url("/json", host="127.0.0.1"), timeout=5)

    assert (result["status"], result["response"]["hello"]) == (200, "world")
    assert tls_server.server_names[0] == "localhost"


# --- where it may go ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254:80/computeMetadata/v1/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://100.100.100.200/latest/meta-data/",
    "https://169.254.10.1/",
    "http://0.0.0.0/",
])
def test_metadata_and_link_local_addresses_are_refused_before_any_connection(url):
    with network_events() as events, pytest.raises(http_plugin.RefusedAddress, match="is refused"):
        request.run(url=url)

    assert events == []


def test_the_metadata_host_name_is_refused_before_any_lookup():
    url = "http://metadata.google.internal/computeMetadata/v1/"

    with network_events() as events, pytest.raises(http_plugin.RefusedAddress) as raised:
        request.run(url=url)

    assert str(raised.value) == http_plugin.REFUSED_HOST.format(url=url, host="metadata.google.internal")
    assert events == []


def test_a_host_name_resolving_to_a_link_local_address_is_refused(resolver):
    resolver.answers["device.example.test"] = [["127.0.0.1", "169.254.7.7"]]
    url = "http://device.example.test/"

    with network_events() as events, pytest.raises(http_plugin.RefusedAddress) as raised:
        request.run(url=url)

    assert str(raised.value) == http_plugin.REFUSED_ADDRESS.format(
        url=url, host="device.example.test", address="169.254.7.7", why=http_plugin.WHY_LINK_LOCAL
    )
    assert resolver.lookups == ["device.example.test"]
    assert events == []


def test_the_connection_goes_to_the_checked_address_even_if_dns_changes(server, resolver):
    resolver.answers["rebind.example.test"] = [["127.0.0.1"], ["169.254.169.254"]]

    with network_events() as events:
        echoed = request.run(url=server.url("/echo", host="rebind.example.test"))["response"]

    assert echoed["headers"]["Host"] == f"rebind.example.test:{server.port}"
    assert [address for event, address in events if event == "socket.connect"] == [("127.0.0.1", server.port)]
    assert resolver.lookups == ["rebind.example.test"]


def test_loopback_is_refused_when_private_networks_are(server, settings):
    settings.BATON_HTTP_REFUSE_PRIVATE_NETWORKS = True

    for host in ("127.0.0.1", "localhost"):
        with pytest.raises(http_plugin.RefusedAddress, match=r"loopback or private"):
            request.run(url=server.url("/json", host=host))


def test_the_allow_list_lets_a_refused_network_through(server, settings):
    settings.BATON_HTTP_REFUSE_PRIVATE_NETWORKS = True
    settings.BATON_HTTP_ALLOWED_NETWORKS = ("127.0.0.0/8",)

    assert request.run(url=server.url("/json"))["status"] == 200


@pytest.mark.parametrize("address, refuse_private, allowed, why", [
    ("169.254.169.254", False, (), http_plugin.WHY_METADATA),
    ("fd00:ec2::254", False, (), http_plugin.WHY_METADATA),
    ("64:ff9b::a9fe:a9fe", False, (), http_plugin.WHY_METADATA),
    ("2002:a9fe:a9fe::1", False, (), http_plugin.WHY_METADATA),
    ("169.254.1.1", False, (), http_plugin.WHY_LINK_LOCAL),
    ("fe80::1", False, (), http_plugin.WHY_LINK_LOCAL),
    ("224.0.0.1", False, (), http_plugin.WHY_NO_DESTINATION),
    ("::", False, (), http_plugin.WHY_NO_DESTINATION),
    ("127.0.0.1", False, (), None),
    ("::1", False, (), None),
    ("10.1.2.3", False, (), None),
    ("fc00::1", False, (), None),
    ("93.184.215.14", False, (), None),
    ("127.0.0.1", True, (), http_plugin.WHY_NOT_GLOBAL),
    ("::1", True, (), http_plugin.WHY_NOT_GLOBAL),
    ("192.168.1.1", True, (), http_plugin.WHY_NOT_GLOBAL),
    ("100.64.0.1", True, (), http_plugin.WHY_NOT_GLOBAL),
    ("fc00::1", True, (), http_plugin.WHY_NOT_GLOBAL),
    ("93.184.215.14", True, (), None),
    ("2606:4700::1111", True, (), None),
    ("169.254.169.254", False, ("169.254.0.0/16",), None),
    ("::ffff:169.254.169.254", False, ("169.254.169.254/32",), None),
    ("192.168.1.1", True, ("192.168.0.0/16",), None),
])
def test_which_addresses_are_refused(settings, address, refuse_private, allowed, why):
    settings.BATON_HTTP_REFUSE_PRIVATE_NETWORKS = refuse_private
    settings.BATON_HTTP_ALLOWED_NETWORKS = allowed

    assert http_plugin.refusal_reason(address) == why


# --- bad arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize("url, fragment", [
    ("ftp://127.0.0.1/file", "only http and https are allowed, not 'ftp'"),
    ("file:///etc/passwd", "only http and https are allowed, not 'file'"),
    ("gopher://127.0.0.1:70/", "only http and https are allowed"),
    ("127.0.0.1/json", "only http and https are allowed, not ''"),
    ("http:///nohost", "no host"),
    ("http://user:pw@127.0.0.1/", "credentials in the URL are refused"),
    ("http://127.0.0.1/a b", "white space or control characters"),
    ("http://127.0.0.1/\r\nX-Injected: 1", "white space or control characters"),
    ("http://127.0.0.1:99999/", "Port out of range"),
])
def test_a_bad_url_is_a_value_error_naming_it(url, fragment):
    with network_events() as events, pytest.raises(ValueError) as raised:
        request.run(url=url)

    assert str(raised.value).startswith(f"url {url!r}: ")
    assert fragment in str(raised.value)
    assert events == []


@pytest.mark.parametrize("arguments, message", [
    ({"method": "CONNECT"}, "method 'CONNECT' is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
    ({"timeout": 0}, "timeout 0 is not a positive number of seconds"),
    ({"timeout": "10"}, "timeout '10' is not a positive number of seconds"),
    ({"headers": ["X-A: 1"]}, "headers must be a dict of header names to values, not list"),
    ({"headers": {"X-A": "1\r\nX-B: 2"}}, "headers['X-A'] contains a line break"),
    ({"headers": {"Bad Name": "1"}}, "headers: 'Bad Name' is not a valid header name"),
    ({"headers": {"Host": "elsewhere"}}, "headers: 'Host' is set by http.request itself"),
    ({"headers": {"X-A": None}}, "headers['X-A'] must be a string or a number, not NoneType"),
    ({"json": float("nan")}, "json cannot be sent as JSON"),
])
def test_a_bad_argument_is_a_value_error_naming_it(arguments, message):
    with network_events() as events, pytest.raises(ValueError) as raised:
        request.run(url="http://127.0.0.1:9/", **arguments)

    assert str(raised.value).startswith(message)
    assert events == []
