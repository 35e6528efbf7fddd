#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run-examples-test.sh SIGNIN_WIDGET FRESH_TOKEN API_CALL — run inside the test sandbox (sandbox-exec.sh):
# the examples the guides quote, against the devstack, with the sandbox's keyring and Xvfb.
#   1. signin-widget opens the "browser" through QDesktopServices (xcb under Xvfb → xdg-open →
#      a private mimeapps.list whose http(s) handler is the devstack's scripted login), signs in
#      as alice and stores the session in the keychain;
#      and lists the account in the (non-secret) account index;
#   2. fresh-token restores it and prints a fresh token's expiry (no refresh needed);
#   3. fresh-token --resource gets a token for the API (a refresh with RFC 8707 resource);
#   4. fresh-token for an account that never signed in asks to sign in (exit 3);
#   5. api-call (the quickstart, Keyloop::Client) signs in through the system browser (xdg-open)
#      and calls the API; run again, it restores silently: no authorization request, no discovery.
set -euo pipefail
signin=${1:?usage: run-examples-test.sh SIGNIN_WIDGET FRESH_TOKEN API_CALL}
fresh=${2:?usage: run-examples-test.sh SIGNIN_WIDGET FRESH_TOKEN API_CALL}
apicall=${3:?usage: run-examples-test.sh SIGNIN_WIDGET FRESH_TOKEN API_CALL}
: "${KEYLOOP_DEVSTACK_JSON:?run me through sandbox-exec.sh}" "${DISPLAY:?no X display}"
: "${XDG_CONFIG_HOME:?}" "${XDG_DATA_HOME:?}" "${KEYLOOP_TEST_SERVICE:?}" "${KEYLOOP_SOURCE_DIR:?}"

get() { node -e "process.stdout.write(String(JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'))[process.argv[2]]))" "$KEYLOOP_DEVSTACK_JSON" "$1"; }
issuer=$(get issuer)
ca=$(get caFile)
client=$(get publicClientId)
resource=$(get apiResource)
login_script="$KEYLOOP_SOURCE_DIR/demo-app/devstack/scripted-login.mjs"

# The scripted login as this user's default browser (see shared notes: how xdg-open picks one).
mkdir -p "$XDG_DATA_HOME/applications"
cat > "$XDG_DATA_HOME/applications/keyloop-example-browser.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=Keyloop example browser
Exec=node $login_script %u
MimeType=x-scheme-handler/http;x-scheme-handler/https;
NoDisplay=true
EOF
cat > "$XDG_CONFIG_HOME/mimeapps.list" <<EOF
[Default Applications]
x-scheme-handler/http=keyloop-example-browser.desktop
x-scheme-handler/https=keyloop-example-browser.desktop
EOF
unset XDG_CURRENT_DESKTOP
export BROWSER="node $login_script"

common=(--issuer "$issuer" --client-id "$client" --ca-file "$ca" --app-id "$KEYLOOP_TEST_SERVICE")
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== signin-widget"
out=$(QT_QPA_PLATFORM=xcb timeout 60 "$signin" "${common[@]}" \
        --scope "openid profile email offline_access api:read" --resource "$resource") || fail "signin-widget exited $?"
echo "$out"
[[ "$out" == *"Signed in as alice"* ]] || fail "signin-widget did not print the subject"
index="$XDG_DATA_HOME/keyloop/$KEYLOOP_TEST_SERVICE/accounts.json"
grep -q '"subject": "alice"' "$index" || fail "the account index does not list alice ($index)"

echo "== fresh-token (the provider's own token, restored from the keychain)"
out=$(timeout 60 "$fresh" "${common[@]}") || fail "fresh-token exited $?"
echo "$out"
[[ "$out" == "Fresh access token ("*" bytes) for the provider, expires at "* ]] || fail "unexpected fresh-token output"

echo "== fresh-token --resource (refreshed with an RFC 8707 resource)"
out=$(timeout 60 "$fresh" "${common[@]}" --resource "$resource") || fail "fresh-token --resource exited $?"
echo "$out"
[[ "$out" == "Fresh access token ("*" bytes) for $resource, expires at "* ]] || fail "unexpected fresh-token --resource output"

echo "== fresh-token for an account that never signed in"
set +e
timeout 60 "$fresh" "${common[@]}" --account nobody
rc=$?
set -e
[[ $rc -eq 3 ]] || fail "expected exit 3 (sign in first), got $rc"

counter() { node -e "fetch(process.argv[1] + '/counters').then(r => r.json()).then(c => process.stdout.write(String(c[process.argv[2]])))" "$(get admin)" "$1"; }
api="$(get api)/api/"
quickstart=(--issuer "$issuer" --client-id "$client" --ca-file "$ca" --app-id "$KEYLOOP_TEST_SERVICE.quickstart"
            --scope "openid profile email offline_access api:read" --resource "$resource" --api "$api")
echo "== api-call (the quickstart): sign in, call the API"
out=$(timeout 60 "$apicall" "${quickstart[@]}") || fail "api-call exited $?"
echo "$out"
[[ "$out" == *'"sub":"alice"'* ]] || fail "api-call did not print the API's answer for alice"

echo "== api-call again: restored silently"
authorizations=$(counter authorization)
discoveries=$(counter discovery)
out=$(timeout 60 "$apicall" "${quickstart[@]}") || fail "api-call (restore) exited $?"
[[ "$out" == *'"sub":"alice"'* ]] || fail "api-call (restore) did not print the API's answer"
[[ "$(counter authorization)" == "$authorizations" ]] || fail "the restore opened the browser"
[[ "$(counter discovery)" == "$discoveries" ]] || fail "the restore made a discovery request"

echo "examples: ok"
