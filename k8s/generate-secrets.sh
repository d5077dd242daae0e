#!/bin/sh
# Writes k8s/secrets.env for the secretGenerator in kustomization.yaml: the
# guest namespace's key (uuid:key, as wsk --auth takes it) and the PostgreSQL
# password. An existing file is kept, so redeploying keeps the same key.
set -eu
out="$(dirname "$0")/secrets.env"
if [ -s "$out" ]; then
  echo "keeping $out" >&2
  exit 0
fi
random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
uuid=$(cat /proc/sys/kernel/random/uuid 2>/dev/null || uuidgen | tr 'A-Z' 'a-z')
umask 077
{
  echo "GUEST_AUTH=$uuid:$(random_hex 32)"
  echo "POSTGRES_PASSWORD=$(random_hex 24)"
} >"$out"
echo "wrote $out" >&2
