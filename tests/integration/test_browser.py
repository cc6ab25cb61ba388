# SPDX-License-Identifier: MIT
"""A real browser (headless Chromium) loads the demo site over HTTP/2 on TLS.

The page asks /tls over the same connection and shows what it learned; the test reads the
rendered DOM. Chromium trusts the test server's key by its SPKI hash
(--ignore-certificate-errors-spki-list), which is how a test pins a throw-away certificate
without a system CA store. The access log must show every request (the page, its style sheet,
the fetch) as HTTP/2.0. Skipped where Chromium is not installed (scripts/deps test installs it).
"""

import base64
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from tls_certs import certs
from wharf_server import WharfServer, wait_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DEMO_SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "wharf",
                         "demo-site")


def spki_sha256(cert_path):
    """base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo (DER)."""
    pem = subprocess.run(["openssl", "x509", "-in", cert_path, "-pubkey", "-noout"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pem,
                         check=True, capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


# Headless Chromium's virtual time does not wait for WebSockets, only for fetches: the page
# under test keeps one pending (a long GET /wait) until the echo socket has closed, so the DOM is
# dumped after the round trip however slow the server is (an ASan build).
HOLD_UNTIL_CLOSED = """
const hold = new AbortController();
fetch("/wait?ms=60000", {signal: hold.signal}).catch(() => {});
const status = document.getElementById("echo-status");
new MutationObserver(() => {
  if (/^(closed|error)/.test(status.textContent)) hold.abort();
}).observe(status, {childList: true, characterData: true, subtree: true});
"""


def run_chromium(c, url):
    """Headless Chromium's DOM of `url` once the page settled, trusting the test server's key."""
    profile = tempfile.mkdtemp(prefix="wharf-chromium-")
    try:
        return subprocess.run(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--user-data-dir=" + profile,
             "--ignore-certificate-errors-spki-list=" + spki_sha256(c.server),
             "--virtual-time-budget=10000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@unittest.skipUnless(CHROMIUM, "chromium is not installed")
class BrowserTest(unittest.TestCase):
    def serve(self, pages):
        """A one-worker wharf with an access log and TLS beside plaintext, serving `pages`
        ({name: text, or None for the demo site's file}); stopped and removed after the test."""
        log_dir = tempfile.mkdtemp(prefix="wharf-browser-")
        self.addCleanup(shutil.rmtree, log_dir, ignore_errors=True)
        self.log = os.path.join(log_dir, "access.log")
        srv = WharfServer(extra_args=["--access-log", self.log, *certs().server_args()],
                          workers=1, tls=False)
        self.addCleanup(srv.cleanup)
        for name, text in pages.items():
            if text is None:
                shutil.copy(os.path.join(DEMO_SITE, name), os.path.join(srv.site, name))
            else:
                with open(os.path.join(srv.site, name), "w") as f:
                    f.write(text)
        srv.start()
        self.addCleanup(srv.stop)
        return srv

    def assert_logged(self, *lines):
        def logged():
            with open(self.log) as f:
                text = f.read()
            return all(line in text for line in lines)

        if not wait_for(logged, 10):
            with open(self.log) as f:
                self.fail("not all of %r in the access log:\n%s" % (lines, f.read()))

    def browse(self, srv, path):
        r = run_chromium(certs(), "https://localhost:%d%s" % (srv.tls_port, path))
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        return r.stdout

    def test_demo_site_over_h2_on_tls(self):
        srv = self.serve({"index.html": None, "style.css": None})
        dom = self.browse(srv, "/")
        self.assertIn("<h1>wharf is running</h1>", dom)
        self.assertRegex(dom, r'<span id="connection">HTTP/2 over TLSv1\.3 \(TLS_[A-Z0-9_]+\)<')
        self.assert_logged(*('"GET %s HTTP/2.0" 200' % p for p in ("/", "/style.css", "/tls")))

    def test_websocket_page_over_tls(self):
        """ws.html opens wss:// to /ws/echo: text, binary and a 120 kB message come back, and
        Chromium's permessage-deflate offer is taken. The page came over HTTP/2, whose SETTINGS
        allow extended CONNECT: Chromium opens its WebSockets on that connection (RFC 8441)."""
        with open(os.path.join(DEMO_SITE, "ws.html")) as f:
            page = f.read().replace("</script>", HOLD_UNTIL_CLOSED + "</script>", 1)
        srv = self.serve({"style.css": None, "ws.html": page})
        dom = self.browse(srv, "/ws.html")
        self.assertIn('<span id="echo">ok: hello, wharf | binary:3 | large:120000</span>', dom)
        self.assertRegex(dom, r'<span id="echo-extensions">permessage-deflate[^<]*<')
        self.assertIn('<span id="echo-status">closed 1000</span>', dom)
        self.assert_logged('"CONNECT /ws/echo HTTP/2.0" 200')

    def test_form_upload_over_tls(self):
        """form.html?selftest puts two files in its file input and submits the form: Chromium's
        own multipart/form-data goes to POST /form (over HTTP/2), whose JSON answer is the page
        Chromium then shows."""
        srv = self.serve({"form.html": None, "style.css": None})
        dom = self.browse(srv, "/form.html?selftest")
        shown = re.search(r"<pre[^>]*>(.*?)</pre>", dom, re.S)
        self.assertIsNotNone(shown, dom[-2000:])
        answer = json.loads(html.unescape(shown.group(1)))
        pattern = bytes((i * 7 + 3) % 256 for i in range(100000))
        self.assertEqual(answer, {
            "fields": {"name": "alice", "comment": "Hello from a browser"},
            "files": [
                {"field": "upload", "filename": "pattern.bin", "type": "application/octet-stream",
                 "bytes": 100000, "sha256": hashlib.sha256(pattern).hexdigest()},
                {"field": "upload", "filename": "notes.txt", "type": "text/plain",
                 "bytes": 11, "sha256": hashlib.sha256(b"plain text\n").hexdigest()},
            ]})
        self.assert_logged('"POST /form HTTP/2.0" 200')


if __name__ == "__main__":
    unittest.main()
