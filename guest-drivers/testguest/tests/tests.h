/* tests.h: the tests the guest can run, one file each, named by test=. */
#ifndef TG_TESTS_H
#define TG_TESTS_H

struct tg_test {
	const char *name;
	void (*run)(const char *name); /* prints its own result line */
};

void test_info(const char *name);
void test_emul_fail(const char *name);
void test_uart_quiet(const char *name);
void test_smp(const char *name);
void test_reboot(const char *name);
void test_panic(const char *name);
void test_irq(const char *name);
void test_timer(const char *name);
void test_shutdown_wait(const char *name);
void test_fault(const char *name);
void test_fault_io(const char *name);
void test_selftest(const char *name);
void test_reboot_triple(const char *name);
void test_console_echo(const char *name);
void test_console_bulk(const char *name);
void test_console_sink(const char *name);
void test_blk_pattern(const char *name);
void test_blk_ro(const char *name);
void test_blk_bench(const char *name);
void test_blk_info(const char *name);
void test_blk_verify(const char *name);
void test_blk_scan(const char *name);
void test_virtq_evil(const char *name);
void test_net_echo(const char *name);
void test_net_arp_ping(const char *name);
void test_net_blast(const char *name);
void test_net_evil(const char *name);
/* virtq-evil=spin, run by test_virtq_evil (tests/test_virtq_spin.c). */
void test_virtq_spin(const char *name);

/* The test called name, or NULL. */
const struct tg_test *tests_find(const char *name);

#endif
