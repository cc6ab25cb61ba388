# SPDX-License-Identifier: MIT
"""GET /whoami of `wharf serve` (issue 14, S6): Basic (RFC 7617) and Digest (RFC 7616)
authentication with real clients (curl --basic/--digest, python-requests HTTPBasicAuth and
HTTPDigestAuth, Digest computed here with hashlib), the exact 401 challenges, stale nonces,
replayed nonce counts, --demo-user, TLS client certificates, the access log's user field, and
HTTP/2 (h2c by prior knowledge, h2 by ALPN).

The main test classes use the standard server fixture, so WHARF_TEST_TLS=1 runs them over
TLS; the certificate and HTTP/2 classes pick their own listeners (plaintext and TLS)."""

import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

import tls_certs
from h2_client import H2Client
from test_access_log import COMMON_LINE, read_lines
from tls_certs import certs
from wharf_server import SharedServerTestCase, WharfServer

HAVE_CURL = shutil.which("curl") is not None

REALM = "wharf demo"
# The exact challenges (RFC 7616 §3.3, RFC 7617 §2): one Digest per algorithm, the strongest
# first, sharing one nonce; then Basic with charset="UTF-8".
DIGEST_CHALLENGE = re.compile(
    r'^Digest realm="wharf demo", qop="auth", algorithm=(?P<algorithm>SHA-256|MD5), '
    r'nonce="(?P<nonce>[A-Za-z0-9+/]{48})", opaque="(?P<opaque>[0-9a-f]{32})"'
    r"(?P<stale>, stale=true)?$"
)
BASIC_CHALLENGE = 'Basic realm="wharf demo", charset="UTF-8"'
AUTH_PARAM = re.compile(r'([A-Za-z0-9_-]+)=("(?:[^"\\]|\\.)*"|[^,\s]*)')


def curl_version():
    """curl's version as a tuple of ints, e.g. (7, 88, 1)."""
    out = subprocess.run(["curl", "--version"], capture_output=True, text=True, timeout=30)
    m = re.match(r"curl (\d+)\.(\d+)\.(\d+)", out.stdout)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def header_all(headers, name):
    """Every value of field `name` in a list of (name, value) pairs, in order."""
    return [v for k, v in headers if k.lower() == name]


def check_challenges(test, values, stale=False):
    """Asserts the WWW-Authenticate values of a 401; returns the challenges (dicts) by
    algorithm."""
    test.assertEqual(len(values), 3, values)
    got = {}
    for v in values[:2]:
        m = DIGEST_CHALLENGE.match(v)
        test.assertIsNotNone(m, "not the Digest challenge: %r" % v)
        test.assertEqual(m.group("stale") is not None, stale, v)
        got[m.group("algorithm")] = m.groupdict()
    test.assertEqual([DIGEST_CHALLENGE.match(v).group("algorithm") for v in values[:2]],
                     ["SHA-256", "MD5"])
    test.assertEqual(got["SHA-256"]["nonce"], got["MD5"]["nonce"])
    test.assertEqual(got["SHA-256"]["opaque"], got["MD5"]["opaque"])
    test.assertEqual(values[2], BASIC_CHALLENGE)
    return got


def hexdigest(algorithm, text):
    name = {"MD5": "md5", "SHA-256": "sha256"}[algorithm]
    return hashlib.new(name, text.encode("utf-8")).hexdigest()


def digest_authorization(challenge, method, uri, user="alice", password="wonderland", nc=1,
                         cnonce="c0ffee42", algorithm=None, uri_sent=None):
    """An Authorization value for `challenge` (a dict with nonce and opaque), computed here
    (RFC 7616 §3.4.1, qop=auth)."""
    algorithm = algorithm or challenge["algorithm"]
    uri_sent = uri if uri_sent is None else uri_sent
    ha1 = hexdigest(algorithm, "%s:%s:%s" % (user, REALM, password))
    ha2 = hexdigest(algorithm, "%s:%s" % (method, uri_sent))
    nc_text = "%08x" % nc
    response = hexdigest(algorithm, ":".join(
        [ha1, challenge["nonce"], nc_text, cnonce, "auth", ha2]))
    return (
        'Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=%s, qop=auth, '
        'nc=%s, cnonce="%s", response="%s", opaque="%s"'
        % (user, REALM, challenge["nonce"], uri_sent, algorithm, nc_text, cnonce, response,
           challenge["opaque"])
    )


def rspauth(challenge, uri, nc=1, cnonce="c0ffee42", user="alice", password="wonderland"):
    """The rspauth the server must send for those credentials (RFC 7616 §3.5: A2 = ":" uri)."""
    algorithm = challenge["algorithm"]
    ha1 = hexdigest(algorithm, "%s:%s:%s" % (user, REALM, password))
    ha2 = hexdigest(algorithm, ":" + uri)
    return hexdigest(algorithm, ":".join([ha1, challenge["nonce"], "%08x" % nc, cnonce, "auth",
                                          ha2]))


class AuthTestCase(SharedServerTestCase):
    EXTRA_ARGS = ("--demo-user", "bob:secret")

    def get(self, path="/whoami", headers=None, method="GET"):
        """One request on a new connection: (status, [(name, value)], body)."""
        conn = self.server.http_connection()
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def challenge(self, algorithm="SHA-256"):
        status, headers, _ = self.get()
        self.assertEqual(status, 401)
        return check_challenges(self, header_all(headers, "www-authenticate"))[algorithm]

    def assert_whoami(self, body, user, scheme):
        self.assertEqual(json.loads(body), {"user": user, "scheme": scheme})

    # -- requests ------------------------------------------------------------------------

    def requests_kwargs(self):
        return {"verify": certs().ca, "timeout": 30} if self.server.tls else {"timeout": 30}


class ChallengeTest(AuthTestCase):
    def test_no_credentials(self):
        status, headers, body = self.get()
        self.assertEqual(status, 401)
        check_challenges(self, header_all(headers, "www-authenticate"))
        self.assertEqual(header_all(headers, "authentication-info"), [])

    def test_head_too(self):
        status, headers, body = self.get(method="HEAD")
        self.assertEqual(status, 401)
        self.assertEqual(body, b"")
        check_challenges(self, header_all(headers, "www-authenticate"))

    def test_each_challenge_has_a_new_nonce(self):
        self.assertNotEqual(self.challenge()["nonce"], self.challenge()["nonce"])

    def test_malformed_authorization_is_401_never_500(self):
        for value in [
            "Basic", "Basic !!!", "Basic YWxpY2U=", "Basic YWxpY2U6d29uZGVybGFuZA",
            "Digest", "Digest username", 'Digest username="alice', 'Digest a="\\',
            'Digest username="alice", username="alice"', "Digest " + "," * 2000,
            "Bearer abc", "NTLM TlRMTVNTUAABAAAAB4IIog==", ",", "Basic\tYWxpY2U6d29uZGVybGFuZA==x",
        ]:
            with self.subTest(value=value):
                status, headers, _ = self.get(headers={"Authorization": value})
                self.assertEqual(status, 401)
                check_challenges(self, header_all(headers, "www-authenticate"))


class BasicTest(AuthTestCase):
    def test_http_client(self):
        import base64
        value = "Basic " + base64.b64encode(b"alice:wonderland").decode()
        status, headers, body = self.get(headers={"Authorization": value})
        self.assertEqual(status, 200)
        self.assertEqual(dict((k.lower(), v) for k, v in headers)["content-type"],
                         "application/json")
        self.assert_whoami(body, "alice", "basic")
        self.assertEqual(header_all(headers, "www-authenticate"), [])

    @unittest.skipUnless(HAVE_CURL, "curl not installed")
    def test_curl_basic(self):
        r = subprocess.run(
            ["curl", "-sS", "--max-time", "30", "--basic", "-u", "alice:wonderland",
             *self.server.curl_args(), self.server.url("/whoami")],
            capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_whoami(r.stdout, "alice", "basic")

    def test_requests_basic(self):
        r = requests.get(self.server.url("/whoami"), auth=HTTPBasicAuth("alice", "wonderland"),
                         **self.requests_kwargs())
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json(), {"user": "alice", "scheme": "basic"})

    def test_wrong_password(self):
        for user, password in [("alice", "Wonderland"), ("alice", ""), ("carol", "wonderland"),
                               ("bob", "wonderland")]:
            with self.subTest(user=user, password=password):
                r = requests.get(self.server.url("/whoami"), auth=HTTPBasicAuth(user, password),
                                 **self.requests_kwargs())
                self.assertEqual(r.status_code, 401)
                check_challenges(self, r.raw.headers.getlist("WWW-Authenticate"))

    def test_demo_user_added(self):
        for user, password in [("bob", "secret"), ("alice", "wonderland")]:
            r = requests.get(self.server.url("/whoami"), auth=HTTPBasicAuth(user, password),
                             **self.requests_kwargs())
            self.assertEqual(r.status_code, 200, user)
            self.assertEqual(r.json(), {"user": user, "scheme": "basic"})


class DigestTest(AuthTestCase):
    @unittest.skipUnless(HAVE_CURL, "curl not installed")
    def test_curl_digest(self):
        # curl takes the first Digest challenge it knows: SHA-256. Two requests in one run
        # reuse the nonce with nc=2.
        r = subprocess.run(
            ["curl", "-sS", "-v", "--max-time", "30", "--digest", "-u", "alice:wonderland",
             *self.server.curl_args(), self.server.url("/whoami"), self.server.url("/whoami")],
            capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.count(b'{"user":"alice","scheme":"digest"}'), 2, r.stdout)
        log = r.stderr.decode("utf-8", "replace")
        sent = [l for l in log.splitlines() if l.startswith("> Authorization: Digest")]
        self.assertTrue(sent, log)
        self.assertIn("algorithm=SHA-256", sent[0])
        self.assertIn("< Authentication-Info: qop=auth, rspauth=", log)

    @unittest.skipUnless(HAVE_CURL, "curl not installed")
    def test_curl_digest_wrong_password(self):
        r = subprocess.run(
            ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "30",
             "--digest", "-u", "alice:guess", *self.server.curl_args(),
             self.server.url("/whoami")],
            capture_output=True, timeout=60)
        self.assertEqual(r.stdout, b"401", r.stderr)

    @unittest.skipUnless(HAVE_CURL, "curl not installed")
    def test_curl_digest_bob(self):
        r = subprocess.run(
            ["curl", "-sS", "--max-time", "30", "--digest", "-u", "bob:secret",
             *self.server.curl_args(), self.server.url("/whoami")],
            capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_whoami(r.stdout, "bob", "digest")

    def test_requests_digest(self):
        # requests joins the WWW-Authenticate fields and keeps the last algorithm it reads:
        # MD5 here. A session reuses the nonce, counting up.
        with requests.Session() as s:
            s.auth = HTTPDigestAuth("alice", "wonderland")
            for i in range(3):
                r = s.get(self.server.url("/whoami"), **self.requests_kwargs())
                self.assertEqual(r.status_code, 200)
                self.assertEqual(r.json(), {"user": "alice", "scheme": "digest"})
                sent = r.request.headers["Authorization"]
                self.assertIn("nc=%08x" % (i + 1), sent)
            self.assertIn('algorithm="MD5"', sent)

    def test_requests_digest_sha256(self):
        # requests computes SHA-256 when the challenge it read says so: give it the SHA-256
        # challenge the server sent (its own 401 handling would take the MD5 one).
        challenge = self.challenge("SHA-256")
        auth = HTTPDigestAuth("alice", "wonderland")
        auth.init_per_thread_state()
        auth._thread_local.chal = {"realm": REALM, "nonce": challenge["nonce"], "qop": "auth",
                                   "algorithm": "SHA-256", "opaque": challenge["opaque"]}
        url = self.server.url("/whoami?x=1")
        header = auth.build_digest_header("GET", url)
        self.assertIn('algorithm="SHA-256"', header)
        r = requests.get(url, headers={"Authorization": header}, **self.requests_kwargs())
        self.assertEqual(r.status_code, 200, r.headers)
        self.assertEqual(r.json(), {"user": "alice", "scheme": "digest"})
        # The next count with the same nonce, too.
        r = requests.get(url, headers={"Authorization": auth.build_digest_header("GET", url)},
                         **self.requests_kwargs())
        self.assertEqual(r.status_code, 200)

    def test_requests_digest_wrong_password(self):
        r = requests.get(self.server.url("/whoami"), auth=HTTPDigestAuth("alice", "guess"),
                         **self.requests_kwargs())
        self.assertEqual(r.status_code, 401)
        check_challenges(self, r.raw.headers.getlist("WWW-Authenticate"))

    def test_both_algorithms_by_hand(self):
        for algorithm in ("SHA-256", "MD5"):
            with self.subTest(algorithm=algorithm):
                c = self.challenge(algorithm)
                status, headers, body = self.get(
                    headers={"Authorization": digest_authorization(c, "GET", "/whoami")})
                self.assertEqual(status, 200)
                self.assert_whoami(body, "alice", "digest")
                self.assertEqual(
                    header_all(headers, "authentication-info"),
                    ['qop=auth, rspauth="%s", cnonce="c0ffee42", nc=00000001'
                     % rspauth(c, "/whoami")])

    def test_replayed_nonce_count(self):
        c = self.challenge()
        value = digest_authorization(c, "GET", "/whoami", nc=1)
        status, _, _ = self.get(headers={"Authorization": value})
        self.assertEqual(status, 200)
        # The same request again (a replay): refused, and not stale (RFC 7616 §5.5).
        status, headers, _ = self.get(headers={"Authorization": value})
        self.assertEqual(status, 401)
        check_challenges(self, header_all(headers, "www-authenticate"), stale=False)
        # Counts out of order within the window are fine; each once.
        for nc in (5, 3, 4, 2):
            status, _, _ = self.get(
                headers={"Authorization": digest_authorization(c, "GET", "/whoami", nc=nc)})
            self.assertEqual(status, 200, nc)
        status, _, _ = self.get(
            headers={"Authorization": digest_authorization(c, "GET", "/whoami", nc=3)})
        self.assertEqual(status, 401)

    def test_wrong_password_by_hand(self):
        c = self.challenge()
        status, headers, _ = self.get(headers={
            "Authorization": digest_authorization(c, "GET", "/whoami", password="guess")})
        self.assertEqual(status, 401)
        check_challenges(self, header_all(headers, "www-authenticate"), stale=False)

    def test_uri_must_be_the_request_target(self):
        c = self.challenge()
        # Right for /other, sent for /whoami: RFC 7616 §3.4.6 says 400.
        value = digest_authorization(c, "GET", "/whoami", uri_sent="/other")
        status, headers, _ = self.get(headers={"Authorization": value})
        self.assertEqual(status, 400)
        self.assertEqual(header_all(headers, "www-authenticate"), [])
        value = digest_authorization(c, "GET", "/whoami", uri_sent="/whoami?x", nc=2)
        self.assertEqual(self.get(headers={"Authorization": value})[0], 400)

    def test_forged_nonce(self):
        c = dict(self.challenge())
        c["nonce"] = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"  # RFC 7616's example
        status, headers, _ = self.get(
            headers={"Authorization": digest_authorization(c, "GET", "/whoami")})
        self.assertEqual(status, 401)
        check_challenges(self, header_all(headers, "www-authenticate"), stale=False)


class StaleNonceTest(unittest.TestCase):
    """A server whose nonces live 2 s (WHARF_DEMO_NONCE_LIFETIME, read by the demo)."""

    LIFETIME = 2

    @classmethod
    def setUpClass(cls):
        cls.server = WharfServer()
        old = os.environ.get("WHARF_DEMO_NONCE_LIFETIME")
        os.environ["WHARF_DEMO_NONCE_LIFETIME"] = str(cls.LIFETIME)
        try:
            cls.server.start()
        except BaseException:
            cls.server.cleanup()
            raise
        finally:
            if old is None:
                del os.environ["WHARF_DEMO_NONCE_LIFETIME"]
            else:
                os.environ["WHARF_DEMO_NONCE_LIFETIME"] = old

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.stop()
        finally:
            cls.server.cleanup()

    get = AuthTestCase.get
    challenge = AuthTestCase.challenge
    requests_kwargs = AuthTestCase.requests_kwargs

    def test_expired_nonce_is_stale(self):
        c = self.challenge()
        # Issue times have one-second resolution: after LIFETIME + 1.2 s the nonce is older
        # than LIFETIME whatever the fraction was.
        time.sleep(self.LIFETIME + 1.2)
        status, headers, _ = self.get(
            headers={"Authorization": digest_authorization(c, "GET", "/whoami")})
        self.assertEqual(status, 401)
        fresh = check_challenges(self, header_all(headers, "www-authenticate"), stale=True)
        self.assertNotEqual(fresh["SHA-256"]["nonce"], c["nonce"])
        # A wrong password with the expired nonce: not stale (the user must be asked again).
        status, headers, _ = self.get(headers={
            "Authorization": digest_authorization(c, "GET", "/whoami", password="x", nc=2)})
        self.assertEqual(status, 401)
        check_challenges(self, header_all(headers, "www-authenticate"), stale=False)
        # The client retries at once with the new nonce, without asking the user.
        status, _, body = self.get(
            headers={"Authorization": digest_authorization(fresh["SHA-256"], "GET", "/whoami")})
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"user": "alice", "scheme": "digest"})

    def test_requests_session_recovers_from_stale(self):
        with requests.Session() as s:
            s.auth = HTTPDigestAuth("alice", "wonderland")
            r = s.get(self.server.url("/whoami"), **self.requests_kwargs())
            self.assertEqual(r.status_code, 200)
            time.sleep(self.LIFETIME + 1.2)
            # The session's nonce expired: the server says stale=true and requests answers the
            # new challenge by itself.
            r = s.get(self.server.url("/whoami"), **self.requests_kwargs())
            self.assertEqual(r.status_code, 200)
            self.assertEqual(len(r.history), 1)
            self.assertEqual(r.history[0].status_code, 401)
            self.assertTrue(all(", stale=true" in v for v in
                                r.history[0].raw.headers.getlist("WWW-Authenticate")[:2]))


class AccessLogUserTest(unittest.TestCase):
    def test_user_field(self):
        logdir = tempfile.TemporaryDirectory(prefix="wharf-log-")
        self.addCleanup(logdir.cleanup)
        log = os.path.join(logdir.name, "access.log")
        srv = WharfServer(extra_args=["--access-log", log, "--demo-user", "bob:secret"])
        kw = {"verify": certs().ca, "timeout": 30} if srv.tls else {"timeout": 30}
        with srv:
            url = srv.url("/whoami")
            self.assertEqual(requests.get(url, **kw).status_code, 401)
            self.assertEqual(
                requests.get(url + "?b", auth=HTTPBasicAuth("alice", "wonderland"),
                             **kw).status_code, 200)
            # Digest: a 401 (no user), then the 200 with bob.
            self.assertEqual(
                requests.get(url + "?d", auth=HTTPDigestAuth("bob", "secret"), **kw).status_code,
                200)
            lines = read_lines(log, 4)
        lines = read_lines(log, 4)
        self.assertEqual(len(lines), 4, lines)
        got = []
        for line in lines:
            m = COMMON_LINE.match(line)
            self.assertIsNotNone(m, line)
            got.append((m.group("target"), m.group("status"), m.group("user")))
        self.assertEqual(sorted(got), sorted([
            ("/whoami", "401", "-"), ("/whoami?b", "200", "alice"),
            ("/whoami?d", "401", "-"), ("/whoami?d", "200", "bob"),
        ]))


def h2_tls_socket(port, cert=None, key=None):
    """A TLS connection that chose h2 by ALPN, with a client certificate if given."""
    ctx = tls_certs.client_context(alpn=("h2",), cert=cert, key=key)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock = ctx.wrap_socket(raw, server_hostname="localhost")
    except BaseException:
        raw.close()
        raise
    assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
    return sock


class ListenersTest(SharedServerTestCase):
    """One server with a plaintext listener (h2c) and a TLS one (h2 by ALPN) that asks for
    client certificates from the test CA (--tls-client-ca, --tls-client-verify optional)."""

    @classmethod
    def make_server(cls):
        c = certs()
        return WharfServer(tls=False, extra_args=[
            *c.server_args("127.0.0.1:0"), "--tls-client-ca", c.ca,
            "--tls-client-verify", "optional", "--demo-user", "bob:secret"])

    def https(self, path="/whoami"):
        return "https://localhost:%d%s" % (self.server.tls_port, path)

    # -- TLS client certificates ---------------------------------------------------------

    def test_client_certificate_is_the_user(self):
        c = certs()
        r = requests.get(self.https(), cert=(c.alice, c.alice_key), verify=c.ca, timeout=30)
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json(), {"user": "alice", "scheme": "tls"})

    @unittest.skipUnless(HAVE_CURL, "curl not installed")
    def test_client_certificate_over_curl_h1_and_h2(self):
        c = certs()
        for version in ("--http1.1", "--http2"):
            with self.subTest(version=version):
                r = subprocess.run(
                    ["curl", "-sS", "--max-time", "30", version, "--cacert", c.ca,
                     "--cert", c.alice, "--key", c.alice_key,
                     "--resolve", "localhost:%d:127.0.0.1" % self.server.tls_port,
                     "-w", "\n%{http_version}", self.https()],
                    capture_output=True, timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)
                body, _, http_version = r.stdout.rpartition(b"\n")
                self.assertEqual(json.loads(body), {"user": "alice", "scheme": "tls"})
                self.assertEqual(http_version, b"1.1" if version == "--http1.1" else b"2")

    def test_client_certificate_over_h2(self):
        c = certs()
        with H2Client(h2_tls_socket(self.server.tls_port, c.alice, c.alice_key)) as h2:
            s = h2.get("/whoami", timeout=30)
            self.assertEqual(s.status, 200)
            self.assertEqual(json.loads(bytes(s.data)), {"user": "alice", "scheme": "tls"})

    def test_no_or_unverified_certificate_is_401(self):
        c = certs()
        r = requests.get(self.https(), verify=c.ca, timeout=30)
        self.assertEqual(r.status_code, 401)
        check_challenges(self, r.raw.headers.getlist("WWW-Authenticate"))
        # A self-signed certificate the CA never signed: not verified, not a user.
        r = requests.get(self.https(), cert=(c.stranger, c.stranger_key), verify=c.ca,
                         timeout=30)
        self.assertEqual(r.status_code, 401)

    def test_authorization_wins_over_the_certificate(self):
        c = certs()
        r = requests.get(self.https(), cert=(c.alice, c.alice_key), verify=c.ca, timeout=30,
                         auth=HTTPBasicAuth("bob", "secret"))
        self.assertEqual(r.json(), {"user": "bob", "scheme": "basic"})
        # Wrong credentials are not rescued by the certificate.
        r = requests.get(self.https(), cert=(c.alice, c.alice_key), verify=c.ca, timeout=30,
                         auth=HTTPBasicAuth("bob", "wrong"))
        self.assertEqual(r.status_code, 401)

    def test_plaintext_has_no_certificate(self):
        r = requests.get("http://127.0.0.1:%d/whoami" % self.server.port, timeout=30)
        self.assertEqual(r.status_code, 401)

    # -- HTTP/2 --------------------------------------------------------------------------

    def h2_clients(self):
        yield "h2c", lambda: H2Client.h2c(self.server.port)
        yield "h2", lambda: H2Client.tls(self.server.tls_port, certs().ca)

    def test_h2_challenges(self):
        for name, connect in self.h2_clients():
            with self.subTest(protocol=name), connect() as h2:
                s = h2.get("/whoami", timeout=30)
                self.assertEqual(s.status, 401)
                check_challenges(self, s.header_all("www-authenticate"))

    def test_h2_basic_and_digest(self):
        import base64
        basic = "Basic " + base64.b64encode(b"bob:secret").decode()
        for name, connect in self.h2_clients():
            with self.subTest(protocol=name), connect() as h2:
                s = h2.get("/whoami", headers=[("authorization", basic)], timeout=30)
                self.assertEqual(s.status, 200)
                self.assertEqual(json.loads(bytes(s.data)), {"user": "bob", "scheme": "basic"})
                s = h2.get("/whoami", timeout=30)
                challenges = check_challenges(self, s.header_all("www-authenticate"))
                for nc, algorithm in enumerate(("SHA-256", "MD5"), start=1):
                    value = digest_authorization(challenges[algorithm], "GET", "/whoami", nc=nc)
                    s = h2.get("/whoami", headers=[("authorization", value)], timeout=30)
                    self.assertEqual(s.status, 200, algorithm)
                    self.assertEqual(json.loads(bytes(s.data)),
                                     {"user": "alice", "scheme": "digest"})
                    self.assertEqual(s.header_all("authentication-info"), [
                        'qop=auth, rspauth="%s", cnonce="c0ffee42", nc=%08x'
                        % (rspauth(challenges[algorithm], "/whoami", nc=nc), nc)])
                # The same count again, on the same connection: a replay.
                s = h2.get("/whoami", headers=[("authorization", value)], timeout=30)
                self.assertEqual(s.status, 401)
                check_challenges(self, s.header_all("www-authenticate"))

    def test_h2_concurrent_streams_out_of_order_counts(self):
        # Several streams of one connection with consecutive counts at once: each accepted.
        with H2Client.h2c(self.server.port) as h2:
            c = check_challenges(self, h2.get("/whoami", timeout=30)
                                 .header_all("www-authenticate"))["SHA-256"]
            sids = [h2.request("GET", "/whoami", headers=[
                ("authorization", digest_authorization(c, "GET", "/whoami", nc=nc))])
                for nc in (4, 2, 3, 1)]
            for sid in sids:
                self.assertEqual(h2.wait_stream(sid, timeout=30).status, 200)

    @unittest.skipUnless(HAVE_CURL, "curl not installed")
    def test_curl_h2_prior_knowledge_and_tls(self):
        h2c = "http://127.0.0.1:%d/whoami" % self.server.port
        for scheme, args in (
            ("h2c", ["--http2-prior-knowledge", h2c]),
            ("h2c upgrade", ["--http2", h2c]),
            ("h2", ["--http2", "--cacert", certs().ca, "--resolve",
                    "localhost:%d:127.0.0.1" % self.server.tls_port, self.https()]),
        ):
            for auth, want in (("--basic", "basic"), ("--digest", "digest")):
                if scheme == "h2c" and auth == "--digest" and curl_version() < (8, 0):
                    # curl before 8.0 fails the second request on a prior-knowledge
                    # connection ("Error in the HTTP2 framing layer", curl/curl#10634), and
                    # --digest needs two; "h2c upgrade" covers Digest on cleartext HTTP/2.
                    continue
                with self.subTest(protocol=scheme, auth=auth):
                    r = subprocess.run(
                        ["curl", "-sS", "--max-time", "30", auth, "-u", "alice:wonderland",
                         "-w", "\n%{http_version}", *args],
                        capture_output=True, timeout=60)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    body, _, version = r.stdout.rpartition(b"\n")
                    self.assertEqual(version, b"2")
                    self.assertEqual(json.loads(body), {"user": "alice", "scheme": want})


if __name__ == "__main__":
    unittest.main()
