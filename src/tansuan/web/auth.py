"""Sessions, CSRF and login rate-limiting for the dashboard; bearer tokens for the API.

* **Session**: a cookie ``tansuan_session`` = ``user_id.epoch.expiry.nonce.signature``,
  signed with HMAC-SHA256 under ``Settings.secret_key``; HttpOnly, SameSite=Lax, Secure
  except in demo mode (plain http on localhost). Logging out raises the user's session
  epoch, which voids every session cookie issued before (on every device).
* **CSRF**: double submit. A random ``tansuan_csrf`` cookie; every form carries it as
  the field ``csrf`` (HTMX sends it as the header ``X-CSRF-Token``); a state-changing
  request authenticated by the session cookie must present a match.
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


def csrf_ok(cookie: str | None, sent: str | None) -> bool:
    return bool(cookie) and bool(sent) and hmac.compare_digest(str(cookie), str(sent))


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
