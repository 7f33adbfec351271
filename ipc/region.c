/* region.c: create, seal, map and validate the shared memfd of one device. */
#include "ipc/region.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/arena.h"
#include "ipc/ring.h"

#define REGION_SEALS (F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

static_assert(sizeof(struct ipc_region_hdr) == IPC_CACHELINE,
	      "region header is one cache line");

static uint64_t region_align(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int ipc_region_layout(const struct ipc_geom *g, struct ipc_layout *l)
{
	uint64_t arena;

	if (!ipc_ring_cap_valid(g->sq_entries) ||
	    !ipc_ring_cap_valid(g->cq_entries) ||
	    !ipc_arena_geom_valid(g->arena_slot_size, g->arena_slots))
		return -EINVAL;
	/* All terms are bounded far below 2^64 by the checks above. */
	arena = (uint64_t)g->arena_slot_size * g->arena_slots;
	l->sq_off = sizeof(struct ipc_region_hdr);
	l->cq_off = l->sq_off + ipc_ring_bytes(g->sq_entries);
	l->arena_off = region_align(l->cq_off + ipc_ring_bytes(g->cq_entries),
				    IPC_REGION_ARENA_ALIGN);
	l->size = l->arena_off + arena;
	if (l->size > IPC_REGION_MAX_SIZE)
		return -EINVAL;
	return 0;
}

static void region_format(struct ipc_region *r, uint64_t generation)
{
	struct ipc_region_hdr *h = (struct ipc_region_hdr *)r->base;

	memset(h, 0, sizeof(*h));
	h->magic = IPC_REGION_MAGIC;
	h->version = IPC_REGION_VERSION;
	h->geom = r->geom;
	h->generation = generation;
	h->size = r->size;
	r->generation = generation;
	ipc_ring_format(ipc_region_sq(r), 0);
	ipc_ring_format(ipc_region_cq(r), 0);
}

int ipc_region_create(struct ipc_region *r, const struct ipc_geom *g,
		      uint64_t generation)
{
	void *p;
	int ret, fd;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	ret = ipc_region_layout(g, &r->lay);
	if (ret)
		return ret;
	fd = memfd_create("isovm-ipc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)r->lay.size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, REGION_SEALS) < 0) {
		ret = -errno;
		goto err_close_fd;
	}
	p = mmap(NULL, r->lay.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		goto err_close_fd;
	}
	r->base = p;
	r->size = r->lay.size;
	r->fd = fd;
	r->geom = *g;
	region_format(r, generation);
	return 0;

err_close_fd:
	close(fd);
	return ret;
}

void ipc_region_reset(struct ipc_region *r, uint64_t generation)
{
	region_format(r, generation);
}

/* Seals and size of @fd, before mapping anything. */
static int region_check_fd(int fd, uint64_t *size)
{
	struct stat st;
	int seals;

	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return errno == EINVAL ? -EPERM : -errno;
	if ((seals & REGION_SEALS) != REGION_SEALS)
		return -EPERM;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size < (off_t)sizeof(struct ipc_region_hdr) ||
	    (uint64_t)st.st_size > IPC_REGION_MAX_SIZE)
		return -EMSGSIZE;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* Validate a private copy of the header against the memfd size. */
static int region_check_hdr(const struct ipc_region_hdr *h, uint64_t size,
			    const struct ipc_geom *expect,
			    struct ipc_layout *lay)
{
	if (h->magic != IPC_REGION_MAGIC)
		return -EBADMSG;
	if (h->version != IPC_REGION_VERSION)
		return -EPROTONOSUPPORT;
	if (ipc_region_layout(&h->geom, lay))
		return -EINVAL;
	if (expect && memcmp(expect, &h->geom, sizeof(*expect)))
		return -EINVAL;
	if (h->size != size || lay->size != size)
		return -EMSGSIZE;
	return 0;
}

int ipc_region_map(struct ipc_region *r, int fd, const struct ipc_geom *expect)
{
	struct ipc_region_hdr hdr;
	uint64_t size = 0;
	void *p;
	int ret;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	ret = region_check_fd(fd, &size);
	if (ret)
		return ret;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* One copy; only the copy is looked at from here on. */
	memcpy(&hdr, p, sizeof(hdr));
	ret = region_check_hdr(&hdr, size, expect, &r->lay);
	if (ret)
		goto err_unmap;
	r->base = p;
	r->size = size;
	r->geom = hdr.geom;
	r->generation = hdr.generation;
	return 0;

err_unmap:
	munmap(p, size);
	return ret;
}

void ipc_region_close(struct ipc_region *r)
{
	if (r->base)
		munmap(r->base, r->size);
	if (r->fd >= 0)
		close(r->fd);
	r->base = NULL;
	r->fd = -1;
}
