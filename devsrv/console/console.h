/*
 * console.h: the console device. Its bytes never ride the rings: the VMM
 * writes the guest's output into a pipe and reads the guest's input from
 * another (both held by the VMM for the device's life), and this server
 * only moves bytes between those pipes and the backend
 * (console_backend.h). The rings carry no request of the console's; a
 * request that comes anyway is refused.
 */
#ifndef ISOVM_CONSOLE_H
#define ISOVM_CONSOLE_H

#include <stdbool.h>

#include "devsrv/common/srv.h"
#include "devsrv/console/console_backend.h"

struct console {
	struct srv *srv;
	struct console_backend be;
	bool be_open;
};

/* The ops srv_main() runs the console with; dev is a zeroed console. */
extern const struct srv_dev_ops console_ops;

#endif
