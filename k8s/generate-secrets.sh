#!/bin/sh
# Writes k8s/secrets.env for the secretGenerator in kustomization.yaml: the
# guest namespace's key (uuid:key, as wsk --auth takes it), the PostgreSQL
# password, the secret controllers and invokers share (INVOKER_SECRET) and
# the NATS password. Values already in the file are kept, so redeploying
# keeps the same key; a key the file lacks (one added by a newer version of
# this script) is generated and appended.
set -eu
out="$(dirname "$0")/secrets.env"
random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
new_uuid() { cat /proc/sys/kernel/random/uuid 2>/dev/null || uuidgen | tr 'A-Z' 'a-z'; }
value_for() {
  case "$1" in
    GUEST_AUTH) echo "$(new_uuid):$(random_hex 32)" ;;
    POSTGRES_PASSWORD) random_hex 24 ;;
    INVOKER_SECRET) random_hex 32 ;;
    # nats-server parses a variable's value as a config value: one that
    # starts with a digit is read as a number and can fail to parse (the
    # server then refuses to start), so the password starts with a letter.
    NATS_PASSWORD) echo "n$(random_hex 24)" ;;
  esac
}
umask 077
touch "$out"
added=""
for key in GUEST_AUTH POSTGRES_PASSWORD INVOKER_SECRET NATS_PASSWORD; do
  if ! grep -q "^$key=" "$out"; then
    # A file whose last line lacks its newline would glue the new key onto it.
    if [ -s "$out" ] && [ "$(tail -c 1 "$out" | od -An -c | tr -d ' ')" != '\n' ]; then echo >>"$out"; fi
    echo "$key=$(value_for "$key")" >>"$out"
    added="$added $key"
  fi
done
if [ -n "$added" ]; then echo "wrote$added to $out" >&2; else echo "keeping $out" >&2; fi
