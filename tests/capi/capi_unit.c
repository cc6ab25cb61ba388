/* SPDX-License-Identifier: MIT */
/* The C API's functions that need no request, compiled as C11: value lookups in JSON and XML,
 * error names, and configuration and server errors. Exits non-zero on the first failure. */
#define _POSIX_C_SOURCE 200809L

#include <wharf/wharf.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);                    \
            ++failures;                                                                            \
        }                                                                                          \
    } while (0)

static wharf_str text(const char* s) {
    wharf_str out;
    out.ptr = s;
    out.len = strlen(s);
    return out;
}

static int is(wharf_str s, const char* want) {
    return s.ptr != NULL && s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static void json_lookups(void) {
    const wharf_str doc =
        text("{\"name\":\"caf\\u00e9 \\\"x\\\"\",\"n\":42,\"list\":[1,{\"a\":true}],"
             "\"nil\":null,\"a/b\":1,\"m~n\":2}");
    wharf_str v;
    EXPECT(wharf_json_get(doc, "/name", &v) == 0 && is(v, "caf\xc3\xa9 \"x\""));
    EXPECT(wharf_json_get(doc, "/n", &v) == 0 && is(v, "42"));
    EXPECT(wharf_json_get(doc, "/list/1", &v) == 0 && is(v, "{\"a\":true}"));
    EXPECT(wharf_json_get(doc, "/list/1/a", &v) == 0 && is(v, "true"));
    EXPECT(wharf_json_get(doc, "/nil", &v) == 0 && is(v, "null"));
    EXPECT(wharf_json_get(doc, "/a~1b", &v) == 0 && is(v, "1")); /* RFC 6901 escapes */
    EXPECT(wharf_json_get(doc, "/m~0n", &v) == 0 && is(v, "2"));
    EXPECT(wharf_json_get(text("[1,2]"), "", &v) == 0 && is(v, "[1,2]"));
    EXPECT(wharf_json_get(doc, "/missing", &v) == ENOENT);
    EXPECT(wharf_json_get(doc, "/list/7", &v) == ENOENT);
    EXPECT(wharf_json_get(doc, "/list/x", &v) == ENOENT);
    EXPECT(wharf_json_get(doc, "/n/deeper", &v) == ENOENT);
    EXPECT(wharf_json_get(doc, "no-slash", &v) == EINVAL);
    EXPECT(wharf_json_get(doc, "/bad~2escape", &v) == EINVAL);
    EXPECT(wharf_json_get(text("{\"a\":"), "/a", &v) == EBADMSG);
    EXPECT(wharf_json_get(text(""), "", &v) == EBADMSG);
    EXPECT(wharf_json_get(doc, NULL, &v) == EINVAL);
}

static void xml_lookups(void) {
    const wharf_str doc = text("<order id=\"7\"><item>tea</item><item>cake <b>and</b> jam</item>"
                               "<note><![CDATA[a < b]]></note></order>");
    wharf_str v;
    EXPECT(wharf_xml_get(doc, "/order/@id", &v) == 0 && is(v, "7"));
    EXPECT(wharf_xml_get(doc, "/order/item[1]", &v) == 0 && is(v, "tea"));
    EXPECT(wharf_xml_get(doc, "/order/item[2]", &v) == 0 && is(v, "cake and jam"));
    EXPECT(wharf_xml_get(doc, "//note", &v) == 0 && is(v, "a < b"));
    EXPECT(wharf_xml_get(doc, "count(//item)", &v) == EINVAL); /* not a node set */
    EXPECT(wharf_xml_get(doc, "/order/missing", &v) == ENOENT);
    EXPECT(wharf_xml_get(doc, "/order/[", &v) == EINVAL);
    EXPECT(wharf_xml_get(text("<a><b></a>"), "/a", &v) == EBADMSG);
    EXPECT(wharf_xml_get(text("<a/><b/>"), "/a", &v) == EBADMSG);
    /* Entities a DOCTYPE declares are never expanded. */
    EXPECT(wharf_xml_get(text("<!DOCTYPE a [<!ENTITY x \"boom\">]><a>&x;</a>"), "/a", &v) != 0 ||
           !is(v, "boom"));
}

static void errors(void) {
    EXPECT(strcmp(wharf_strerror(0), "success") == 0);
    EXPECT(strstr(wharf_strerror(E2BIG), "9999") != NULL);
    EXPECT(wharf_strerror(EBUSY)[0] != '\0');
    EXPECT(wharf_strerror(ETIMEDOUT)[0] != '\0');
    EXPECT(wharf_strerror(123456) != NULL);
}

static void config_and_server(void) {
    wharf_config* cfg = wharf_config_new();
    wharf_server* srv;
    int err = -1;
    EXPECT(cfg != NULL);
    EXPECT(wharf_config_listen(cfg, "127.0.0.1:0") == 0);
    EXPECT(wharf_config_listen(cfg, "300.1.1.1:80") == EINVAL);
    EXPECT(wharf_config_listen(cfg, NULL) == EINVAL);
    EXPECT(wharf_config_workers(cfg, 2) == 0);
    EXPECT(wharf_config_workers(cfg, 5000) == EINVAL);
    EXPECT(wharf_config_limit(cfg, WHARF_LIMIT_MAX_HEADERS, 50) == 0);
    EXPECT(wharf_config_limit(cfg, (wharf_limit)99, 50) == EINVAL);
    EXPECT(wharf_config_timeout(cfg, WHARF_TIMEOUT_KEEP_ALIVE, 1000) == 0);
    EXPECT(wharf_config_timeout(cfg, (wharf_timeout)99, 1000) == EINVAL);
    EXPECT(wharf_config_access_log(cfg, NULL) == 0);
    EXPECT(wharf_server_new(NULL, &err) == NULL && err == EINVAL);
    srv = wharf_server_new(cfg, &err);
    EXPECT(srv != NULL && err == 0);
    wharf_config_free(cfg);
    EXPECT(wharf_server_port(srv, 0) == -1); /* not started */
    EXPECT(wharf_register(srv, "GET", "/x/{", NULL, NULL) == EINVAL);
    EXPECT(wharf_register(srv, "BREW", "/coffee", NULL, NULL) == EINVAL);
    EXPECT(wharf_server_start(srv) == 0);
    EXPECT(wharf_server_port(srv, 0) > 0);
    EXPECT(wharf_server_start(srv) == EBUSY);
    wharf_server_stop(srv, 100);
    wharf_server_wait(srv);
    wharf_server_free(srv);

    /* A TLS listener with a certificate file that does not exist fails to start, by name. */
    cfg = wharf_config_new();
    EXPECT(wharf_config_tls_listen(cfg, "127.0.0.1:0") == 0);
    EXPECT(wharf_config_tls(cfg, "/nonexistent/cert.pem", "/nonexistent/key.pem") == 0);
    srv = wharf_server_new(cfg, &err);
    wharf_config_free(cfg);
    EXPECT(srv != NULL);
    EXPECT(wharf_server_start(srv) != 0);
    wharf_server_free(srv);
}

int main(void) {
    json_lookups();
    xml_lookups();
    errors();
    config_and_server();
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    puts("capi_unit: ok");
    return 0;
}
