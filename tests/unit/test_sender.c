/* test_sender.c — the agent's sender over real nanomsg sockets (inproc):
 * pending delivery once an endpoint appears, superseded reports counted as
 * dropped, fan-out to every endpoint, and the IPv4-literal rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <nanomsg/nn.h>
#include <nanomsg/pipeline.h>
#include <string.h>

#include "sender.h"

static int pull_bound(const char *url)
{
    int s = nn_socket(AF_SP, NN_PULL);
    int tmo = 2000;
    nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &tmo, sizeof tmo);
    assert_true(nn_bind(s, url) >= 0);
    return s;
}

static void expect_msg(int pull, const char *want)
{
    char got[64] = {0};
    int n = nn_recv(pull, got, sizeof got - 1, 0);
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(got, want);
}

/* Stages text as the next message and sends it; returns how many endpoints
 * took it at once, or -1 when it was refused as oversize. */
static int send_text(struct sender *s, const char *text)
{
    uint8_t *msg = sender_stage(s, strlen(text));
    if (!msg)
        return -1;
    memcpy(msg, text, strlen(text));
    return (int)sender_send_all(s);
}

/* Polls the pending endpoints until all are served or 2 s pass. */
static void drain(struct sender *s)
{
    struct pollfd fds[4];
    for (int i = 0; i < 200; i++) {
        size_t n = sender_poll_fds(s, fds);
        if (n == 0)
            return;
        if (poll(fds, n, 10) > 0)
            sender_retry(s);
    }
    fail_msg("endpoint never became writable");
}

static void t_pending_then_delivered(void **state)
{
    (void)state;
    const char *urls[] = {"inproc://pending"};
    struct sender s;
    char err[128];
    assert_true(sender_open(&s, urls, 1, 1024, 0, err, sizeof err));
    assert_int_equal(send_text(&s, "r1"), 0);               /* nobody listening yet */
    struct pollfd fds[1];
    assert_int_equal(sender_poll_fds(&s, fds), 1);
    assert_int_equal(send_text(&s, "r2"), 0);               /* r1 superseded */
    assert_int_equal(s.eps[0].dropped, 1);
    assert_null(sender_stage(&s, 2000));                    /* over the 1024-byte limit: */
    assert_int_equal(s.oversize, 1);
    assert_int_equal(s.eps[0].dropped, 1);                  /* r2 stays pending, intact */
    assert_int_equal(sender_poll_fds(&s, fds), 1);
    int pull = pull_bound("inproc://pending");
    drain(&s);
    expect_msg(pull, "r2");
    assert_int_equal(s.eps[0].sent, 1);
    assert_int_equal(sender_poll_fds(&s, fds), 0);
    assert_int_equal(send_text(&s, "r3"), 1);               /* connected: straight through */
    expect_msg(pull, "r3");
    assert_int_equal(s.eps[0].sent, 2);
    assert_int_equal(s.eps[0].dropped, 1);
    sender_close(&s);
    nn_close(pull);
}

static void t_fan_out_and_oversize(void **state)
{
    (void)state;
    int a = pull_bound("inproc://fan-a"), b = pull_bound("inproc://fan-b");
    const char *urls[] = {"inproc://fan-a", "inproc://fan-b"};
    struct sender s;
    char err[128];
    assert_true(sender_open(&s, urls, 2, 8, 0, err, sizeof err));
    drain(&s);
    send_text(&s, "both");
    drain(&s);
    expect_msg(a, "both");                                  /* each endpoint gets it */
    expect_msg(b, "both");
    assert_int_equal(send_text(&s, "too-long!"), -1);          /* over the 8-byte limit */
    assert_int_equal(s.oversize, 1);
    struct pollfd fds[2];
    assert_int_equal(sender_poll_fds(&s, fds), 0);          /* never queued */
    sender_close(&s);
    nn_close(a);
    nn_close(b);
}

/* The staged buffer goes to the last endpoint that needs it (nanomsg then
 * owns it); every other endpoint gets a copy, and the buffer is kept for as
 * long as one of them is pending. ASan/LeakSanitizer check the ownership. */
static void t_zero_copy_with_pending(void **state)
{
    (void)state;
    int b = pull_bound("inproc://zc-b");
    const char *urls[] = {"inproc://zc-a", "inproc://zc-b"};
    struct sender s;
    char err[128];
    assert_true(sender_open(&s, urls, 2, 1024, 0, err, sizeof err));
    assert_int_equal(send_text(&s, "m1"), 1);               /* a is not there: pending */
    expect_msg(b, "m1");                                    /* b got a copy */
    assert_non_null(s.msg);                                 /* kept for a */
    int a = pull_bound("inproc://zc-a");
    drain(&s);
    expect_msg(a, "m1");
    assert_null(s.msg);                                     /* a was handed the buffer itself */
    assert_int_equal(send_text(&s, "m2"), 2);
    expect_msg(a, "m2");
    expect_msg(b, "m2");
    assert_null(s.msg);
    nn_close(b);                                            /* now the last endpoint is away */
    assert_int_equal(send_text(&s, "m3"), 1);
    expect_msg(a, "m3");
    assert_non_null(s.msg);                                 /* b's give-away failed: still ours */
    assert_int_equal(send_text(&s, "m4"), 1);               /* m3 dropped for b, buffer reused */
    assert_int_equal(s.eps[1].dropped, 1);
    expect_msg(a, "m4");
    sender_close(&s);                                       /* frees the buffer still held */
    nn_close(a);
}

static void t_ipv4_literal(void **state)
{
    (void)state;
    assert_true(endpoint_is_ipv4_literal("tcp://127.0.0.1:9716"));
    assert_true(endpoint_is_ipv4_literal("tcp://eth0;10.0.0.5:9716"));
    assert_false(endpoint_is_ipv4_literal("tcp://[::1]:9716"));
    assert_false(endpoint_is_ipv4_literal("tcp://monitor.example:9716"));
    assert_false(endpoint_is_ipv4_literal("tcp://10.0.0:9716"));
    assert_false(endpoint_is_ipv4_literal("inproc://x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_pending_then_delivered), cmocka_unit_test(t_fan_out_and_oversize),
        cmocka_unit_test(t_zero_copy_with_pending), cmocka_unit_test(t_ipv4_literal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
