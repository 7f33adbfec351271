/* main.c: isovm-console, the device server of the guest's console streams. */
#include "devsrv/console/console.h"

int main(int argc, char **argv)
{
	static struct console console;

	return srv_main(argc, argv, &console_ops, &console);
}
