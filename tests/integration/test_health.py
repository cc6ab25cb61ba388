# SPDX-License-Identifier: MIT
"""The health endpoints of `wharf serve` (issue 16): GET /healthz (liveness) and GET /readyz
(readiness; server::ready() going false on drain is tested in readiness_test.cpp), over
HTTP/1.1 (TLS with WHARF_TEST_TLS=1) and HTTP/2."""

import unittest

from h2_client import H2Client
from wharf_server import SharedServerTestCase


class HealthTest(SharedServerTestCase):
    def get(self, path):
        conn = self.server.http_connection()
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.getheader("Cache-Control"), resp.getheader("Content-Type"), resp.read()
        finally:
            conn.close()

    def test_healthz_and_readyz(self):
        self.assertEqual(self.get("/healthz"), (200, "no-store", "text/plain", b"ok\n"))
        self.assertEqual(self.get("/readyz"), (200, "no-store", "text/plain", b"ready\n"))

    def test_over_http2(self):
        with H2Client.to_main_listener(self.server) as c:
            for path, body in (("/healthz", b"ok\n"), ("/readyz", b"ready\n")):
                s = c.get(path)
                self.assertEqual((s.status, bytes(s.data)), (200, body))


if __name__ == "__main__":
    unittest.main()
