/* test_pio_devices.c: isovm port, port A reset, CMOS, quiet legacy ports. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "vcpu/core/confine.h"
#include "vcpu/platform/pio_devices.h"

static struct io_bus bus;
static struct pio_devices pd;
static int events, last_ev;
static uint32_t last_code;

static void on_event(void *opaque, enum pio_event ev, uint32_t code)
{
	(void)opaque;
	events++;
	last_ev = ev;
	last_code = code;
}

static void setup(void)
{
	events = 0;
	last_ev = -1;
	io_bus_init(&bus, "pio");
	cr_assert_eq(pio_devices_register(&pd, &bus, on_event, NULL), 0);
}

static void teardown(void)
{
	pio_devices_fini(&pd);
	io_bus_fini(&bus);
}

static void out32(uint16_t port, uint32_t v)
{
	cr_assert(io_bus_access(&bus, port, (uint8_t *)&v, 4, true));
}

static void out8(uint16_t port, uint8_t v)
{
	cr_assert(io_bus_access(&bus, port, &v, 1, true));
}

static uint8_t in8(uint16_t port)
{
	uint8_t v;

	io_bus_access(&bus, port, &v, 1, false);
	return v;
}

TestSuite(pio_devices, .init = setup, .fini = teardown);

Test(pio_devices, the_isovm_port_reads_its_magic)
{
	uint32_t v = 0;

	cr_assert(io_bus_access(&bus, ISOVM_PORT, (uint8_t *)&v, 4, false));
	cr_assert_eq(v, ISOVM_PORT_MAGIC);
	cr_assert_eq(in8(ISOVM_PORT + 1), (ISOVM_PORT_MAGIC >> 8) & 0xff);
}

Test(pio_devices, poweroff_reboot_and_panic_commands_become_events)
{
	out32(ISOVM_PORT, ISOVM_CMD_POWEROFF);
	cr_assert_eq(last_ev, PIO_EVENT_POWEROFF);
	out32(ISOVM_PORT, ISOVM_CMD_REBOOT);
	cr_assert_eq(last_ev, PIO_EVENT_REBOOT);
	out32(ISOVM_PORT, ISOVM_CMD_PANIC | (0xabcdefu << 8));
	cr_assert_eq(last_ev, PIO_EVENT_PANIC);
	cr_assert_eq(last_code, 0xabcdef);
	cr_assert_eq(events, 3);
}

Test(pio_devices, narrow_writes_and_unknown_commands_do_nothing)
{
	out8(ISOVM_PORT, ISOVM_CMD_POWEROFF);
	out32(ISOVM_PORT, 0x77);
	cr_assert_eq(events, 0);
}

Test(pio_devices, isovm_port_events_are_read_once)
{
	uint32_t v = 7;

	cr_assert(io_bus_access(&bus, ISOVM_PORT_EVENTS, (uint8_t *)&v, 4,
				false));
	cr_assert_eq(v, 0, "nothing pending");
	atomic_fetch_or(&pd.events, ISOVM_EVENT_POWEROFF);
	cr_assert(io_bus_access(&bus, ISOVM_PORT_EVENTS, (uint8_t *)&v, 4,
				false));
	cr_assert_eq(v, ISOVM_EVENT_POWEROFF);
	cr_assert(io_bus_access(&bus, ISOVM_PORT_EVENTS, (uint8_t *)&v, 4,
				false));
	cr_assert_eq(v, 0, "the read cleared it");
}

Test(pio_devices, cmos_clock_reads_bcd_and_reports_no_update_in_progress)
{
	uint8_t sec, mon;

	out8(0x70, 0x0a);
	cr_assert_eq(in8(0x71) & 0x80, 0);
	out8(0x70, 0x80 | 0x00); /* NMI mask bit is not part of the index */
	sec = in8(0x71);
	cr_assert((sec & 0xf) <= 9 && (sec >> 4) <= 5, "seconds 0x%x", sec);
	out8(0x70, 0x08);
	mon = in8(0x71);
	cr_assert(mon >= 1 && mon <= 0x12, "month 0x%x", mon);
	out8(0x70, 0x20);
	out8(0x71, 0x5a);
	cr_assert_eq(in8(0x71), 0x5a, "CMOS RAM keeps a byte");
}

/* The guest's first RTC read comes on a vCPU thread under its filter. */
Test(pio_devices, cmos_clock_reads_under_a_vcpu_seccomp_filter)
{
	char err[512];
	int status;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		confine_init(CONFINE_ON, false);
		if (confine_thread(CONFINE_VCPU, "vcpu0", err, sizeof(err)))
			_exit(2);
		out8(0x70, 0x00);
		_exit(in8(0x71) < 0x60 ? 0 : 3);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(!WIFSIGNALED(status), "killed by signal %d",
		  WTERMSIG(status));
	cr_assert_eq(WEXITSTATUS(status), 0);
}

Test(pio_devices, absent_legacy_ports_read_as_all_ones_quietly)
{
	cr_assert_eq(in8(0x2f8), 0xff);
	cr_assert_eq(bus.unknown_count, 0, "registered, so not 'unknown'");
}
