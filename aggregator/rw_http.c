/* rw_http.c — see rw_http.h. */
#include "rw_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fileio.h"

#define BODY_KEEP 512                /* of an error response: enough for its first line */

struct rw_http {
    CURL *curl;
    struct curl_slist *headers;
    char *userpwd;                   /* "user:password", or NULL */
    char *bearer;                    /* token, or NULL */
    const atomic_bool *stop;
    char errbuf[CURL_ERROR_SIZE];
    char body[BODY_KEEP + 1];
    size_t body_len;
};

bool rw_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void rw_http_global_cleanup(void)
{
    curl_global_cleanup();
}

bool rw_http_retryable(long status)
{
    return status == 0 || status == 429 || status >= 500;
}

/* The first line of a file, without its line end; NULL (err set) when it
 * cannot be read or the line is empty. */
static char *first_line(const char *path, const char *what, char *err, size_t errlen)
{
    struct buf b = BUF_INIT;
    int rc = read_file_at(path[0] == '/' ? "/" : ".", path, &b);
    if (rc != 0) {
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(rc > 0 ? rc : -rc));
        buf_free(&b);
        return NULL;
    }
    size_t n = b.data ? strcspn(b.data, "\r\n") : 0;
    if (n == 0) {
        snprintf(err, errlen, "%s %s: the first line is empty", what, path);
        buf_free(&b);
        return NULL;
    }
    b.data[n] = '\0';
    size_t len;
    return buf_steal(&b, &len);
}

static bool load_credentials(struct rw_http *h, const struct rw_endpoint_config *e, char *err, size_t errlen)
{
    if (e->basic_auth_file) {
        h->userpwd = first_line(e->basic_auth_file, "--remote-write.basic-auth-file", err, errlen);
        if (!h->userpwd)
            return false;
        if (!strchr(h->userpwd, ':')) {
            snprintf(err, errlen, "--remote-write.basic-auth-file %s: expected one line 'user:password'",
                     e->basic_auth_file);
            return false;
        }
    }
    if (e->bearer_token_file) {
        h->bearer = first_line(e->bearer_token_file, "--remote-write.bearer-token-file", err, errlen);
        if (!h->bearer)
            return false;
    }
    return true;
}

static size_t keep_body(char *data, size_t size, size_t n, void *p)
{
    struct rw_http *h = p;
    size_t len = size * n;
    size_t room = BODY_KEEP - h->body_len;
    size_t take = len < room ? len : room;
    memcpy(h->body + h->body_len, data, take);
    h->body_len += take;
    h->body[h->body_len] = '\0';
    return len;
}

/* Aborts the transfer once the writer stops, so shutdown never waits for a
 * slow or silent receiver up to --remote-write.timeout. */
static int check_stop(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    const struct rw_http *h = p;
    return atomic_load(h->stop) ? 1 : 0;
}

static bool build_headers(struct rw_http *h, const struct rw_endpoint_config *e)
{
    static const char *const fixed[] = {
        "Content-Encoding: snappy",
        "Content-Type: application/x-protobuf",
        "X-Prometheus-Remote-Write-Version: 0.1.0",
        "Expect:",                   /* no 100-continue round trip before each body */
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!(h->headers = curl_slist_append(h->headers, fixed[i])))
            return false;
    for (size_t i = 0; i < e->n_headers; i++)
        if (!(h->headers = curl_slist_append(h->headers, e->headers[i])))
            return false;
    return true;
}

static void set_options(struct rw_http *h, const struct rw_endpoint_config *e, double timeout)
{
    CURL *c = h->curl;
    long ms = (long)(timeout * 1000);
    curl_easy_setopt(c, CURLOPT_URL, e->url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "pvescope-aggregator/" PVESCOPE_VERSION);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms < 10000 ? ms : 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);          /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, check_stop);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (h->userpwd) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, h->userpwd);
    }
    if (h->bearer) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, h->bearer);
    }
}

struct rw_http *rw_http_new(const struct rw_endpoint_config *e, double timeout, const atomic_bool *stop,
                            char *err, size_t errlen)
{
    struct rw_http *h = calloc(1, sizeof *h);
    if (!h)
        abort();
    h->stop = stop;
    if (!load_credentials(h, e, err, errlen)) {
        rw_http_free(h);
        return NULL;
    }
    if (e->basic_auth_file && e->bearer_token_file) {
        snprintf(err, errlen, "%s: give a basic auth file or a bearer token file, not both", e->url);
        rw_http_free(h);
        return NULL;
    }
    if (!(h->curl = curl_easy_init()) || !build_headers(h, e)) {
        snprintf(err, errlen, "%s: cannot set up libcurl", e->url);
        rw_http_free(h);
        return NULL;
    }
    set_options(h, e, timeout);
    return h;
}

/* The first line of the body, else the curl error, into res->detail. */
static void describe(const struct rw_http *h, CURLcode rc, struct rw_http_result *res)
{
    if (rc != CURLE_OK) {
        snprintf(res->detail, sizeof res->detail, "%s", h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
        return;
    }
    size_t n = strcspn(h->body, "\r\n");
    snprintf(res->detail, sizeof res->detail, "%.*s", (int)n, h->body);
}

void rw_http_post(struct rw_http *h, const struct rw_batch *b, struct rw_http_result *res)
{
    h->errbuf[0] = '\0';
    h->body_len = 0;
    h->body[0] = '\0';
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, (const char *)&b->data[0]);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
    CURLcode rc = curl_easy_perform(h->curl);
    res->status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &res->status);
    describe(h, rc, res);
}

void rw_http_free(struct rw_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    if (h->userpwd) {
        memset(h->userpwd, 0, strlen(h->userpwd));
        free(h->userpwd);
    }
    if (h->bearer) {
        memset(h->bearer, 0, strlen(h->bearer));
        free(h->bearer);
    }
    free(h);
}
