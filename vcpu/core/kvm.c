/* kvm.c: opening /dev/kvm, checking capabilities, creating the VM. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vcpu/core/kvm.h"

static const struct {
	int cap;
	const char *name;
} kvm_required_caps[] = {
	{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
	{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
	{KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
	{KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
	{KVM_CAP_PIT2, "KVM_CAP_PIT2"},
	{KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
	{KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR"},
	{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
	{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
	{KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE"},
};

static int kvm_check_caps(struct kvm *kvm, char *err, size_t errlen)
{
	for (size_t i = 0;
	     i < sizeof(kvm_required_caps) / sizeof(*kvm_required_caps); i++) {
		if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION,
			  kvm_required_caps[i].cap) <= 0) {
			snprintf(err, errlen, "KVM lacks %s",
				 kvm_required_caps[i].name);
			return -ENOTSUP;
		}
	}
	kvm->max_vcpus =
		ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (kvm->max_vcpus <= 0)
		kvm->max_vcpus = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION,
				       KVM_CAP_NR_VCPUS);
	if (kvm->max_vcpus <= 0)
		kvm->max_vcpus = 4; /* the documented floor */
	return 0;
}

/* Optional: without it every port write exits, which is only slower. */
static void kvm_probe_coalescing(struct kvm *kvm)
{
	long psize = sysconf(_SC_PAGESIZE);
	int page = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION,
			 KVM_CAP_COALESCED_MMIO);
	int pio = ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION,
			KVM_CAP_COALESCED_PIO);

	kvm->page_size = psize > 0 ? (size_t)psize : 4096;
	kvm->coalesced_ring_off = 0;
	if (page > 0 && pio > 0 &&
	    (size_t)(page + 1) * kvm->page_size <= (size_t)kvm->run_mmap_size)
		kvm->coalesced_ring_off = (size_t)page * kvm->page_size;
}

int kvm_open(struct kvm *kvm, char *err, size_t errlen)
{
	int ret, version;

	kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0) {
		ret = -errno;
		if (ret == -ENOENT || ret == -ENODEV || ret == -ENXIO)
			snprintf(err, errlen,
				 "cannot open /dev/kvm: %s: this host offers no "
				 "KVM (no kvm module loaded, or no hardware "
				 "virtualization); isovm's scripts/kvm-lab.sh "
				 "runs isovm anyway, slowly, inside an emulated "
				 "machine that has one",
				 strerror(errno));
		else
			snprintf(err, errlen, "cannot open /dev/kvm: %s",
				 strerror(errno));
		return ret;
	}
	version = ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);
	if (version < 0) {
		ret = -errno;
		snprintf(err, errlen,
			 "/dev/kvm is not a KVM device (KVM_GET_API_VERSION: "
			 "%s)", strerror(errno));
		goto err_close_sys;
	}
	if (version != KVM_API_VERSION) {
		snprintf(err, errlen, "KVM API version %d, need %d", version,
			 KVM_API_VERSION);
		ret = -ENOTSUP;
		goto err_close_sys;
	}
	ret = kvm_check_caps(kvm, err, errlen);
	if (ret)
		goto err_close_sys;
	kvm->run_mmap_size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->run_mmap_size < (int)sizeof(struct kvm_run)) {
		ret = kvm->run_mmap_size < 0 ? -errno : -EINVAL;
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE failed");
		goto err_close_sys;
	}
	kvm_probe_coalescing(kvm);
	return 0;

err_close_sys:
	close(kvm->sys_fd);
	kvm->sys_fd = -1;
	return ret;
}

void kvm_close(struct kvm *kvm)
{
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	kvm->sys_fd = -1;
}

int kvm_vm_create(const struct kvm *kvm, char *err, size_t errlen)
{
	uint64_t ident = KVM_IDENTITY_MAP_GPA;
	const char *what;
	int vm_fd, ret;

	vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
		return ret;
	}
	what = "KVM_SET_TSS_ADDR";
	if (ioctl(vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA) < 0)
		goto err_close_vm;
	what = "KVM_SET_IDENTITY_MAP_ADDR";
	if (ioctl(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0)
		goto err_close_vm;
	return vm_fd;

err_close_vm:
	ret = -errno;
	snprintf(err, errlen, "%s: %s", what, strerror(errno));
	close(vm_fd);
	return ret;
}

int kvm_vm_add_irqchip(int vm_fd, char *err, size_t errlen)
{
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	const char *what = "KVM_CREATE_IRQCHIP";
	int ret;

	if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		goto err;
	/* Speaker dummy: port 0x61 is then served in the kernel too. */
	what = "KVM_CREATE_PIT2";
	if (ioctl(vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		goto err;
	return 0;

err:
	ret = -errno;
	snprintf(err, errlen, "%s: %s", what, strerror(-ret));
	return ret;
}

int kvm_pit_discard_lost_ticks(int vm_fd)
{
	struct kvm_reinject_control rc = {.pit_reinject = 0};

	if (ioctl(vm_fd, KVM_REINJECT_CONTROL, &rc) < 0)
		return -errno;
	return 0;
}

int kvm_coalesce_pio(int vm_fd, uint16_t port, uint32_t len)
{
	struct kvm_coalesced_mmio_zone z = {
		.addr = port,
		.size = len,
		.pio = 1,
	};

	if (ioctl(vm_fd, KVM_REGISTER_COALESCED_MMIO, &z) < 0)
		return -errno;
	return 0;
}

int kvm_irq_line(int vm_fd, unsigned gsi, int level)
{
	struct kvm_irq_level irq = {.irq = gsi, .level = level};

	if (ioctl(vm_fd, KVM_IRQ_LINE, &irq) < 0)
		return -errno;
	return 0;
}

static int kvm_ioeventfd(int vm_fd, uint64_t gpa, unsigned len, int efd,
			 bool any_value, uint64_t datamatch, uint32_t flags)
{
	struct kvm_ioeventfd io = {
		.datamatch = datamatch,
		.addr = gpa,
		.len = len,
		.fd = efd,
		.flags = flags | (any_value ? 0 : KVM_IOEVENTFD_FLAG_DATAMATCH),
	};

	if (ioctl(vm_fd, KVM_IOEVENTFD, &io) < 0)
		return -errno;
	return 0;
}

int kvm_ioeventfd_add(int vm_fd, uint64_t gpa, unsigned len, int efd,
		      bool any_value, uint64_t datamatch)
{
	return kvm_ioeventfd(vm_fd, gpa, len, efd, any_value, datamatch, 0);
}

int kvm_ioeventfd_del(int vm_fd, uint64_t gpa, unsigned len, int efd,
		      bool any_value, uint64_t datamatch)
{
	return kvm_ioeventfd(vm_fd, gpa, len, efd, any_value, datamatch,
			     KVM_IOEVENTFD_FLAG_DEASSIGN);
}

int kvm_irqfd_add(int vm_fd, unsigned gsi, int efd, int resample_efd)
{
	struct kvm_irqfd irq = {.fd = (uint32_t)efd, .gsi = gsi};

	if (resample_efd >= 0) {
		irq.flags = KVM_IRQFD_FLAG_RESAMPLE;
		irq.resamplefd = (uint32_t)resample_efd;
	}
	if (ioctl(vm_fd, KVM_IRQFD, &irq) < 0)
		return -errno;
	return 0;
}

int kvm_irqfd_del(int vm_fd, unsigned gsi, int efd)
{
	struct kvm_irqfd irq = {
		.fd = (uint32_t)efd,
		.gsi = gsi,
		.flags = KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (ioctl(vm_fd, KVM_IRQFD, &irq) < 0)
		return -errno;
	return 0;
}
