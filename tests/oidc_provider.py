"""A small OpenID Connect provider on loopback, for single sign-on tests.

It speaks the protocol over real HTTP: discovery, the authorization endpoint (authorization code
flow, PKCE S256 required, state and nonce passed through), the token endpoint (client secret,
code once, redirect URI and code_verifier checked), and JWKS; ID tokens are RS256 JWTs.
Whoever the test sets as ``person`` is "logged in at the provider" and approves at once. Knobs
for the refusal tests: ``forge = "wrong_key" | "expired" | "audience" | "issuer"``.

    with Provider() as provider:
        client_id, secret = provider.register("http://127.0.0.1:5000/auth/oidc/callback")
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from typing import Self
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

from tests.support import free_port


class Provider:
    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "main"})
        # Same key id, other key: a token it signs names the published key but does not match.
        self.wrong_key = RSAKey.generate_key(2048, parameters={"kid": "main"})
        self.clients: dict[str, tuple[str, str]] = {}  # client_id: (secret, redirect_uri)
        self.codes: dict[str, dict] = {}
        self.person = {"sub": "u-1", "preferred_username": "alice", "email": "alice@example.com",
                       "email_verified": True, "groups": []}
        self.forge: str | None = None
        self.token_requests: list[dict] = []
        self._server = make_server("127.0.0.1", self.port, self._app(), threaded=True)

    def register(self, redirect_uri: str) -> tuple[str, str]:
        client_id, secret = "parley-" + secrets.token_hex(4), secrets.token_urlsafe(24)
        self.clients[client_id] = (secret, redirect_uri)
        return client_id, secret

    def __enter__(self) -> Self:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()

    def _app(self) -> Flask:
        app = Flask("oidc-provider")
        app.add_url_rule("/.well-known/openid-configuration", view_func=self._discovery)
        app.add_url_rule("/authorize", view_func=self._authorize)
        app.add_url_rule("/token", view_func=self._token, methods=["POST"])
        app.add_url_rule("/jwks", view_func=self._jwks)
        return app

    def _discovery(self):
        return jsonify({
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "email", "profile", "groups"],
        })

    def _jwks(self):
        return jsonify(KeySet([self.key]).as_dict(private=False))

    def _authorize(self):
        args = request.args
        client = self.clients.get(args.get("client_id", ""))
        if client is None or args.get("redirect_uri") != client[1]:
            abort(400, "unknown client or redirect_uri")  # never redirect to an unknown place
        back = client[1] + "?"
        if args.get("response_type") != "code" or "openid" not in args.get("scope", "").split():
            return redirect(back + urlencode({"error": "invalid_request",
                                              "state": args.get("state", "")}))
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            return redirect(back + urlencode({"error": "invalid_request",
                                              "error_description": "PKCE S256 required",
                                              "state": args.get("state", "")}))
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"client_id": args["client_id"], "redirect_uri": client[1],
                            "challenge": args["code_challenge"], "nonce": args.get("nonce"),
                            "person": dict(self.person), "at": time.time()}
        return redirect(back + urlencode({"code": code, "state": args.get("state", "")}))

    def _token(self):
        form = request.form
        self.token_requests.append(dict(form))
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if request.authorization:  # client_secret_basic
            client_id = request.authorization.username
            secret = request.authorization.password
        client = self.clients.get(client_id or "")
        if client is None or not secrets.compare_digest(client[0], secret or ""):
            return jsonify(error="invalid_client"), 401
        grant = self.codes.pop(form.get("code", ""), None)  # a code works once
        if (grant is None or grant["client_id"] != client_id or form.get("grant_type")
                != "authorization_code" or form.get("redirect_uri") != grant["redirect_uri"]
                or time.time() - grant["at"] > 60):
            return jsonify(error="invalid_grant"), 400
        verifier = form.get("code_verifier", "").encode()
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if not secrets.compare_digest(computed.decode(), grant["challenge"]):
            return jsonify(error="invalid_grant", error_description="PKCE"), 400
        return jsonify(access_token=secrets.token_urlsafe(24), token_type="Bearer",
                       expires_in=300, id_token=self._id_token(client_id, grant))

    def _id_token(self, client_id: str, grant: dict) -> str:
        now = int(time.time())
        claims = {**grant["person"], "iss": self.issuer, "aud": client_id, "iat": now,
                  "exp": now + 300, "nonce": grant["nonce"]}
        if self.forge == "expired":
            claims.update(iat=now - 3600, exp=now - 1800)
        elif self.forge == "audience":
            claims["aud"] = "someone-else"
        elif self.forge == "issuer":
            claims["iss"] = "http://evil.example"
        key = self.wrong_key if self.forge == "wrong_key" else self.key
        return jwt.encode({"alg": "RS256", "kid": "main"}, claims, key)
