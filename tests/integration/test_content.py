# SPDX-License-Identifier: MIT
"""The content endpoints of `wharf serve` (issue 14): GET /negotiate, POST /json/echo and
/xml/echo, over http.client and HTTP/2 (h2c, or h2 by ALPN with WHARF_TEST_TLS=1)."""

import json
import unittest
import xml.etree.ElementTree as ET

from h2_client import H2Client
from wharf_server import SharedServerTestCase


class ContentTestCase(SharedServerTestCase):

    def request(self, method, path, body=None, headers=None):
        conn = self.server.http_connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()


class OverHttp2:
    """Runs a ContentTestCase's tests over HTTP/2 instead of HTTP/1.1."""

    def h2(self):
        return H2Client.to_main_listener(self.server)

    def request(self, method, path, body=None, headers=None):
        fields = [(k.lower(), v) for k, v in (headers or {}).items()]
        if body is not None:
            fields.append(("content-length", str(len(body))))
        with self.h2() as c:
            sid = c.request(method, path, headers=fields, body=body or None)
            s = c.wait_stream(sid, timeout=30)
            self.assertIsNone(s.reset, "stream reset")
            got = {}
            for k, v in s.headers:
                got[k] = got[k] + ", " + v if k in got else v
            return s.status, got, bytes(s.data)


class NegotiateTest(ContentTestCase):
    def negotiate(self, accept):
        return self.request("GET", "/negotiate", headers={} if accept is None else {"Accept": accept})

    def test_each_type(self):
        rows = [
            (None, "application/json"),
            ("*/*", "application/json"),
            ("application/json", "application/json"),
            ("application/xml", "application/xml"),
            ("text/html", "text/html"),
            ("text/plain", "text/plain"),
            ("text/*", "text/html"),
            ("text/*;q=0.5, text/plain", "text/plain"),
            ("application/json;q=0.1, application/xml;q=0.9", "application/xml"),
            ("text/html;q=0, */*;q=0.1", "application/json"),
            ("image/png, text/plain;q=0.2", "text/plain"),
            ("TEXT/PLAIN", "text/plain"),
            # A malformed element is skipped, not fatal.
            ("bogus, text/plain", "text/plain"),
        ]
        for accept, want in rows:
            with self.subTest(accept=accept):
                status, headers, body = self.negotiate(accept)
                self.assertEqual(status, 200)
                self.assertEqual(headers["content-type"].split(";")[0], want)
                self.assertIn("accept", [v.strip().lower() for v in headers["vary"].split(",")])
                if want == "application/json":
                    self.assertEqual(json.loads(body), {"message": "Hello, World!"})
                elif want == "application/xml":
                    self.assertEqual(ET.fromstring(body).tag, "message")
                    self.assertEqual(ET.fromstring(body).text, "Hello, World!")
                elif want == "text/plain":
                    self.assertEqual(body, b"Hello, World!")
                else:
                    self.assertIn(b"Hello, World!", body)

    def test_nothing_acceptable_is_406(self):
        for accept in ("image/png", "application/json;q=0, application/xml;q=0, text/*;q=0",
                       "text/csv, application/pdf"):
            with self.subTest(accept=accept):
                status, headers, body = self.negotiate(accept)
                self.assertEqual(status, 406)
                self.assertTrue(headers["content-type"].startswith("text/plain"))
                for t in (b"application/json", b"application/xml", b"text/html", b"text/plain"):
                    self.assertIn(t, body)
                self.assertIn("accept", headers["vary"].lower())


class JsonEchoTest(ContentTestCase):
    def test_values_and_types(self):
        rows = [
            ('{"a": [1, 2, {"b": null}]}', {"a": [1, 2, {"b": None}]}, "object"),
            ("[1, 2, 3]", [1, 2, 3], "array"),
            ('"text \\u00e9"', "text \u00e9", "string"),
            ("12.5", 12.5, "number"),
            ("-3", -3, "number"),
            ("true", True, "boolean"),
            ("null", None, "null"),
        ]
        for text, value, kind in rows:
            for ctype in ("application/json", "application/problem+json",
                          "application/json; charset=utf-8"):
                with self.subTest(body=text, ctype=ctype):
                    status, headers, body = self.request(
                        "POST", "/json/echo", text.encode(), {"Content-Type": ctype})
                    self.assertEqual(status, 200, body)
                    self.assertEqual(headers["content-type"], "application/json")
                    self.assertEqual(json.loads(body), {"received": value, "type": kind})

    def test_malformed_is_400_with_offset(self):
        rows = [('{"a": tru}', 6), ('{"a": 1,}', 8), ("[1, 2", 5), ('"\xff"'.encode("latin-1"), 1)]
        for text, _ in rows:
            data = text if isinstance(text, bytes) else text.encode()
            with self.subTest(body=data):
                status, headers, body = self.request(
                    "POST", "/json/echo", data, {"Content-Type": "application/json"})
                self.assertEqual(status, 400)
                self.assertEqual(headers["content-type"], "application/json")
                doc = json.loads(body)
                self.assertIsInstance(doc["error"], str)
                self.assertTrue(doc["error"])
                self.assertIsInstance(doc["offset"], int)
                self.assertLessEqual(doc["offset"], len(data))

    def test_deep_nesting_is_400_quickly(self):
        data = b"[" * 100_000 + b"]" * 100_000
        status, _, body = self.request("POST", "/json/echo", data,
                                       {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertIn("deeper", json.loads(body)["error"])

    def test_wrong_media_type_is_415(self):
        for ctype in ("text/plain", "application/xml", "application/jsonx"):
            with self.subTest(ctype=ctype):
                status, _, _ = self.request("POST", "/json/echo", b"{}", {"Content-Type": ctype})
                self.assertEqual(status, 415)
        status, _, _ = self.request("POST", "/json/echo", b"{}")
        self.assertEqual(status, 415)

    def test_no_body_is_400(self):
        status, _, _ = self.request("POST", "/json/echo", b"",
                                    {"Content-Type": "application/json"})
        self.assertEqual(status, 400)

    def test_too_large_is_413(self):
        # The head alone declares more than the body limit: the server answers at once,
        # without waiting for (or reading) the body.
        status, _, _ = self.request_head_only(
            "/json/echo", {"Content-Type": "application/json",
                           "Content-Length": str(9 * 1024 * 1024)})
        self.assertEqual(status, 413)

    def request_head_only(self, path, headers):
        conn = self.server.http_connection(timeout=30)
        try:
            conn.putrequest("POST", path)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.endheaders()
            resp = conn.getresponse()
            return resp.status, None, resp.read()
        finally:
            conn.close()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<r>&xxe;</r>
"""


class XmlEchoTest(ContentTestCase):
    def echo(self, data, ctype="application/xml"):
        return self.request("POST", "/xml/echo", data, {"Content-Type": ctype})

    def test_root_and_element_count(self):
        rows = [
            (b"<a/>", "a", 1),
            (b"<?xml version='1.0'?><order><item/><item><sku>1</sku></item></order>", "order", 4),
            (b"<ns:doc xmlns:ns='urn:x'><ns:p>t</ns:p><!-- c --></ns:doc>", "ns:doc", 2),
        ]
        for data, root, count in rows:
            for ctype in ("application/xml", "text/xml", "application/atom+xml"):
                with self.subTest(data=data, ctype=ctype):
                    status, headers, body = self.echo(data, ctype)
                    self.assertEqual(status, 200, body)
                    self.assertEqual(headers["content-type"], "application/xml; charset=utf-8")
                    echo = ET.fromstring(body)
                    self.assertEqual(echo.tag, "echo")
                    self.assertEqual(echo.get("root"), root)
                    self.assertEqual(echo.get("elements"), str(count))

    def test_malformed_is_400(self):
        for data in (b"<a>", b"<a></b>", b"not xml", b"<a x='1' x='2'/>", b"<a/><b/>"):
            with self.subTest(data=data):
                status, _, _ = self.echo(data)
                self.assertEqual(status, 400)

    def test_entities_are_never_expanded(self):
        # The client's 10 s timeout bounds it: an expanding parser would need minutes and GiBs.
        status, _, body = self.echo(BILLION_LAUGHS)
        self.assertLess(len(body), 4096)
        if status == 200:
            self.assertEqual(ET.fromstring(body).get("root"), "lolz")
        else:
            self.assertEqual(status, 400)
        status, _, body = self.echo(EXTERNAL_ENTITY)
        self.assertNotIn(b"root:", body)
        self.assertIn(status, (200, 400))

    def test_wrong_media_type_is_415(self):
        status, _, _ = self.echo(b"<a/>", "application/json")
        self.assertEqual(status, 415)

    def test_deep_nesting_is_400(self):
        data = b"<a>" * 5000 + b"</a>" * 5000
        status, _, _ = self.echo(data)
        self.assertEqual(status, 400)


if __name__ == "__main__":
    unittest.main()


class NegotiateH2Test(OverHttp2, NegotiateTest):
    pass


class JsonEchoH2Test(OverHttp2, JsonEchoTest):
    def request_head_only(self, path, headers):
        with self.h2() as c:
            fields = [(k.lower(), v) for k, v in headers.items()]
            sid = c.request("POST", path, headers=fields, end_stream=False)
            s = c.wait_stream(sid, timeout=30)
            return s.status, None, bytes(s.data)


class XmlEchoH2Test(OverHttp2, XmlEchoTest):
    pass
