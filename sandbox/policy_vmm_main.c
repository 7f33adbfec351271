/*
 * policy_vmm_main.c: what the VMM's main thread may do once the devices
 * run: wait for the guest's outcome or a stop signal, rebuild the VM at
 * every reboot (a new VM fd, the kernel loaded again, new vCPU threads)
 * and stop everything at the end. The vCPU threads it creates start under
 * this filter and add theirs, so it holds their rows too.
 */
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "sandbox/policy_vmm.h"

/* open() for reading only: no writing, creating, truncating. */
#define POLICY_MAIN_OPEN_MASK (O_ACCMODE | O_CREAT | O_TRUNC | O_TMPFILE)

static const struct sandbox_syscall policy_vmm_main_rows[] = {
	SANDBOX_VMM_COMMON_ROWS,
	SANDBOX_VMM_VCPU_ROWS,
	/* Waiting for the outcome of a boot. */
	SB_ALLOW(poll, "the outcome or a stop signal; servers and the pty "
		       "at exit"),
	SB_ALLOW(read, "the stop signals' signalfd, the outcome eventfd"),
	SB_ALLOW(close, "the VM and vCPU fds of a boot; everything at exit"),
	/* A reboot: a new VM, the kernel loaded again, new vCPU threads. */
	SB_ALLOW_IOCTL(KVM_CREATE_VM, "a new VM"),
	SB_ALLOW_IOCTL(KVM_SET_TSS_ADDR, "its TSS"),
	SB_ALLOW_IOCTL(KVM_SET_IDENTITY_MAP_ADDR, "its identity map"),
	SB_ALLOW_IOCTL(KVM_SET_USER_MEMORY_REGION, "guest RAM into it"),
	SB_ALLOW_IOCTL(KVM_CREATE_IRQCHIP, "its PIC, IOAPIC and LAPICs"),
	SB_ALLOW_IOCTL(KVM_CREATE_PIT2, "its PIT"),
	SB_ALLOW_IOCTL(KVM_REINJECT_CONTROL, "PIT lost ticks discarded"),
	SB_ALLOW_IOCTL(KVM_IOEVENTFD, "virtio QueueNotify ioeventfds"),
	SB_ALLOW_IOCTL(KVM_IRQFD, "virtio interrupt irqfds"),
	SB_ALLOW_IOCTL(KVM_REGISTER_COALESCED_MMIO, "UART writes queued"),
	SB_ALLOW_IOCTL(KVM_CREATE_VCPU, "the vCPUs"),
	SB_ALLOW_IOCTL(KVM_SET_CPUID2, "their CPUID"),
	SB_ALLOW_IOCTL(KVM_SET_MSRS, "their MSRs"),
	SB_ALLOW_IOCTL(KVM_SET_FPU, "their FPU"),
	SB_ALLOW_IOCTL(KVM_GET_LAPIC, "their LAPIC's LINT0/1"),
	SB_ALLOW_IOCTL(KVM_SET_LAPIC, "their LAPIC's LINT0/1"),
	SB_ALLOW_IOCTL(KVM_SET_SREGS, "the boot vCPU's first state"),
	SB_ALLOW_IOCTL(KVM_SET_REGS, "the boot vCPU's first state"),
	SB_ALLOW_EQ(fallocate, 1, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		    "guest RAM zeroed (its memfd punched)"),
	SB_ALLOW_MASKED(openat, 2, POLICY_MAIN_OPEN_MASK, O_RDONLY,
			"the kernel and initrd, read again; read-only"),
	SB_ALLOW_EQ(newfstatat, 3, AT_EMPTY_PATH, "their size (fstat)"),
	SB_ALLOW(pread64, "their bytes into guest RAM"),
	SB_ALLOW_MASKED(clone, 0, CLONE_THREAD, CLONE_THREAD,
			"the vCPU threads (pthread_create); threads only"),
	SB_ALLOW(clone3, "pthread_create's first try: its flags are out of "
			 "a filter's reach, so confine.c's filter fails it "
			 "with ENOSYS and glibc falls back to clone"),
	SB_ALLOW(set_robust_list, "a new vCPU thread, before its filter"),
	SB_ALLOW(rseq, "a new vCPU thread, before its filter"),
	SB_ALLOW_EQ(prctl, 0, PR_SET_NO_NEW_PRIVS,
		    "a new vCPU thread loads its filter"),
	SB_ALLOW_EQ(seccomp, 0, SECCOMP_SET_MODE_FILTER,
		    "a new vCPU thread loads its filter"),
	/* The vCPUs and the I/O thread. */
	SB_ALLOW(getpid, "pthread_kill names the process"),
	SB_ALLOW_EQ(tgkill, 2, SIGUSR1, "kick the vCPUs out of KVM_RUN"),
	SB_ALLOW(epoll_ctl, "watches removed at exit"),
	/* The end; sendmsg (shutdown, statistics) is in the vCPU layer. */
	SB_ALLOW_EQ(recvmsg, 2, SB_RECVMSG_FLAGS,
		    "the servers' statistics (debug level)"),
	SB_ALLOW_EQ(pidfd_send_signal, 1, SIGKILL,
		    "a server that did not stop"),
	SB_ALLOW_EQ(waitid, 0, P_PIDFD, "the servers reaped"),
	SB_ALLOW_IOCTL(TCGETS, "the terminal restored (tcsetattr reads "
			       "its modes first)"),
	SB_ALLOW_IOCTL(TCSETSF, "the terminal restored"),
	SB_ALLOW_IOCTL(TIOCGPTPEER, "the pty's reader has read everything"),
	SB_ALLOW_IOCTL(FIONREAD, "the pty's reader has read everything"),
	SB_ALLOW(clock_nanosleep, "naps while the pty's reader reads"),
	SB_ALLOW(unlink, "the API and console socket paths removed"),
};

const struct sandbox_policy sandbox_policy_vmm_main =
	SANDBOX_POLICY("main thread", policy_vmm_main_rows);
