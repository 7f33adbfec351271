/* memory.c: creating guest RAM (memfd) and handing it to KVM. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest-drivers/abi/isovm_abi.h"
#include "vcpu/core/memory.h"

int memory_layout(struct guest_mem *mem, uint64_t ram_size)
{
	uint64_t low =
		ram_size < ISOVM_HOLE_START ? ram_size : ISOVM_HOLE_START;

	if (ram_size == 0 || (ram_size & 0xfff))
		return -EINVAL;
	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
	mem->ram_size = ram_size;
	mem->region[0] = (struct guest_mem_region){.gpa = 0, .size = low};
	mem->nr_regions = 1;
	if (ram_size > low) {
		mem->region[1] = (struct guest_mem_region){
			.gpa = ISOVM_HOLE_END,
			.size = ram_size - low,
			.memfd_off = low,
		};
		mem->nr_regions = 2;
	}
	return 0;
}

int memory_create(struct guest_mem *mem, uint64_t ram_size)
{
	uint8_t *base;
	int ret;

	ret = memory_layout(mem, ram_size);
	if (ret)
		return ret;
	mem->memfd = memfd_create("isovm-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mem->memfd < 0)
		return -errno;
	if (ftruncate(mem->memfd, (off_t)ram_size) < 0) {
		ret = -errno;
		goto err_close_memfd;
	}
	/* Device servers may get this fd one day: its size must not change. */
	if (fcntl(mem->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		ret = -errno;
		goto err_close_memfd;
	}
	base = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_NORESERVE, mem->memfd, 0);
	if (base == MAP_FAILED) {
		ret = -errno;
		goto err_close_memfd;
	}
	/* Guest RAM has no business in a VMM core dump. */
	madvise(base, ram_size, MADV_DONTDUMP);
	for (unsigned i = 0; i < mem->nr_regions; i++)
		mem->region[i].host = base + mem->region[i].memfd_off;
	return 0;

err_close_memfd:
	close(mem->memfd);
	mem->memfd = -1;
	return ret;
}

int memory_clear(struct guest_mem *mem)
{
	/* Punching the whole memfd also returns the pages to the host. */
	if (fallocate(mem->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      (off_t)mem->ram_size) < 0)
		return -errno;
	return 0;
}

int memory_register(const struct guest_mem *mem, int vm_fd)
{
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->region[i];
		struct kvm_userspace_memory_region kr = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)r->host,
		};

		if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &kr) < 0)
			return -errno;
	}
	return 0;
}

void memory_destroy(struct guest_mem *mem)
{
	/* Only a mapped mem owns its memfd: a zeroed one has memfd 0. */
	if (mem->nr_regions && mem->region[0].host) {
		munmap(mem->region[0].host, mem->ram_size);
		if (mem->memfd >= 0)
			close(mem->memfd);
	}
	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
}
