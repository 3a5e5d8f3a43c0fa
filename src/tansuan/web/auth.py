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
* **Rate limit**: at most :data:`LOGIN_FAILURES` failed logins per username and per
  client address within :data:`LOGIN_WINDOW_S`; further attempts are refused until the
  window has passed, whether or not the password is right.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping

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


class LoginLimiter:
    """Failed logins per key (username, client address) in a sliding window; thread-safe."""

    def __init__(self, failures: int = LOGIN_FAILURES, window_s: float = LOGIN_WINDOW_S) -> None:
        self.failures = failures
        self.window_s = window_s
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._seen.setdefault(key, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.failures for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._seen.pop(k, None)
