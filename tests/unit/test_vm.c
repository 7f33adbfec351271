/*
 * test_vm.c: the VM lifecycle on KVM with a tiny generated PVH guest that
 * counts in RAM: it runs, pauses (the count stands still), resumes, reports
 * its status and shuts down with status 0. Skipped without /dev/kvm.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "vcpu/vm/vm.h"

#define COUNTER_GPA 0x200000u
#define ENTRY_GPA   0x100000u

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}
static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Guests in 32-bit flat protected mode: 1: incl COUNTER_GPA; jmp 1b. */
static const uint8_t count_code[] = {0xff, 0x05, 0x00, 0x00,
				     0x20, 0x00, 0xeb, 0xf8};
/* mov $BLOCK_PORT, %dx; 1: out %al, (%dx); incl COUNTER_GPA; jmp 1b. */
#define BLOCK_PORT 0x600
static const uint8_t out_count_code[] = {0x66, 0xba, 0x00, 0x06, 0xee, 0xff,
					 0x05, 0x00, 0x00, 0x20, 0x00, 0xeb,
					 0xf7};
#define CODE_MAX 16

/* ELF64 with one PT_LOAD (the code) and one PT_NOTE (the PVH entry). */
static void write_guest(const char *path, const uint8_t *code, size_t len)
{
	uint8_t f[0x1000 + CODE_MAX] = {0};
	uint8_t *ph = f + 64, *note = f + 0x200;
	FILE *out;

	memcpy(f, "\177ELF", 4);
	f[4] = 2; /* 64-bit */
	f[5] = 1; /* little-endian */
	f[6] = 1;
	put16(f + 16, 2);  /* ET_EXEC */
	put16(f + 18, 62); /* x86-64 */
	put32(f + 20, 1);
	put64(f + 24, ENTRY_GPA);
	put64(f + 32, 64); /* phoff */
	put16(f + 52, 64);
	put16(f + 54, 56);
	put16(f + 56, 2);
	put32(ph, 1); /* PT_LOAD */
	put32(ph + 4, 5);
	put64(ph + 8, 0x1000);
	put64(ph + 16, ENTRY_GPA);
	put64(ph + 24, ENTRY_GPA);
	put64(ph + 32, len);
	put64(ph + 40, len);
	put64(ph + 48, 0x1000);
	put32(ph + 56, 4); /* PT_NOTE */
	put64(ph + 56 + 8, 0x200);
	put64(ph + 56 + 32, 20);
	put64(ph + 56 + 40, 20);
	put64(ph + 56 + 48, 4);
	put32(note, 4);
	put32(note + 4, 4);
	put32(note + 8, 18); /* XEN_ELFNOTE_PHYS32_ENTRY */
	memcpy(note + 12, "Xen", 4);
	put32(note + 16, ENTRY_GPA);
	cr_assert_leq(len, CODE_MAX);
	memcpy(f + 0x1000, code, len);
	out = fopen(path, "wb");
	cr_assert_not_null(out);
	cr_assert_eq(fwrite(f, 1, 0x1000 + len, out), 0x1000 + len);
	fclose(out);
}

static void null_tx(void *opaque, const uint8_t *buf, size_t len)
{
	(void)opaque;
	(void)buf;
	(void)len;
}

static const struct uart_backend_ops null_be = {.tx = null_tx};

struct run {
	struct vm vm;
	struct vm_config cfg;
	struct kvm kvm;
	int sig_fd;
	int status;
	pthread_t thread;
	char path[64];
};

static struct run R;

static void *run_main(void *arg)
{
	struct run *r = arg;

	r->status = vm_run(&r->vm, r->sig_fd);
	return NULL;
}

static uint32_t counter(void)
{
	volatile uint32_t *c = guest_mem_ptr(&R.vm.mem, COUNTER_GPA, 4);

	cr_assert_not_null((void *)c);
	return *c;
}

static uint32_t counter_after(unsigned ms)
{
	usleep(ms * 1000);
	return counter();
}

/* BLOCK_PORT: a device that holds its vCPU while port_blocked is set. */
static atomic_bool port_blocked;

static void block_write(void *opaque, uint64_t off, const uint8_t *data,
			unsigned len)
{
	(void)opaque;
	(void)off;
	(void)data;
	(void)len;
	while (atomic_load(&port_blocked))
		usleep(1000);
}

static const struct io_bus_ops block_ops = {.write = block_write};

static bool start_guest(unsigned cpus, const uint8_t *code, size_t len)
{
	char err[256];
	sigset_t none;

	if (access("/dev/kvm", R_OK | W_OK) != 0)
		return false;
	memset(&R, 0, sizeof(R));
	snprintf(R.path, sizeof(R.path), "/tmp/isovm-vmtest-%d.elf", getpid());
	write_guest(R.path, code, len);
	R.cfg.kernel_path = R.path;
	R.cfg.cmdline = "";
	R.cfg.cpus = cpus;
	R.cfg.mem_size = 64ull << 20;
	cr_assert_eq(vcpu_signals_init(), 0);
	cr_assert_eq(kvm_open(&R.kvm, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(vm_init(&R.vm, &R.kvm, &R.cfg, &null_be, NULL, err,
			     sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(io_bus_register(&R.vm.pio, BLOCK_PORT, 1, &block_ops,
				     NULL, "block"),
		     0);
	sigemptyset(&none);
	R.sig_fd = signalfd(-1, &none, SFD_CLOEXEC);
	cr_assert_geq(R.sig_fd, 0);
	cr_assert_eq(pthread_create(&R.thread, NULL, run_main, &R), 0);
	for (int i = 0; i < 2000 && counter() == 0; i++)
		usleep(1000);
	cr_assert_neq(counter(), 0, "the guest never ran");
	return true;
}

static bool start(unsigned cpus)
{
	return start_guest(cpus, count_code, sizeof(count_code));
}

static void finish(void)
{
	pthread_join(R.thread, NULL);
	vm_fini(&R.vm);
	kvm_close(&R.kvm);
	close(R.sig_fd);
	unlink(R.path);
}

Test(vm, status_reports_a_running_vm_with_its_size)
{
	struct vm_status st;

	if (!start(2))
		return;
	usleep(20000);
	vm_get_status(&R.vm, &st);
	cr_assert_eq(st.state, VM_STATE_RUNNING);
	cr_assert_eq(st.vcpus, 2);
	cr_assert_eq(st.memory_bytes, 64ull << 20);
	cr_assert_geq(st.uptime_ms, 10);
	vm_shutdown(&R.vm);
	finish();
	cr_assert_eq(R.status, ISOVM_EXIT_POWEROFF);
}

Test(vm, pause_stops_the_guest_and_resume_lets_it_go_on)
{
	struct vm_status st;
	uint32_t a, b;

	if (!start(3)) /* APs wait for a SIPI that never comes: they park too */
		return;
	cr_assert_eq(vm_pause(&R.vm), 0);
	vm_get_status(&R.vm, &st);
	cr_assert_eq(st.state, VM_STATE_PAUSED);
	a = counter();
	b = counter_after(100);
	cr_assert_eq(a, b, "the guest ran while paused (%u -> %u)", a, b);
	cr_assert_eq(vm_pause(&R.vm), -EBUSY, "pausing twice");
	cr_assert_eq(vm_resume(&R.vm), 0);
	cr_assert_gt(counter_after(100), b, "the guest did not go on");
	cr_assert_eq(vm_resume(&R.vm), -EBUSY, "resuming a running VM");
	vm_shutdown(&R.vm);
	finish();
	cr_assert_eq(R.status, ISOVM_EXIT_POWEROFF);
}

Test(vm, a_paused_vm_shuts_down)
{
	if (!start(1))
		return;
	cr_assert_eq(vm_pause(&R.vm), 0);
	vm_shutdown(&R.vm);
	finish();
	cr_assert_eq(R.status, ISOVM_EXIT_POWEROFF);
}

Test(vm, a_pause_that_times_out_leaves_every_vcpu_running)
{
	uint32_t a, b;

	if (!start_guest(1, out_count_code, sizeof(out_count_code)))
		return;
	R.vm.pause_timeout_ms = 100;
	/* The vCPU gets stuck in a device, outside KVM_RUN. */
	atomic_store(&port_blocked, true);
	usleep(20000);
	cr_assert_eq(vm_pause(&R.vm), -ETIMEDOUT);
	atomic_store(&port_blocked, false);
	a = counter_after(20);
	b = counter_after(100);
	cr_assert_gt(b, a, "the late vCPU no longer runs the guest");
	vm_shutdown(&R.vm);
	finish();
	cr_assert_eq(R.status, ISOVM_EXIT_POWEROFF);
}
