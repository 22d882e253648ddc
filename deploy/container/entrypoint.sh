#!/bin/sh
# The image's entrypoint: runs the executable its first argument names, with the rest of the
# arguments; anything else is refused with the list. exec: the service is PID 1's only child
# and gets SIGTERM (drain) and SIGHUP (reload TLS) directly.
set -eu
umask 077
service=${1:-}
case "$service" in
  intake | youth-justice | camhs | mappa | orchestrator | hsbctl)
    shift
    exec "/usr/local/bin/$service" "$@"
    ;;
  *)
    echo "hsb-entrypoint: name the executable to run: intake, youth-justice, camhs, mappa, orchestrator or hsbctl (got '${service}')" >&2
    exit 64
    ;;
esac
