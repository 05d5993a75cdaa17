"""Session ids and OAuth refresh tokens: issued at start, by OAuth/SOAP logins and by the control plane.

A session id maps to the User the calls run as (the default owner and the
CreatedById/LastModifiedById of what it writes). Sessions are stored in SQLite
so a client holding one keeps working across an emulator restart on the same
state file, as a real org's sessions outlive a server bounce.
"""

from __future__ import annotations

import hashlib
import secrets
import threading

from sf_emulator.clock import Clock
from sf_emulator.storage import Store
from sf_emulator.wire import invalid_session, to_storage


def hash_secret(secret: str) -> str:
    """How user passwords are kept: salted SHA-256 is plenty for an emulator's test users."""
    return hashlib.sha256(f"sf-emulator:{secret}".encode()).hexdigest()


class Sessions:
    """Issues and resolves bearer tokens."""

    def __init__(self, store: Store, clock: Clock, org_id: str) -> None:
        self._store = store
        self._clock = clock
        self._org_id = org_id
        self._lock = threading.Lock()
        self._cache: dict[str, str] = {
            row["token"]: row["user_id"] for row in store.read("SELECT token, user_id FROM session")
        }

    def issue(self, user_id: str) -> str:
        """A new session id for `user_id`, shaped like Salesforce's ('<org id>!<opaque>')."""
        token = f"{self._org_id[:15]}!{secrets.token_urlsafe(60)}"
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT INTO session (token, user_id, issued_at) VALUES (?, ?, ?)",
                (token, user_id, to_storage(self._clock.now())),
            )
        with self._lock:
            self._cache[token] = user_id
        return token

    def user_for(self, authorization: str | None) -> str:
        """The user behind an `Authorization: Bearer <token>` (or 'OAuth <token>') header, else 401."""
        if not authorization:
            raise invalid_session()
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token:
            raise invalid_session()
        with self._lock:
            user_id = self._cache.get(token.strip())
        if user_id is None:
            raise invalid_session()
        return user_id

    def issue_refresh_token(self, user_id: str) -> str:
        """A refresh token for `user_id`: what the web-server flow hands an app the user approved."""
        token = f"5Aep861{secrets.token_urlsafe(64)}"
        with self._store.transaction() as conn:
            conn.execute("INSERT INTO refresh_token (token, user_id, issued_at) VALUES (?, ?, ?)",
                         (token, user_id, to_storage(self._clock.now())))
        return token

    def refresh(self, refresh_token: str) -> tuple[str, str] | None:
        """A new session (access token, user id) for a valid refresh token; None for an unknown or revoked one."""
        rows = self._store.read("SELECT user_id FROM refresh_token WHERE token = ?", (refresh_token,))
        if not rows:
            return None
        access_token = self.issue(rows[0]["user_id"])
        with self._store.transaction() as conn:
            conn.execute("INSERT INTO refreshed_session (access_token, refresh_token) VALUES (?, ?)",
                         (access_token, refresh_token))
        return access_token, rows[0]["user_id"]

    def revoke(self, token: str) -> int:
        """Invalidate a session, or a refresh token and every session it issued; returns how many went."""
        with self._store.transaction() as conn:
            issued = [r[0] for r in conn.execute(
                "SELECT access_token FROM refreshed_session WHERE refresh_token = ?", (token,))]
            count = conn.execute("DELETE FROM refresh_token WHERE token = ?", (token,)).rowcount
            conn.execute("DELETE FROM refreshed_session WHERE refresh_token = ? OR access_token = ?", (token, token))
            for access_token in [token, *issued]:
                count += conn.execute("DELETE FROM session WHERE token = ?", (access_token,)).rowcount
        with self._lock:
            for access_token in [token, *issued]:
                self._cache.pop(access_token, None)
        return count

    def revoke_all(self) -> int:
        """Invalidate every session (what an admin's 'expire all sessions' does); returns how many."""
        with self._store.transaction() as conn:
            count = conn.execute("DELETE FROM session").rowcount
            conn.execute("DELETE FROM refreshed_session")
        with self._lock:
            self._cache.clear()
        return count
