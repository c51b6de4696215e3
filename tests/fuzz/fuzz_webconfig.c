/* fuzz_webconfig.c — the aggregator's --web.config.file parser (libyaml
 * underneath; exact-length input, no NUL after it) and, on the same bytes as
 * a C string, the Authorization header parser of basic auth. */
#include <stdlib.h>
#include <string.h>

#include "basicauth.h"
#include "fuzz_text.h"
#include "webconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_memdup(data, size);
    struct webconfig c;
    char err[512];
    if (webconfig_parse("fuzz.yml", text, size, "/etc/pvescope", &c, err, sizeof err)) {
        char prio[96];
        webconfig_priorities(&c, prio, sizeof prio);
        webconfig_free(&c);
    } else if (strncmp(err, "fuzz.yml:", 9) != 0) {
        abort();                    /* every error names the file and a line */
    }
    free(text);
    char *s = fuzz_strdup(data, size);
    char user[BASIC_AUTH_MAX_FIELD], pass[BASIC_AUTH_MAX_FIELD];
    basic_auth_parse_header(s, user, sizeof user, pass, sizeof pass);
    free(s);
    return 0;
}
