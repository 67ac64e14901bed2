"""The webhook HTTP client: one POST to a vetted address, no redirects, no proxies, a hard deadline.

The URL is vetted (ssrf.vet_url) right before the send, and the socket is opened to one of the vetted
addresses, never to whatever the name resolves to a moment later; the Host header and the TLS SNI/certificate
check still use the URL's host name. http.client follows no redirects and reads no proxy settings, which is
exactly what is wanted here: a 3xx is reported as the receiver's answer, not chased.
"""

import email.utils
import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from marketplace.webhooks import conf, ssrf

USER_AGENT = "Atelier-Webhooks/1.0"


@dataclass(frozen=True)
class SendResult:
    status_code: int | None  # None: no HTTP answer (blocked, DNS, refused, timeout, TLS, garbage)
    response_body: str
    response_ms: int
    error: str
    retry_after_seconds: int | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _pinned_connector(addresses: tuple[str, ...], port: int):
    """Stands in for socket.create_connection: tries the vetted addresses in order, ignoring the name."""

    def connect(_address, timeout=None, source_address=None, **_kwargs) -> socket.socket:
        last_error: OSError | None = None
        for ip in addresses:
            try:
                return socket.create_connection((ip, port), timeout, source_address)
            except OSError as exc:
                last_error = exc
        raise last_error or OSError("no address to connect to")

    return connect


def _connection(target: ssrf.Target, timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        context = ssl.create_default_context(cafile=conf.get("WEBHOOK_CA_FILE") or None)
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=context
        )
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    # http.client opens its socket through this attribute, then (for https) wraps it with
    # server_hostname=target.host: the pinned address gets the right SNI and certificate check.
    conn._create_connection = _pinned_connector(target.addresses, target.port)  # type: ignore[attr-defined]
    return conn


def _retry_after(value: str | None) -> int | None:
    if not value:
        return None
    if value.strip().isdigit():
        return int(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(int((when - datetime.now(UTC)).total_seconds()), 0)


def _read_limited(response: http.client.HTTPResponse, sock: socket.socket | None, deadline: float) -> bytes:
    chunks, size = [], 0
    while size < conf.RESPONSE_BODY_LIMIT:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("timed out reading the response")
        if sock is not None:
            sock.settimeout(remaining)
        chunk = response.read1(conf.RESPONSE_BODY_LIMIT - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _decode(raw: bytes, charset: str | None) -> str:
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return raw.decode("utf-8", errors="replace")


def post(*, url: str, body: bytes, headers: dict[str, str], timeout: float | None = None) -> SendResult:
    """POST `body` to `url` once. Never raises for network trouble: the result says what happened."""
    timeout = conf.get("WEBHOOK_TIMEOUT_SECONDS") if timeout is None else timeout
    started = time.monotonic()
    deadline = started + timeout

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = ssrf.vet_url(url)
    except ssrf.UnsafeURL as exc:
        return SendResult(None, "", elapsed_ms(), f"blocked: {exc}")
    conn = _connection(target, timeout)
    try:
        conn.request(
            "POST",
            target.path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **headers,
            },
        )
        if conn.sock is not None:
            conn.sock.settimeout(max(deadline - time.monotonic(), 0.001))
        response = conn.getresponse()
        raw = _read_limited(response, conn.sock, deadline)
        text = _decode(raw, response.headers.get_content_charset())
        return SendResult(response.status, text, elapsed_ms(), "", _retry_after(response.headers.get("Retry-After")))
    except TimeoutError:
        return SendResult(None, "", elapsed_ms(), f"timed out after {timeout:g} s")
    except ssl.SSLError as exc:
        return SendResult(None, "", elapsed_ms(), f"TLS error: {exc.reason or exc}")
    except ConnectionRefusedError:
        return SendResult(None, "", elapsed_ms(), "connection refused")
    except http.client.HTTPException as exc:
        return SendResult(None, "", elapsed_ms(), f"invalid HTTP response: {type(exc).__name__} {exc}".strip())
    except OSError as exc:
        return SendResult(None, "", elapsed_ms(), f"network error: {exc}")
    finally:
        conn.close()
