/* numfmt.c — see numfmt.h.
 *
 * Why not snprintf: one "%.17g" costs about 3,000 instructions, and the
 * aggregator formats every sample of every report it receives. A finite
 * double v in [1e-4, 1e15) is exactly m / 2^s with 2^52 <= m < 2^53 and
 * 3 <= s <= 67. Its P significant digits, rounded as glibc's printf rounds
 * them (to nearest, ties to even), are round(m * 10^k / 2^s) with
 * k = P - 1 - X, X the decimal exponent: m * 10^k < 2^53 * 10^20 < 2^120, so
 * unsigned __int128 holds every intermediate exactly, and whether the
 * 15-digit text parses back to v can be decided exactly as well. */
#include "numfmt.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

static const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Number of decimal digits of v >= 1: floor(log10(2^bits)) from the bit
 * length (1233/4096 is just above log10(2)), plus one compare. */
static int decimal_length(uint64_t v)
{
    static const uint64_t pow10[] = {1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u,
                                     100000000u, 1000000000u, 10000000000u, 100000000000u,
                                     1000000000000u, 10000000000000u, 100000000000000u,
                                     1000000000000000u, 10000000000000000u, 100000000000000000u,
                                     1000000000000000000u, 10000000000000000000u};
    int approx = ((64 - __builtin_clzll(v)) * 1233) >> 12;
    return approx + (v >= pow10[approx]);
}

/* v < 10^8 in as many digits as it has. */
static char *put_short_u32(char *p, uint32_t v)
{
    if (v < 10) {
        *p = (char)('0' + v);
        return p + 1;
    }
    char *end = p + decimal_length(v), *q = end;
    while (v >= 100) {
        q -= 2;
        memcpy(q, digit_pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10)
        memcpy(q - 2, digit_pairs + 2 * v, 2);
    else
        q[-1] = (char)('0' + v);
    return end;
}

/* v < 10^8 in exactly 8 digits: two independent halves, so the divisions
 * do not wait on each other. */
static char *put_8_digits(char *p, uint32_t v)
{
    uint32_t hi = v / 10000, lo = v % 10000;
    memcpy(p, digit_pairs + 2 * (hi / 100), 2);
    memcpy(p + 2, digit_pairs + 2 * (hi % 100), 2);
    memcpy(p + 4, digit_pairs + 2 * (lo / 100), 2);
    memcpy(p + 6, digit_pairs + 2 * (lo % 100), 2);
    return p + 8;
}

char *numfmt_u64(char *p, uint64_t v)
{
    if (v < 100000000u)
        return put_short_u32(p, (uint32_t)v);
    if (v < 10000000000000000u)                 /* 9 to 16 digits: most counters */
        return put_8_digits(put_short_u32(p, (uint32_t)(v / 100000000u)), (uint32_t)(v % 100000000u));
    uint64_t rest = v % 10000000000000000u;
    p = put_short_u32(p, (uint32_t)(v / 10000000000000000u));
    p = put_8_digits(p, (uint32_t)(rest / 100000000u));
    return put_8_digits(p, (uint32_t)(rest % 100000000u));
}

#define P10(k) ((u128)1e##k)                  /* exact: every 10^k, k <= 22, is a double */
static const u128 pow10_table[21] = {P10(0),  P10(1),  P10(2),  P10(3),  P10(4),  P10(5),  P10(6),
                                     P10(7),  P10(8),  P10(9),  P10(10), P10(11), P10(12), P10(13),
                                     P10(14), P10(15), P10(16), P10(17), P10(18), P10(19), P10(20)};
#undef P10

static u128 pow10_u128(int k) { return pow10_table[k]; }

/* v = m / 2^s exactly; v > 0, normal. */
struct binary_value {
    uint64_t m;
    int s;
};

static struct binary_value decompose(double v)
{
    int e;
    double f = frexp(v, &e);                  /* v = f * 2^e, 0.5 <= f < 1 */
    return (struct binary_value){(uint64_t)ldexp(f, 53), 53 - e};
}

/* round(m * 10^k / 2^s), ties to even. */
static u128 scaled_digits(struct binary_value b, int k)
{
    u128 num = (u128)b.m * pow10_u128(k);
    u128 q = num >> b.s, rem = num & (((u128)1 << b.s) - 1), half = (u128)1 << (b.s - 1);
    if (rem > half || (rem == half && (q & 1)))
        q++;
    return q;
}

/* The P significant digits of b and its decimal exponent X (after
 * rounding), starting from the estimate x. False if no consistent pair
 * was found (never expected; the caller falls back to snprintf). */
static bool significant_digits(struct binary_value b, int p, int x, uint64_t *digits, int *exp10)
{
    u128 lo = pow10_u128(p - 1), hi = lo * 10;
    for (int tries = 0; tries < 4; tries++) {
        int k = p - 1 - x;
        if (k < 0 || k > 20)
            return false;
        u128 n = scaled_digits(b, k);
        if (n >= hi)
            x++;
        else if (n < lo)
            x--;
        else {
            *digits = (uint64_t)n;
            *exp10 = x;
            return true;
        }
    }
    return false;
}

/* Whether digits * 10^-k parses back to b (strtod rounds to nearest, ties
 * to even): |digits/10^k - m/2^s| below half the gap to the neighbour on
 * that side; below a power of two that gap is half as wide. */
static bool parses_back(struct binary_value b, uint64_t digits, int k)
{
    u128 text = (u128)digits << b.s, exact = (u128)b.m * pow10_u128(k), unit = pow10_u128(k);
    bool below = text < exact;
    u128 diff = below ? exact - text : text - exact;
    u128 scaled = diff * ((below && b.m == (uint64_t)1 << 52) ? 4 : 2);
    return scaled < unit || (scaled == unit && (b.m & 1) == 0);
}

/* %g's fixed notation of digits with decimal exponent x (-4 <= x < their count):
 * trailing zeros of the fraction dropped, and the point with them. */
static char *put_fixed(char *out, uint64_t digits, int x)
{
    char d[20];
    char *end = numfmt_u64(d, digits);        /* exactly p digits */
    while (end > d + (x >= 0 ? x + 1 : 0) && end[-1] == '0')
        end--;
    if (x < 0) {
        memcpy(out, "0.", 2);
        out += 2;
        for (int i = -1; i > x; i--)
            *out++ = '0';
        memcpy(out, d, (size_t)(end - d));
        return out + (end - d);
    }
    size_t whole = (size_t)x + 1, n = (size_t)(end - d);
    memcpy(out, d, whole);
    out += whole;
    if (n > whole) {
        *out++ = '.';
        memcpy(out, d + whole, n - whole);
        out += n - whole;
    }
    return out;
}

/* micro * 10^-6 as a decimal: whole part, then the fraction without its
 * trailing zeros. */
static char *put_micro(char *p, uint64_t micro)
{
    uint64_t whole = micro / 1000000, frac = micro % 1000000;
    p = numfmt_u64(p, whole);
    if (frac) {
        int digits = 6;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        *p++ = '.';
        for (int i = digits - 1; i >= 0; i--, frac /= 10)
            p[i] = (char)('0' + frac % 10);
        p += digits;
    }
    return p;
}

/* Values with at most 6 decimals below 1e9 (seconds from milliseconds,
 * temperatures, short ratios): micro/1e6 is a correctly rounded division,
 * so it equals v exactly when the text "micro * 10^-6" parses back to v;
 * with at most 15 significant digits that text is what "%.15g" prints. */
static bool put_short_decimal(char **out, double v)
{
    if (v >= 1e9)
        return false;
    uint64_t micro = (uint64_t)(v * 1e6 + 0.5);
    if ((double)micro / 1e6 != v)
        return false;
    *out = put_micro(*out, micro);
    return true;
}

/* v in [1e-4, 1e15): the exact path. False when it cannot decide. */
static bool put_exact(char **out, double v)
{
    if (put_short_decimal(out, v))
        return true;
    struct binary_value b = decompose(v);
    static const double pow10_from_minus3[] = {1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5,
                                               1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14};
    int x = -4;                                  /* an estimate: significant_digits corrects it */
    while (x < 14 && v >= pow10_from_minus3[x + 4])
        x++;
    uint64_t digits;
    int exp10;
    if (!significant_digits(b, 15, x, &digits, &exp10) || exp10 >= 15)
        return false;
    if (parses_back(b, digits, 14 - exp10)) {
        *out = put_fixed(*out, digits, exp10);
        return true;
    }
    if (!significant_digits(b, 17, exp10, &digits, &exp10))
        return false;
    *out = put_fixed(*out, digits, exp10);
    return true;
}

/* Everything else: glibc's exact printf, and its strtod to prefer 15 digits. */
static char *put_printf(char *p, double v)
{
    char shorter[NUMFMT_MAX];
    int n = snprintf(shorter, sizeof shorter, "%.15g", v);
    if (n > 0 && strtod(shorter, NULL) == v) {
        memcpy(p, shorter, (size_t)n);
        return p + n;
    }
    n = snprintf(p, NUMFMT_MAX, "%.17g", v);
    return p + (n > 0 ? n : 0);
}

char *numfmt_double(char *p, double v)
{
    if (isnan(v)) {
        memcpy(p, "NaN", 3);
        return p + 3;
    }
    if (isinf(v)) {
        memcpy(p, v > 0 ? "+Inf" : "-Inf", 4);
        return p + 4;
    }
    double a = fabs(v);
    /* Integral values (most counters and byte sizes) print exactly and fast. */
    if (a < 9007199254740992.0 && a == (double)(uint64_t)a) {
        if (v < 0)
            *p++ = '-';
        return numfmt_u64(p, (uint64_t)a);
    }
    if (a >= 1e-4 && a < 1e15) {
        char *q = p + (v < 0);
        if (put_exact(&q, a)) {
            if (v < 0)
                *p = '-';
            return q;
        }
    }
    return put_printf(p, v);
}

/* From 100 µs (below 1e-4 "%g" writes an exponent) to 10^15 µs (31
 * years), put_short_decimal() would print these digits; outside, the
 * general path decides. */
char *numfmt_micro(char *p, uint64_t micro)
{
    if ((micro > 0 && micro < 100) || micro >= 1000000000000000ull)
        return numfmt_double(p, (double)micro / 1e6);
    return put_micro(p, micro);
}
