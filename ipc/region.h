/* region.h: per-device shared memfd: header, two rings, data arena. */
#ifndef ISOVM_IPC_REGION_H
#define ISOVM_IPC_REGION_H

#include <stdint.h>

#define IPC_REGION_MAGIC 0x4d56534fu /* "OSVM" little-endian */
#define IPC_REGION_VERSION 1u
#define IPC_REGION_MAX_SIZE (1ull << 30)
#define IPC_REGION_ARENA_ALIGN 4096u

/* Sizes of one region: both sides must agree on every field. */
struct ipc_geom {
	uint32_t sq_entries;      /* submission ring, power of two */
	uint32_t cq_entries;      /* completion ring, power of two */
	uint32_t arena_slot_size; /* power of two, >= 64 */
	uint32_t arena_slots;
};

/*
 * First bytes of the region. The VMM writes it before handing the fd out;
 * the server copies it once and validates the copy.
 */
struct ipc_region_hdr {
	uint32_t magic;       /* VMM writes: IPC_REGION_MAGIC */
	uint32_t version;     /* VMM writes: IPC_REGION_VERSION */
	struct ipc_geom geom; /* VMM writes */
	uint64_t generation;  /* VMM writes: bumped on each server restart */
	uint64_t size;        /* VMM writes: total bytes of the memfd */
	uint8_t reserved[24];
};

/* Byte offsets of the parts, a pure function of the geometry. */
struct ipc_layout {
	uint64_t sq_off;
	uint64_t cq_off;
	uint64_t arena_off;   /* IPC_REGION_ARENA_ALIGN aligned */
	uint64_t size;        /* total */
};

/* One side's mapping. geom/generation are private validated copies. */
struct ipc_region {
	unsigned char *base;
	uint64_t size;
	int fd;               /* the memfd when we own it (creator), else -1 */
	struct ipc_geom geom;
	uint64_t generation;
	struct ipc_layout lay;
};

/* Compute the layout; -EINVAL for a bad geometry or a region too large. */
int ipc_region_layout(const struct ipc_geom *g, struct ipc_layout *l);

/*
 * VMM: create a memfd (close-on-exec) of geometry @g, seal it with
 * F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL so no side can resize it
 * under the other (a shrink would SIGBUS the peer), map it, write the
 * header and format both rings empty. The region owns the fd until
 * ipc_region_close(). Returns 0 or -errno.
 */
int ipc_region_create(struct ipc_region *r, const struct ipc_geom *g,
		      uint64_t generation);

/*
 * VMM, while no server is attached: empty both rings again and publish a
 * new generation (after a server restart). The VMM then re-attaches its two
 * rings (ipc_ring_attach) and re-posts what ipc_inflight_next() lists.
 */
void ipc_region_reset(struct ipc_region *r, uint64_t generation);

/*
 * Server: map a region received as @fd (not taken over; the caller may close
 * it after this returns). Checks, before anything else is used: the seals
 * (-EPERM when F_SEAL_GROW, F_SEAL_SHRINK or F_SEAL_SEAL is missing or fd
 * is no memfd), the size against the header and layout (-EMSGSIZE), magic
 * (-EBADMSG), version (-EPROTONOSUPPORT), geometry valid and equal to
 * @expect when non-NULL (-EINVAL). Other failures: -errno of the syscall.
 */
int ipc_region_map(struct ipc_region *r, int fd, const struct ipc_geom *expect);

/*
 * Unmap, and close the memfd if owned. Also safe after a failed create/map
 * and when called twice.
 */
void ipc_region_close(struct ipc_region *r);

static inline void *ipc_region_sq(const struct ipc_region *r)
{
	return r->base + r->lay.sq_off;
}

static inline void *ipc_region_cq(const struct ipc_region *r)
{
	return r->base + r->lay.cq_off;
}

static inline void *ipc_region_arena(const struct ipc_region *r)
{
	return r->base + r->lay.arena_off;
}

#endif
