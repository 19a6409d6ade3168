#!/usr/bin/env python3
"""An independent OpenID Connect relying party (Python authlib) against a real `yiwang serve`.

    python tests/oidc/authlib_client.py --bin target/debug/yiwang

Registers a client with `yiwang oidc add-client` in a fresh data directory, starts
`yiwang serve --demo` on a free port with that directory (log: $TMPDIR/yiwang-oidc/server.log),
then, as a department's system would: reads discovery, signs a staff member in through the real
`/admin/login` form (CSRF cookie and field), runs the authorization code flow with PKCE S256,
exchanges the code with client_secret_basic, verifies the ID token's signature and claims against
the JWKS with authlib (`jwt.decode` + `claims.validate()`), calls userinfo, refreshes once (a new
refresh token; the old one then fails with invalid_grant), and ends the session (RP-initiated
logout). Always stops the server. Ends with the line "N passed, N failed"; exit status 0 only when
all passed. Needs `authlib` and `requests` (tests/oidc/requirements.txt; scripts/install-deps.sh
puts them in the venv /var/tmp/yiwang-py).
"""

import argparse
import html
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import warnings

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
with warnings.catch_warnings():
    # authlib.jose is deprecated in favour of joserfc but stays until authlib 2.0; the brief is
    # to test with authlib's own jwt.decode.
    warnings.simplefilter("ignore")
    from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

CB = "http://127.0.0.1:9/cb"
BYE = "http://127.0.0.1:9/bye"
STAFF = ("cs.scjg.manager", "Yiwang@2026")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary):
        self.binary = binary
        self.data = tempfile.mkdtemp(prefix="yiwang-oidc-data-")
        art = os.path.join(tempfile.gettempdir(), "yiwang-oidc")
        os.makedirs(art, exist_ok=True)
        self.log_path = os.path.join(art, "server.log")
        self.proc = None
        self.base = None

    def add_client(self):
        out = subprocess.run(
            [self.binary, "oidc", "add-client", "--data-dir", self.data,
             "--name", "authlib 测试客户端", "--redirect-uri", CB,
             "--post-logout-redirect-uri", BYE, "--scope", "openid profile phone"],
            capture_output=True, text=True, timeout=120, check=True,
        ).stdout
        cid = re.search(r"^client_id: (\S+)$", out, re.M)
        sec = re.search(r"^client_secret: (\S+)$", out, re.M)
        if not (cid and sec):
            raise RuntimeError(f"unexpected add-client output: {out!r}")
        return cid.group(1), sec.group(1)

    def start(self, timeout=90):
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        args = [self.binary, "serve", "--demo", "--listen", f"127.0.0.1:{port}",
                "--data-dir", self.data]
        print("starting:", " ".join(args))
        print("server log:", self.log_path)
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited during start ({self.proc.returncode})")
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return self.base
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"GET {self.base}/healthz did not answer within {timeout} s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        subprocess.run(["rm", "-rf", "--", self.data], check=False)

    def log_tail(self, n=40):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no server log)"


def flow(base, client_id, client_secret):
    """Yields (name, check) pairs; each check runs in order and may use what earlier ones set."""
    st = {}

    def discovery():
        d = requests.get(f"{base}/.well-known/openid-configuration", timeout=10).json()
        assert d["issuer"] == base, d["issuer"]
        assert d["code_challenge_methods_supported"] == ["S256"]
        assert "client_secret_basic" in d["token_endpoint_auth_methods_supported"]
        assert d["id_token_signing_alg_values_supported"] == ["ES256"]
        st["d"] = d

    def staff_sign_in():
        browser = requests.Session()
        r = browser.get(f"{base}/admin/login", timeout=10)
        token = browser.cookies.get("yw_login_csrf")
        field = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
        assert token and token == field
        st["browser"] = browser
        st["csrf"] = field

    def authorize():
        d = st["d"]
        client = OAuth2Session(
            client_id, client_secret, scope="openid profile phone", redirect_uri=CB,
            code_challenge_method="S256", token_endpoint_auth_method="client_secret_basic",
        )
        verifier = generate_token(64)
        nonce = generate_token(20)
        url, state = client.create_authorization_url(
            d["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
        parts = urllib.parse.urlsplit(url)
        browser = st["browser"]
        # Signing in with next = the authorization request brings the browser back to it.
        r = browser.post(f"{base}/admin/login", data={
            "username": STAFF[0], "password": STAFF[1], "csrf": st["csrf"],
            "next": f"{parts.path}?{parts.query}",
        }, allow_redirects=False, timeout=30)
        # Back to the relying party by a refresh page, as a browser sees it (a redirect after a
        # form post would fall under the sign-in page's `form-action 'self'`).
        assert r.status_code == 200, (r.status_code, r.text[:300])
        m = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', r.text)
        assert m, r.text[:300]
        target = html.unescape(m.group(1))
        assert target.startswith("/oidc/authorize?"), target
        r = browser.get(base + target, allow_redirects=False, timeout=10)
        assert r.status_code == 303, (r.status_code, r.text[:300])
        location = r.headers["location"]
        assert location.startswith(CB + "?code="), location
        st.update(client=client, verifier=verifier, nonce=nonce, state=state, location=location)

    def exchange():
        token = st["client"].fetch_token(
            st["d"]["token_endpoint"], authorization_response=st["location"],
            state=st["state"], code_verifier=st["verifier"])
        assert token["token_type"] == "Bearer" and token["expires_in"] == 600
        assert token["access_token"].startswith("yw1.")
        st["token"] = token

    def id_token():
        d = st["d"]
        keys = JsonWebKey.import_key_set(requests.get(d["jwks_uri"], timeout=10).json())
        claims = jwt.decode(
            st["token"]["id_token"], keys, claims_cls=CodeIDToken,
            claims_options={"iss": {"essential": True, "value": d["issuer"]}},
            claims_params={"nonce": st["nonce"], "client_id": client_id},
        )
        claims.validate(leeway=5)
        assert claims["aud"] == client_id
        assert claims["sub"].startswith("staff:")
        assert claims["user_type"] == "staff"
        assert claims["name"] == "长沙市市场监管局事项管理员 王磊"
        st["claims"] = claims
        # A changed signature is refused.
        t = st["token"]["id_token"]
        bad = t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB")
        try:
            jwt.decode(bad, keys)
        except Exception:  # noqa: BLE001 - any refusal is the point
            pass
        else:
            raise AssertionError("a tampered ID token verified")

    def userinfo():
        r = st["client"].get(st["d"]["userinfo_endpoint"], timeout=10)
        assert r.status_code == 200, r.text
        info = r.json()
        assert info["sub"] == st["claims"]["sub"]
        assert info["org"] and info["roles"] == ["item_manager"], info

    def refresh():
        old = st["token"]["refresh_token"]
        new = st["client"].refresh_token(st["d"]["token_endpoint"], refresh_token=old)
        assert new["refresh_token"] != old
        assert new["id_token"]
        try:
            st["client"].refresh_token(st["d"]["token_endpoint"], refresh_token=old)
        except Exception as e:  # noqa: BLE001 - authlib's OAuthError
            assert getattr(e, "error", None) == "invalid_grant", repr(e)
        else:
            raise AssertionError("a used refresh token was accepted again")
        st["new"] = new

    def end_session():
        browser = st["browser"]
        q = urllib.parse.urlencode({
            "id_token_hint": st["new"]["id_token"], "post_logout_redirect_uri": BYE,
            "state": "bye-1"})
        r = browser.get(f"{st['d']['end_session_endpoint']}?{q}", allow_redirects=False,
                        timeout=10)
        assert r.status_code == 303, (r.status_code, r.text[:300])
        assert r.headers["location"] == BYE + "?state=bye-1", r.headers["location"]
        # The platform session is over.
        r = browser.get(f"{base}/admin", allow_redirects=False, timeout=10)
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")

    return [
        ("discovery document", discovery),
        ("staff sign-in form (CSRF cookie and field)", staff_sign_in),
        ("authorization request with PKCE S256 gives a code", authorize),
        ("code exchange with client_secret_basic", exchange),
        ("ID token verifies against the JWKS; claims validate", id_token),
        ("userinfo with the access token", userinfo),
        ("refresh rotates; the old refresh token is refused", refresh),
        ("RP-initiated logout ends the session", end_session),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="the yiwang binary")
    args = ap.parse_args()
    server = Server(os.path.abspath(args.bin))
    passed = failed = 0
    try:
        client_id, client_secret = server.add_client()
        print(f"registered client {client_id}")
        base = server.start()
        print(f"server ready at {base}")
        broken = False
        for name, check in flow(base, client_id, client_secret):
            if broken:
                print(f"  - {name}: not run (an earlier step failed)")
                failed += 1
                continue
            try:
                check()
                print(f"  ✔ {name}")
                passed += 1
            except Exception:  # noqa: BLE001 - report and go on counting
                print(f"  ✖ {name}")
                traceback.print_exc()
                failed += 1
                broken = True
        if failed:
            print("--- server log (tail) ---")
            print(server.log_tail())
    except Exception:  # noqa: BLE001 - setup failure counts once
        traceback.print_exc()
        print("--- server log (tail) ---")
        print(server.log_tail())
        failed += 1
    finally:
        server.stop()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
