/* registry.c: the table of tests, by name. */
#include <stddef.h>

#include "rt/string.h"
#include "tests/tests.h"

static const struct tg_test tests_table[] = {
	{ "info", test_info },
	{ "smp", test_smp },
	{ "reboot", test_reboot },
	{ "panic", test_panic },
	{ "irq", test_irq },
	{ "timer", test_timer },
	{ "shutdown-wait", test_shutdown_wait },
	{ "fault", test_fault },
	{ "fault-io", test_fault_io },
	{ "selftest", test_selftest },
	{ "reboot-triple", test_reboot_triple },
	{ "console-echo", test_console_echo },
	{ "console-bulk", test_console_bulk },
	{ "console-sink", test_console_sink },
	{ "blk-pattern", test_blk_pattern },
	{ "blk-ro", test_blk_ro },
	{ "blk-bench", test_blk_bench },
	{ "blk-info", test_blk_info },
	{ "blk-verify", test_blk_verify },
	{ "blk-scan", test_blk_scan },
	{ "virtq-evil", test_virtq_evil },
	{ "net-echo", test_net_echo },
	{ "net-arp-ping", test_net_arp_ping },
	{ "net-blast", test_net_blast },
	{ "net-evil", test_net_evil },
	{ "uart-quiet", test_uart_quiet },
	{ "emul-fail", test_emul_fail },
};

const struct tg_test *tests_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(tests_table) / sizeof(tests_table[0]); i++)
		if (!strcmp(tests_table[i].name, name))
			return &tests_table[i];
	return NULL;
}
