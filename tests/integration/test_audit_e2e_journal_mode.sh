#!/bin/sh
# Runs sshand as a deployed unit would: without -e, so its own diagnostic
# lines go to the journal next to the audit records (test_audit_e2e.py).
# harness.Server always passes -e first; drop it and run the real binary.
[ "$1" = "-e" ] && shift
exec "$SSHAND_E2E_BINARY" "$@"
