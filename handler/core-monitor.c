/* sshand-monitor.so: the monitor's code (priv.c: authentication through
 * PAM and authorized_keys, the drop to the user, sessions).
 *
 * Loaded by the front's own process after it forked the network child;
 * it links PAM and libcap-ng, not libssh or OpenSSL.  See main.c.
 */
#include "handler/handler.h"

__attribute__((visibility("default"))) const struct sshand_monitor sshand_monitor = {
	.abi = SSHAND_CORE_ABI,
	.main = monitor_main,
};
