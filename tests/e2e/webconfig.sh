#!/usr/bin/env bash
# webconfig.sh — --web.config.file end to end: a CA, server and client
# certificates made with openssl, a bcrypt hash made with htpasswd (as the
# exporter-toolkit docs do), then
#   A. TLS (min TLS12) + basic auth: curl over https with the CA, plain http
#      refused, 401 for a wrong password, an unknown user, no or malformed
#      credentials (/-/healthy too), 200 with metrics for the right ones; a
#      real Prometheus scraping through scheme https + tls_config + basic_auth
#      (up 1, pvescope series present) and with a wrong password (up 0);
#   B. min_version TLS13 + RequireAndVerifyClientCert (client_ca_file relative
#      to the config file): TLS 1.2 refused, no client certificate or one from
#      another CA refused, the right one served;
#   C. broken configs: the aggregator refuses to start, naming file and line.
#
# usage: webconfig.sh PVESCOPE_AGENT PVESCOPE_AGGREGATOR
# Exit 0 pass, 1 fail, 77 skipped (a prerequisite is missing).
E2E_NAME=webconfig
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 2 ]] || { echo "usage: $0 PVESCOPE_AGENT PVESCOPE_AGGREGATOR" >&2; exit 2; }
AGENT=$1
AGGREGATOR=$2
PROMETHEUS=${PROMETHEUS:-prometheus}
NODE=web-node
CLUSTER=web
USER_NAME=prometheus
PASSWORD='s3cret:with colon'         # a ':' in a password is legal (RFC 7617)

[[ -x $AGENT && -x $AGGREGATOR ]] || e2e_fail "not executable: $AGENT / $AGGREGATOR"
e2e_require_cmd python3 curl openssl htpasswd "$PROMETHEUS"

e2e_init
T=$E2E_TMP
C=$T/conf                            # the web configs and, relative to them, the certificates
mkdir -p "$C/tls"

# ---- certificates and hash ---------------------------------------------------
ossl() { openssl "$@" >>"$T/openssl.log" 2>&1 || e2e_fail "openssl $1 failed: $(tail -n 5 "$T/openssl.log")"; }
new_ca() {  # new_ca NAME
    ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout "$C/tls/$1.key" -out "$C/tls/$1.crt" -subj "/CN=pvescope e2e $1"
}
new_cert() {  # new_cert NAME CA EXT
    ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/tls/$1.key" \
        -out "$T/$1.csr" -subj "/CN=$1"
    printf '%s\n' "$3" >"$T/$1.ext"
    ossl x509 -req -in "$T/$1.csr" -CA "$C/tls/$2.crt" -CAkey "$C/tls/$2.key" -CAcreateserial \
        -days 2 -extfile "$T/$1.ext" -out "$C/tls/$1.crt"
}
new_ca ca
new_ca other-ca
new_cert server ca $'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'
new_cert client ca 'extendedKeyUsage=clientAuth'
new_cert rogue other-ca 'extendedKeyUsage=clientAuth'
HASH=$(htpasswd -nbBC 10 "" "$PASSWORD" | tr -d ':\n')
[[ $HASH == '$2y$10$'* ]] || e2e_fail "htpasswd made no bcrypt hash: $HASH"
e2e_log "CA, server, client and rogue certificates; bcrypt hash $HASH"

cat >"$C/web-a.yml" <<EOF
# TLS with the default versions, basic auth; paths relative to this file.
tls_server_config:
  cert_file: tls/server.crt
  key_file: tls/server.key
  min_version: TLS12
basic_auth_users:
  $USER_NAME: $HASH
EOF
cat >"$C/web-b.yml" <<EOF
tls_server_config:
  cert_file: tls/server.crt
  key_file: $C/tls/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: tls/ca.crt
  min_version: TLS13
basic_auth_users:
  $USER_NAME: $HASH
  other: $HASH
EOF

# ---- A: TLS + basic auth -----------------------------------------------------
e2e_new_key "$AGENT" "$T/cluster.key"
printf '%s %s\n' "$CLUSTER" "$(cat "$T/cluster.key")" >"$T/keyring"
CA=(--cacert "$C/tls/ca.crt")
GOOD=(-u "$USER_NAME:$PASSWORD")
E2E_AGG_SCHEME=https
E2E_AGG_CURL=("${CA[@]}" "${GOOD[@]}")
e2e_start_aggregator "$AGGREGATOR" "$T/keyring" --web.config.file="$C/web-a.yml"
METRICS="$AGG_WEB/metrics"
PORT=${AGG_WEB##*:}
e2e_start agent "$AGENT" --aggregator="$AGG_INGEST" --interval=1s --key-file="$T/cluster.key" \
    --cluster="$CLUSTER" --node="$NODE"
E2E_WATCH=(aggregator agent)

node_up() {
    curl -sS --max-time 10 -o "$T/m.txt" "${CA[@]}" "${GOOD[@]}" "$METRICS" 2>/dev/null &&
        e2e_metric_is "$T/m.txt" "pve_up{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}" 1
}
e2e_wait_for "pve_up of $NODE over https with basic auth" 30 node_up
e2e_log "https + basic auth: 200 with $NODE's metrics"

expect_code() {  # expect_code WANT DESC URL CURL_ARGS...
    local want=$1 desc=$2 url=$3; shift 3
    local got; got=$(e2e_http_code "$url" "$@")
    [[ $got == "$want" ]] || e2e_fail "$desc: HTTP status $got, expected $want"
    e2e_log "$desc: $got"
}
expect_code 401 "wrong password" "$METRICS" "${CA[@]}" -u "$USER_NAME:wrong"
expect_code 401 "unknown user" "$METRICS" "${CA[@]}" -u "nobody:$PASSWORD"
expect_code 401 "no credentials" "$METRICS" "${CA[@]}"
expect_code 401 "malformed Authorization header" "$METRICS" "${CA[@]}" -H 'Authorization: Basic %%%notbase64'
expect_code 401 "Authorization without a colon" "$METRICS" "${CA[@]}" \
    -H "Authorization: Basic $(printf 'prometheus' | base64)"
expect_code 401 "/-/healthy without credentials (guarded like everything, as exporter-toolkit)" \
    "$AGG_WEB/-/healthy" "${CA[@]}"
expect_code 200 "/-/healthy with credentials" "$AGG_WEB/-/healthy" "${CA[@]}" "${GOOD[@]}"
expect_code 200 "scheme name in lower case" "$METRICS" "${CA[@]}" \
    -H "Authorization: basic $(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)"
expect_code 200 "TLS 1.2 accepted with min_version TLS12" "$METRICS" "${CA[@]}" "${GOOD[@]}" --tls-max 1.2
curl -sS --max-time 10 -o /dev/null -D "$T/401.hdr" "${CA[@]}" "$METRICS" 2>/dev/null
grep -qi '^WWW-Authenticate: Basic realm="pvescope"' "$T/401.hdr" ||
    e2e_fail "a 401 without 'WWW-Authenticate: Basic realm=\"pvescope\"': $(cat "$T/401.hdr")"
e2e_log "401 carries WWW-Authenticate: Basic"
# Plain http to the TLS port: the handshake fails, nothing is served.
code=$(e2e_http_code "http://127.0.0.1:$PORT/metrics" "${GOOD[@]}")
[[ $code == 000 ]] || e2e_fail "plain http to the TLS port answered HTTP $code"
e2e_log "plain http refused (curl: no HTTP response)"
# Without the CA, curl cannot verify the server (exit status 60).
curl -sS --max-time 10 -o /dev/null "${GOOD[@]}" "$METRICS" 2>/dev/null
rc=$?
[[ $rc == 60 ]] || e2e_fail "https without the CA: curl exit status $rc, expected 60 (certificate not verified)"
e2e_log "server certificate unverifiable without the CA (curl 60)"

# ---- A: --healthcheck through the same web config ----------------------------
healthcheck() {  # healthcheck WANT_RC WANT_TEXT [flags...]
    local want=$1 text=$2 out rc; shift 2
    out=$("$AGGREGATOR" --healthcheck "$@" 2>&1)
    rc=$?
    [[ $rc == "$want" && $out == *"$text"* ]] ||
        e2e_fail "--healthcheck $*: exit $rc '$out', expected $want with '$text'"
    e2e_log "--healthcheck ${*##*/}: $rc, $out"
}
healthcheck 0 "healthy: https://127.0.0.1:$PORT/-/healthy answered 401 from its basic auth" \
    --web.listen-address="127.0.0.1:$PORT" --web.config.file="$C/web-a.yml"
printf 'tls_server_config: {cert_file: tls/client.crt, key_file: tls/client.key}\n' >"$C/web-other-cert.yml"
healthcheck 1 "the server's certificate is not the web config's" \
    --web.listen-address="127.0.0.1:$PORT" --web.config.file="$C/web-other-cert.yml"
healthcheck 1 "unhealthy: http://127.0.0.1:$PORT/-/healthy" --web.listen-address="127.0.0.1:$PORT"

# ---- A: a real Prometheus through tls_config + basic_auth --------------------
printf '%s' "$PASSWORD" >"$T/password"
printf 'wrong' >"$T/wrong-password"
cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: good
    scheme: https
    tls_config: {ca_file: $C/tls/ca.crt, min_version: TLS12}
    basic_auth: {username: $USER_NAME, password_file: $T/password}
    static_configs: [{targets: ['127.0.0.1:$PORT']}]
  - job_name: bad
    scheme: https
    tls_config: {ca_file: $C/tls/ca.crt}
    basic_auth: {username: $USER_NAME, password_file: $T/wrong-password}
    static_configs: [{targets: ['127.0.0.1:$PORT']}]
EOF
e2e_start_prometheus "$T/prometheus.yml"
E2E_WATCH=(aggregator agent prometheus)
promql() { python3 "$E2E_TOOL" promql "$PROM" "$1"; }
promql_is() { [[ $(promql "$1" 2>/dev/null) == "$2" ]]; }
e2e_wait_for "Prometheus: up{job=\"good\"} == 1" 30 promql_is 'up{job="good"}' 1
e2e_wait_for "Prometheus: pve_up of $NODE through https + basic auth" 30 \
    promql_is "pve_up{job=\"good\",id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}" 1
e2e_wait_for "Prometheus: up{job=\"bad\"} == 0 (wrong password)" 30 promql_is 'up{job="bad"}' 0
promql_is "count(pve_up{job=\"bad\"})" absent || e2e_fail "the wrong-password job got pvescope series"
e2e_log "Prometheus: up 1 and pve_up through tls_config + basic_auth; wrong password up 0, no series"
e2e_stop prometheus TERM 20
e2e_stop agent TERM 20
e2e_stop_checked aggregator 0
E2E_WATCH=()

# ---- B: TLS 1.3 only, client certificates required ---------------------------
CLIENT=(--cert "$C/tls/client.crt" --key "$C/tls/client.key")
E2E_AGG_CURL=("${CA[@]}" "${GOOD[@]}" "${CLIENT[@]}")
e2e_start_aggregator "$AGGREGATOR" "$T/keyring" --web.config.file="$C/web-b.yml"
E2E_WATCH=(aggregator)
METRICS="$AGG_WEB/metrics"
healthcheck 0 "answered 403 for want of a client certificate" \
    --web.listen-address="127.0.0.1:${AGG_WEB##*:}" --web.config.file="$C/web-b.yml"
expect_code 200 "TLS 1.3 with client certificate and credentials" "$METRICS" "${CA[@]}" "${GOOD[@]}" "${CLIENT[@]}"
expect_code 200 "second user (same hash)" "$METRICS" "${CA[@]}" -u "other:$PASSWORD" "${CLIENT[@]}"
expect_code 401 "client certificate, wrong password" "$METRICS" "${CA[@]}" -u "$USER_NAME:x" "${CLIENT[@]}"
code=$(e2e_http_code "$METRICS" "${CA[@]}" "${GOOD[@]}" "${CLIENT[@]}" --tlsv1.2 --tls-max 1.2)
[[ $code == 000 ]] || e2e_fail "TLS 1.2 with min_version TLS13: HTTP $code, expected a failed handshake"
e2e_log "TLS 1.2 refused with min_version TLS13"
expect_code 403 "no client certificate" "$METRICS" "${CA[@]}" "${GOOD[@]}"
expect_code 403 "client certificate from another CA" "$METRICS" "${CA[@]}" "${GOOD[@]}" \
    --cert "$C/tls/rogue.crt" --key "$C/tls/rogue.key"

# (client_certificate 3: the two curls above and the --healthcheck probe.)
# A wrong-password flood from 127.0.0.1 (one wrong password already spent one
# of its 10 failed logins): 401s with a bcrypt each until the address is out of
# attempts, then 429 with Retry-After and no bcrypt. One attempt comes back
# per 5 s, so a slow run may see one more 401.
# One curl for all 12 (one kept-alive connection): quick, so refills stay out of it.
urls=()
for _ in $(seq 12); do urls+=("$METRICS" -o /dev/null); done
mapfile -t codes < <(curl -s --max-time 60 "${CA[@]}" -u "$USER_NAME:flood" "${CLIENT[@]}" \
    -w '%{http_code}\n' "${urls[@]}")
n401=0 n429=0
for c in "${codes[@]}"; do
    case $c in 401) n401=$((n401 + 1)) ;; 429) n429=$((n429 + 1)) ;; *) e2e_fail "flood: HTTP $c among ${codes[*]}" ;; esac
done
[[ ${codes[0]} == 401 && ${codes[8]} == 401 && ${codes[11]} == 429 && $((n401 + n429)) == 12 && $n401 -le 10 ]] ||
    e2e_fail "flood of 12 wrong passwords: ${codes[*]}, expected 9 (or 10) times 401, then 429"
curl -sS --max-time 10 -o /dev/null -D "$T/429.hdr" "${CA[@]}" -u "$USER_NAME:flood" "${CLIENT[@]}" "$METRICS"
grep -qi '^HTTP/[0-9.]* 429' "$T/429.hdr" && grep -qi '^Retry-After: 5' "$T/429.hdr" ||
    e2e_fail "the 13th wrong password: no 429 with Retry-After: 5: $(cat "$T/429.hdr")"
n429=$((n429 + 1))
expect_code 200 "good credentials (cached) from the limited address" "$METRICS" "${CA[@]}" "${GOOD[@]}" "${CLIENT[@]}"
curl -sS --max-time 10 -o "$T/m.txt" "${CA[@]}" "${GOOD[@]}" "${CLIENT[@]}" "$METRICS" || e2e_fail "GET /metrics"
for want in "wrong_credentials $((n401 + 1))" "source_limited $n429" "client_certificate 3" \
            "missing_credentials 0" "global_limited 0"; do
    read -r reason n <<<"$want"
    e2e_metric_is "$T/m.txt" "pvescope_http_requests_rejected_total{reason=\"$reason\"}" "$n" ||
        e2e_fail "pvescope_http_requests_rejected_total{reason=\"$reason\"} is $(e2e_metric "$T/m.txt" \
            "pvescope_http_requests_rejected_total{reason=\"$reason\"}"), expected $n"
done
grep -q 'basic auth: 127.0.0.1 used up its 10 failed logins' "${E2E_LOG[aggregator]}" ||
    e2e_fail "the aggregator did not log the limited address"
[[ $(grep -c 'used up its 10 failed logins' "${E2E_LOG[aggregator]}") == 1 ]] ||
    e2e_fail "the limited address was logged more than once"
e2e_log "wrong-password flood: ${codes[*]} 429; counted in pvescope_http_requests_rejected_total, logged once"
e2e_stop_checked aggregator 0
E2E_WATCH=()
healthcheck 1 "Connection refused" --web.listen-address="127.0.0.1:${AGG_WEB##*:}" --web.config.file="$C/web-b.yml"

# ---- C: broken configs fail at start, with file and line ----------------------
refuses() {  # refuses NAME EXPECTED_MESSAGE  (config text on stdin)
    cat >"$C/$1"
    local out rc
    out=$("$AGGREGATOR" "${E2E_AGG_ROOT[@]}" --keyring="$T/keyring" --web.config.file="$C/$1" --ingest.listen=tcp://127.0.0.1:1 \
          --web.listen-address=127.0.0.1:1 2>&1)
    rc=$?
    [[ $rc == 1 ]] || e2e_fail "$1: exit status $rc, expected 1: $out"
    [[ $out == *"$2"* ]] || e2e_fail "$1: message '$out' does not contain '$2'"
    e2e_log "$1 refused: ${out##*> }"
}
refuses unknown.yml "$C/unknown.yml:3: unknown key 'cert_flie' in tls_server_config" <<EOF
tls_server_config:
  cert_file: tls/server.crt
  cert_flie: tls/server.crt
EOF
refuses mismatch.yml "$C/mismatch.yml:2: tls_server_config: certificate $C/tls/server.crt and key $C/tls/client.key" <<EOF
tls_server_config:
  cert_file: tls/server.crt
  key_file: tls/client.key
EOF
refuses missing.yml "$C/missing.yml:3: key_file $C/tls/nope.key: No such file or directory" <<EOF
tls_server_config:
  cert_file: tls/server.crt
  key_file: tls/nope.key
EOF
refuses plain.yml "$C/plain.yml:2: basic_auth_users: the password of 'u' is not a bcrypt hash" <<EOF
basic_auth_users:
  u: secret
EOF
out=$("$AGGREGATOR" "${E2E_AGG_ROOT[@]}" --keyring="$T/keyring" --web.config.file="$C/nothere.yml" 2>&1)
[[ $? == 1 && $out == *"--web.config.file $C/nothere.yml: No such file or directory"* ]] ||
    e2e_fail "a missing web config file: $out"
e2e_log "a missing web config file refused"
