"""Sessions, CSRF and login rate-limiting for the dashboard; bearer tokens for the API.

* **Session**: a cookie ``tansuan_session`` = ``user_id.epoch.expiry.nonce.signature``,
  signed with HMAC-SHA256 under ``Settings.secret_key``; HttpOnly, SameSite=Lax, Secure
  except in demo mode (plain http on localhost). Logging out raises the user's session
  epoch, which voids every session cookie issued before (on every device).
* **CSRF**: signed tokens bound to the session. With a session the token is
  ``HMAC(secret, "csrf:session:" + session cookie)``: a cookie an attacker plants in the
  browser (``tansuan_csrf`` or any other) cannot make a token that validates, because the
  token depends on the HttpOnly session cookie and the server's secret. Before login (the
  login form) the token is ``HMAC(secret, "csrf:anon:" + tansuan_csrf cookie)`` of a random
  cookie. Every form carries the token as the field ``csrf`` (HTMX sends it as the header
  ``X-CSRF-Token``); a state-changing request authenticated by the session cookie must
  present the token of its own session. Logging in changes the token.
* **Rate limit**: :class:`LoginLimiter` counts failed logins per username and per client
  address separately, in bounded tables. The client address is the TCP peer, or — only
  when the peer is one of ``TANSUAN_TRUSTED_PROXIES`` — the right-most untrusted hop of
  ``X-Forwarded-For`` (:func:`client_address`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SESSION_COOKIE = "tansuan_session"
CSRF_COOKIE = "tansuan_csrf"
LANG_COOKIE = "tansuan_lang"
SESSION_TTL_S = 12 * 3600
LOGIN_FAILURES = 5
LOGIN_WINDOW_S = 300.0


def _sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def make_session(secret: str, user_id: int, epoch: int, *, ttl_s: int = SESSION_TTL_S) -> str:
    body = f"{user_id}.{epoch}.{int(time.time()) + ttl_s}.{secrets.token_hex(8)}"
    return f"{body}.{_sign(secret, 'session:' + body)}"


def read_session(secret: str, value: str | None) -> tuple[int, int] | None:
    """(user id, session epoch) of a valid, unexpired session cookie; None otherwise."""
    if not value or value.count(".") != 4:
        return None
    body, _, signature = value.rpartition(".")
    if not hmac.compare_digest(signature, _sign(secret, "session:" + body)):
        return None
    user_id, epoch, expiry, _nonce = body.split(".")
    if not (user_id.isdigit() and epoch.isdigit() and expiry.isdigit()):
        return None
    if int(expiry) < time.time():
        return None
    return int(user_id), int(epoch)


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(secret: str, session: str | None, anonymous: str | None) -> str | None:
    """The CSRF token of a request's cookies: bound to a valid session cookie if there is
    one, else to the anonymous ``tansuan_csrf`` cookie; None when there is neither."""
    if session and read_session(secret, session) is not None:
        return _sign(secret, "csrf:session:" + session)
    if anonymous:
        return _sign(secret, "csrf:anon:" + anonymous)
    return None


def csrf_ok(secret: str, session: str | None, anonymous: str | None, sent: str | None) -> bool:
    """Whether ``sent`` is the CSRF token of these cookies (see :func:`csrf_token`)."""
    expected = csrf_token(secret, session, anonymous)
    return bool(expected) and bool(sent) and hmac.compare_digest(str(expected), str(sent))


def cookies_csrf_ok(cookies: Mapping[str, str], secret: str, sent: str | None) -> bool:
    """:func:`csrf_ok` on a request's cookies."""
    return csrf_ok(secret, cookies.get(SESSION_COOKIE), cookies.get(CSRF_COOKIE), sent)


#: Usernames and addresses longer than this are keyed by their SHA-256 (a 1 MB username
#: must not become a 1 MB key in the limiter's tables).
MAX_KEY_CHARS = 64


def _key(text: str) -> str:
    text = text.strip().lower()
    if len(text) <= MAX_KEY_CHARS:
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class LoginLimiter:
    """Failed logins counted per username and per client address, separately; bounded.

    * **Per username** (``user_failures`` within ``window_s`` of the first failure): the
      username is locked for everyone, from every address, whether or not the password is
      right, until the window has passed.
    * **Per address** (``address_failures`` within ``window_s``): the address is locked for
      usernames that have not logged in successfully from it within ``known_s`` (a spray of
      fresh usernames stops there); users who have logged in from this address before keep
      logging in (their own per-username count still applies). A success clears the
      username's count, never the address's.
    * **Bounded**: each table holds at most ``max_keys`` entries; expired entries are swept
      once per window, and when a table is full the entry that failed least recently is
      dropped first.

    ``clock`` is a monotonic clock in seconds (injectable for tests). Thread-safe.
    """

    def __init__(
        self,
        *,
        user_failures: int = LOGIN_FAILURES,
        address_failures: int = 6 * LOGIN_FAILURES,
        window_s: float = LOGIN_WINDOW_S,
        max_keys: int = 10_000,
        known_s: float = 30 * 86400.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.user_failures = user_failures
        self.address_failures = address_failures
        self.window_s = window_s
        self.max_keys = max_keys
        self.known_s = known_s
        self._clock = clock
        # key -> (first failure in the window, failures): least recently failed first.
        self._users: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._addresses: OrderedDict[str, tuple[float, int]] = OrderedDict()
        # (username, address) -> last successful login: least recently used first.
        self._known: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._swept = clock()
        self._lock = threading.Lock()

    def _count(self, table: OrderedDict[str, tuple[float, int]], key: str, now: float) -> int:
        entry = table.get(key)
        if entry is None or now - entry[0] >= self.window_s:
            return 0
        return entry[1]

    def refusal(self, username: str, address: str) -> str | None:
        """Why a login of ``username`` from ``address`` is refused now ('user' or
        'address'), or None when it may be tried."""
        user, addr = _key(username), _key(address)
        now = self._clock()
        with self._lock:
            self._sweep(now)
            if self._count(self._users, user, now) >= self.user_failures:
                return "user"
            known = self._known.get((user, addr))
            if known is not None and now - known < self.known_s:
                return None
            if self._count(self._addresses, addr, now) >= self.address_failures:
                return "address"
            return None

    def failed(self, username: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            self._bump(self._users, _key(username), now)
            self._bump(self._addresses, _key(address), now)

    def succeeded(self, username: str, address: str) -> None:
        user, addr = _key(username), _key(address)
        now = self._clock()
        with self._lock:
            self._users.pop(user, None)
            self._known[(user, addr)] = now
            self._known.move_to_end((user, addr))
            while len(self._known) > self.max_keys:
                self._known.popitem(last=False)

    def sizes(self) -> dict[str, int]:
        """Entries per table (for tests, the soak bench and /metrics-style checks)."""
        with self._lock:
            return {"users": len(self._users), "addresses": len(self._addresses),
                    "known": len(self._known)}  # fmt: skip

    def _bump(self, table: OrderedDict[str, tuple[float, int]], key: str, now: float) -> None:
        self._sweep(now)
        first, count = table.get(key) or (now, 0)
        if now - first >= self.window_s:
            first, count = now, 0
        table[key] = (first, count + 1)
        table.move_to_end(key)
        while len(table) > self.max_keys:
            table.popitem(last=False)

    def _sweep(self, now: float) -> None:
        """Drop expired entries, at most once per window (amortised O(1) per call)."""
        if now - self._swept < self.window_s:
            return
        self._swept = now
        for table in (self._users, self._addresses):
            for key in [k for k, (first, _n) in table.items() if now - first >= self.window_s]:
                del table[key]
        for pair in [k for k, at in self._known.items() if now - at >= self.known_s]:
            del self._known[pair]


def parse_networks(entries: Sequence[str]) -> list[IPNetwork]:
    """The trusted proxies (addresses or CIDRs); ValueError names a malformed entry."""
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()]


def _trusted(address: str, networks: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]) -> str:
    """The client's address: the TCP peer, unless the peer is a trusted proxy; then the
    right-most hop of ``X-Forwarded-For`` that is not itself a trusted proxy (the left-most
    when all are). An untrusted peer's ``X-Forwarded-For`` is ignored: anyone can send one."""
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer
