# SPDX-License-Identifier: MIT
"""Another language binds the C API: Python's ctypes loads libwharf.so, registers a Python
function as a handler, and answers real requests with it."""

import ctypes
import http.client
import unittest

from wharf_server import build_file



def library_path():
    return build_file("WHARF_LIBRARY", "src", "libwharf.so")


def library_is_asan(path):
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


class WharfStr(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_char_p), ("len", ctypes.c_size_t)]


HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


@unittest.skipIf(library_is_asan(library_path()),
                 "an ASan libwharf.so cannot be loaded into an uninstrumented interpreter")
class CtypesTest(unittest.TestCase):
    def test_python_handler_answers(self):
        lib = ctypes.CDLL(library_path())
        lib.wharf_config_new.restype = ctypes.c_void_p
        lib.wharf_config_listen.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.wharf_config_workers.argtypes = [ctypes.c_void_p, ctypes.c_uint]
        lib.wharf_config_free.argtypes = [ctypes.c_void_p]
        lib.wharf_server_new.restype = ctypes.c_void_p
        lib.wharf_server_new.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
        lib.wharf_register.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                       HANDLER, ctypes.c_void_p]
        lib.wharf_server_start.argtypes = [ctypes.c_void_p]
        lib.wharf_server_port.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.wharf_server_stop.argtypes = [ctypes.c_void_p, ctypes.c_uint]
        lib.wharf_server_wait.argtypes = [ctypes.c_void_p]
        lib.wharf_server_free.argtypes = [ctypes.c_void_p]
        lib.wharf_request_url_get.restype = WharfStr
        lib.wharf_request_url_get.argtypes = [ctypes.c_void_p]
        lib.wharf_response_string.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                              ctypes.c_char_p]
        lib.wharf_response_header_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                                  ctypes.c_char_p]
        lib.wharf_strerror.restype = ctypes.c_char_p

        seen = []

        def handle(sess):
            url = lib.wharf_request_url_get(sess)
            target = ctypes.string_at(url.ptr, url.len)
            seen.append(target)
            body = b"python saw " + target
            lib.wharf_response_header_set(sess, b"X-Bound-By", b"ctypes")
            lib.wharf_response_string(sess, body, len(body), b"text/plain")

        handler = HANDLER(handle)  # kept alive while the server runs
        cfg = lib.wharf_config_new()
        self.assertEqual(lib.wharf_config_listen(cfg, b"127.0.0.1:0"), 0)
        self.assertEqual(lib.wharf_config_workers(cfg, 1), 0)
        err = ctypes.c_int(-1)
        srv = lib.wharf_server_new(cfg, ctypes.byref(err))
        lib.wharf_config_free(cfg)
        self.assertTrue(srv)
        self.assertEqual(err.value, 0)
        try:
            self.assertEqual(lib.wharf_register(srv, b"GET", b"/py/*", handler, None), 0)
            self.assertEqual(lib.wharf_server_start(srv), 0)
            port = lib.wharf_server_port(srv, 0)
            self.assertGreater(port, 0)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            for path in ("/py/one", "/py/two?x=1"):
                conn.request("GET", path)
                resp = conn.getresponse()
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.getheader("X-Bound-By"), "ctypes")
                self.assertEqual(resp.read(), b"python saw " + path.encode())
            conn.request("GET", "/elsewhere")
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 404)
            conn.close()
            self.assertEqual(seen, [b"/py/one", b"/py/two?x=1"])
            self.assertEqual(lib.wharf_strerror(16), b"another operation of the kind is pending")
        finally:
            lib.wharf_server_stop(srv, 1000)
            lib.wharf_server_wait(srv)
            lib.wharf_server_free(srv)


if __name__ == "__main__":
    unittest.main()
