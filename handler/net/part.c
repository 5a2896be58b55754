/* sshand-net.so: the network child's code (net.c).
 *
 * Loaded by the child the front forks, and only there: the monitor never
 * maps libssh.  Kerberos, which libssh links, is mapped nowhere: the
 * front binds that dependency to a stand-in (nogssapi/).  See
 * front/main.c.
 */
#define _GNU_SOURCE

#include "handler/front/handover.h"
#include "handler/front/log.h"
#include "handler/net/net.h"

__attribute__((visibility("default"))) const struct sshand_net sshand_net = {
	.abi = SSHAND_CORE_ABI,
	.main = net_main,
};
