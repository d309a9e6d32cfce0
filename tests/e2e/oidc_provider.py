"""A tiny OpenID Connect identity provider on 127.0.0.1 for the single sign-on browser tests.

It serves what Streamlit's OIDC client (Authlib) asks of a real provider: the discovery
document, an authorize endpoint, a token endpoint that checks the client and the one-time
code and returns an RS256-signed ID token, and the JWKS to check that signature. The person
"signing in" at the provider is whoever the test sets as :attr:`OidcProvider.identity`, as
if they already had a session there. Nothing leaves the machine.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "hair-tracker"
CLIENT_SECRET = "a client secret for the tests only"
KEY_ID = "test-key-1"
ID_TOKEN_LIFETIME_S = 300


@dataclass(frozen=True)
class Identity:
    """The person signed in at the provider (the ID token's claims about them)."""

    subject: str
    email: str
    email_verified: bool = True
    name: str = ""


@dataclass
class OidcProvider:
    issuer: str
    key: RSAKey
    identity: Identity | None = None
    # One-time codes handed out by /authorize: code -> (claims, redirect_uri).
    codes: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, str]:
        """The status and query string of the redirect back to the app (or an error)."""
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return 400, "unknown client or response type"
        if self.identity is None:
            return 403, "nobody is signed in at the identity provider"
        code = secrets.token_urlsafe(16)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": self.identity.subject,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + ID_TOKEN_LIFETIME_S,
            "nonce": query.get("nonce", ""),
            "email": self.identity.email,
            "email_verified": self.identity.email_verified,
            "name": self.identity.name,
        }
        with self.lock:
            self.codes[code] = (claims, query.get("redirect_uri", ""))
        return 302, urlencode({"code": code, "state": query.get("state", "")})

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        """The token response for a code exchange by the registered client."""
        client = _client_credentials(form, authorization)
        if client != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        with self.lock:
            issued = self.codes.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or issued is None:
            return 400, {"error": "invalid_grant"}
        claims, redirect_uri = issued
        if form.get("redirect_uri") != redirect_uri:
            return 400, {"error": "invalid_grant"}
        id_token = jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, self.key)
        return 200, {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": ID_TOKEN_LIFETIME_S,
            "scope": "openid email profile",
            "id_token": id_token,
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}


def _client_credentials(form: dict[str, str], authorization: str) -> tuple[str, str]:
    if authorization.startswith("Basic "):
        user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        return user, password
    return form.get("client_id", ""), form.get("client_secret", "")


def _handler(provider: OidcProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {name: values[-1] for name, values in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._json(200, provider.metadata())
            elif url.path == "/jwks":
                self._json(200, provider.jwks())
            elif url.path == "/authorize":
                status, answer = provider.authorize(query)
                if status != 302:
                    self._json(status, {"error": answer})
                    return
                self.send_response(302)
                self.send_header("Location", f"{query['redirect_uri']}?{answer}")
                self.end_headers()
            else:
                self._json(404, {"error": "not found"})

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/token":
                self._json(404, {"error": "not found"})
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            form = {name: values[-1] for name, values in parse_qs(body).items()}
            self._json(*provider.token(form, self.headers.get("Authorization", "")))

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test output is for the tests."""

    return Handler


@contextmanager
def serve_oidc_provider() -> Iterator[OidcProvider]:
    """An identity provider on a free port of 127.0.0.1, for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    issuer = f"http://127.0.0.1:{server.server_address[1]}"
    provider = OidcProvider(
        issuer=issuer, key=RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig"})
    )
    server.RequestHandlerClass = _handler(provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
