/*
 * test_front_blk.c: the virtio-blk front: request parsing rules, the READY
 * checks, and crafted guest chains through the transport and the generic
 * front against a fake block server on a real data plane.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devsrv/blk/blk_config.h"
#include "ipc/ctl_channel.h"
#include "ipc/devproto.h"
#include "vcpu/front/blk/front_blk.h"

#define RAM_GPA	  0x100000ull
#define RAM_SIZE  (16ull << 20)
#define QSIZE	  FRONT_BLK_QUEUE_SIZE
#define DESC_GPA  (RAM_GPA + 0x0000)
#define AVAIL_GPA (RAM_GPA + 0x1000)
#define USED_GPA  (RAM_GPA + 0x2000)
#define BUF_GPA	  (RAM_GPA + 0x10000) /* request buffers from here */
#define CAPACITY  128ull	      /* sectors of the fake disk */

static struct guest_mem mem;

static void *gptr(gpa_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(&mem, gpa, len);

	cr_assert_not_null(p);
	return p;
}

static void mem_setup(void)
{
	uint8_t *ram = calloc(1, RAM_SIZE);

	cr_assert(ram);
	memset(&mem, 0, sizeof(mem));
	mem.region[0] = (struct guest_mem_region){RAM_GPA, RAM_SIZE, ram, 0};
	mem.nr_regions = 1;
	mem.ram_size = RAM_SIZE;
	mem.memfd = -1;
}

static void mem_teardown(void)
{
	free(mem.region[0].host);
}

/* The 16-byte request header at gpa. */
static void put_hdr(gpa_t gpa, uint32_t type, uint64_t sector)
{
	uint8_t *h = gptr(gpa, FRONT_BLK_HDR_LEN);

	memset(h, 0, FRONT_BLK_HDR_LEN);
	memcpy(h, &type, 4); /* the test host is little-endian, as x86 */
	memcpy(h + 8, &sector, 8);
}

static void put_range(gpa_t gpa, uint64_t sector, uint32_t count,
		      uint32_t flags)
{
	uint8_t *r = gptr(gpa, FRONT_BLK_DWZ_LEN);

	memcpy(r, &sector, 8);
	memcpy(r + 8, &count, 4);
	memcpy(r + 12, &flags, 4);
}

/* ---- parsing, on hand-made chains ---- */

static const struct front_blk_limits lim = {
	.capacity = CAPACITY,
	.flush = true,
	.discard = true,
	.write_zeroes = true,
	.max_rw_bytes = 64 * 1024,
	.max_discard_sectors = 64,
	.max_zeroes_sectors = 64,
};

/* A chain of segments "r:LEN" / "w:LEN" laid out from BUF_GPA on. */
static struct virtq_chain chain_of(unsigned n, const uint32_t *len,
				   const bool *write)
{
	struct virtq_chain c;
	gpa_t at = BUF_GPA;

	memset(&c, 0, sizeof(c));
	for (unsigned i = 0; i < n; i++) {
		c.seg[i] = (struct virtq_seg){at, len[i], write[i]};
		if (write[i])
			c.writable_len += len[i];
		else
			c.readable_len += len[i];
		at += (len[i] + 15) & ~15u;
	}
	c.nr_segs = (uint16_t)n;
	return c;
}

#define CHAIN(...)                                                     \
	chain_of(sizeof((uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t), \
		 (uint32_t[]){__VA_ARGS__}, dirs)

static enum front_blk_verdict parse3(uint32_t type, uint64_t sector,
				     uint32_t rlen, uint32_t wlen,
				     const struct front_blk_limits *l,
				     struct front_blk_req *r)
{
	/* header | data (readable or writable) | status */
	uint32_t len[3] = {FRONT_BLK_HDR_LEN, rlen ? rlen : wlen, 1};
	bool wr[3] = {false, rlen == 0, true};
	struct virtq_chain c;

	if (!rlen && !wlen) {
		len[1] = 1;
		wr[1] = true;
		c = chain_of(2, (uint32_t[]){len[0], 1}, (bool[]){0, 1});
	} else {
		c = chain_of(3, len, wr);
	}
	put_hdr(BUF_GPA, type, sector);
	return front_blk_req_parse(&mem, &c, l, r);
}

static void expect_status(enum front_blk_verdict v,
			  const struct front_blk_req *r, uint8_t status,
			  const char *why)
{
	cr_assert_eq(v, FRONT_BLK_STATUS, "verdict %d", v);
	cr_assert_eq(r->status, status);
	cr_assert_not_null(r->why);
	cr_assert_not_null(strstr(r->why, why), "why '%s' lacks '%s'", r->why,
			   why);
}

TestSuite(front_blk_req, .init = mem_setup, .fini = mem_teardown);

Test(front_blk_req, a_read_becomes_a_server_read_of_its_sectors)
{
	struct front_blk_req r;

	cr_assert_eq(parse3(VIRTIO_BLK_T_IN, 8, 0, 4096, &lim, &r),
		     FRONT_BLK_POST);
	cr_assert_eq(r.req.op, IPC_OP_READ);
	cr_assert_eq(r.req.args.blk.sector, 8);
	cr_assert_eq(r.req.args.blk.count, 8);
	cr_assert_eq(r.arena_len, 4096);
	cr_assert_eq(r.copy_len, 0, "nothing to copy in for a read");
	cr_assert_eq(r.status_off, 4096, "status after the data");
}

Test(front_blk_req, a_write_copies_its_payload_after_the_header)
{
	struct front_blk_req r;

	cr_assert_eq(parse3(VIRTIO_BLK_T_OUT, 120, 4096, 0, &lim, &r),
		     FRONT_BLK_POST);
	cr_assert_eq(r.req.op, IPC_OP_WRITE);
	cr_assert_eq(r.req.args.blk.sector, 120);
	cr_assert_eq(r.req.args.blk.count, 8);
	cr_assert_eq(r.copy_off, FRONT_BLK_HDR_LEN);
	cr_assert_eq(r.copy_len, 4096);
	cr_assert_eq(r.status_off, 0);
}

Test(front_blk_req, any_descriptor_layout_is_accepted)
{
	/* Header split 4 + 12, data and status in one writable buffer. */
	bool dirs[] = {false, false, true};
	struct virtq_chain c = CHAIN(4, 12, 513);
	struct front_blk_req r;
	uint8_t hdr[16] = {0};

	hdr[8] = 5; /* sector 5, type IN */
	memcpy(gptr(c.seg[0].gpa, 4), hdr, 4);
	memcpy(gptr(c.seg[1].gpa, 12), hdr + 4, 12);
	cr_assert_eq(front_blk_req_parse(&mem, &c, &lim, &r), FRONT_BLK_POST);
	cr_assert_eq(r.req.args.blk.sector, 5);
	cr_assert_eq(r.req.args.blk.count, 1);
	cr_assert_eq(r.status_off, 512);
}

Test(front_blk_req, sectors_beyond_the_capacity_get_ioerr)
{
	struct front_blk_req r;

	cr_assert_eq(parse3(VIRTIO_BLK_T_IN, CAPACITY - 1, 0, 512, &lim, &r),
		     FRONT_BLK_POST, "the last sector is in range");
	expect_status(parse3(VIRTIO_BLK_T_IN, CAPACITY - 1, 0, 1024, &lim, &r),
		      &r, VIRTIO_BLK_S_IOERR, "beyond the capacity");
	expect_status(parse3(VIRTIO_BLK_T_OUT, CAPACITY, 512, 0, &lim, &r), &r,
		      VIRTIO_BLK_S_IOERR, "beyond the capacity");
	/* sector + count would wrap around 2^64. */
	expect_status(parse3(VIRTIO_BLK_T_IN, ~0ull, 0, 512, &lim, &r), &r,
		      VIRTIO_BLK_S_IOERR, "beyond the capacity");
	expect_status(parse3(VIRTIO_BLK_T_IN, ~0ull - 3, 0, 4096, &lim, &r), &r,
		      VIRTIO_BLK_S_IOERR, "beyond the capacity");
}

Test(front_blk_req, data_lengths_must_be_whole_sectors_within_the_limit)
{
	struct front_blk_req r;

	expect_status(parse3(VIRTIO_BLK_T_IN, 0, 0, 1000, &lim, &r), &r,
		      VIRTIO_BLK_S_IOERR, "multiple of 512");
	expect_status(parse3(VIRTIO_BLK_T_OUT, 0, 513, 0, &lim, &r), &r,
		      VIRTIO_BLK_S_IOERR, "multiple of 512");
	expect_status(parse3(VIRTIO_BLK_T_IN, 0, 0, 0, &lim, &r), &r,
		      VIRTIO_BLK_S_IOERR, "non-zero");
	expect_status(parse3(VIRTIO_BLK_T_IN, 0, 0, 64 * 1024 + 512, &lim, &r),
		      &r, VIRTIO_BLK_S_IOERR, "seg_max * size_max");
}

Test(front_blk_req, data_in_the_wrong_direction_gets_ioerr)
{
	bool dirs[] = {false, true, true};
	struct virtq_chain c;
	struct front_blk_req r;

	/* A read whose buffer the device may only read. */
	expect_status(parse3(VIRTIO_BLK_T_IN, 0, 512, 0, &lim, &r), &r,
		      VIRTIO_BLK_S_IOERR, "wrong direction");
	/* A write whose payload is device-writable. */
	expect_status(parse3(VIRTIO_BLK_T_OUT, 0, 0, 512, &lim, &r), &r,
		      VIRTIO_BLK_S_IOERR, "wrong direction");
	/* A flush with data. */
	c = CHAIN(16, 512, 1);
	put_hdr(BUF_GPA, VIRTIO_BLK_T_FLUSH, 0);
	expect_status(front_blk_req_parse(&mem, &c, &lim, &r), &r,
		      VIRTIO_BLK_S_IOERR, "data on a flush");
}

Test(front_blk_req, a_short_header_gets_ioerr_and_no_status_byte_breaks)
{
	bool dirs[] = {false, true};
	struct virtq_chain c = CHAIN(10, 1);
	struct front_blk_req r;

	expect_status(front_blk_req_parse(&mem, &c, &lim, &r), &r,
		      VIRTIO_BLK_S_IOERR, "header shorter");
	cr_assert_eq(r.status_off, 0);
	bool dirs2[] = {false, false};

	c = chain_of(2, (uint32_t[]){16, 512}, dirs2);
	cr_assert_eq(front_blk_req_parse(&mem, &c, &lim, &r), FRONT_BLK_BROKEN);
	cr_assert_not_null(strstr(r.why, "status byte"));
}

Test(front_blk_req, unknown_types_get_unsupp)
{
	struct front_blk_req r;

	expect_status(parse3(99, 0, 0, 512, &lim, &r), &r, VIRTIO_BLK_S_UNSUPP,
		      "unknown request type");
	expect_status(parse3(2 /* SCSI */, 0, 0, 0, &lim, &r), &r,
		      VIRTIO_BLK_S_UNSUPP, "unknown");
}

Test(front_blk_req, read_only_disks_refuse_writes_before_the_server)
{
	struct front_blk_limits ro = lim;
	struct front_blk_req r;

	ro.read_only = true;
	expect_status(parse3(VIRTIO_BLK_T_OUT, 0, 512, 0, &ro, &r), &r,
		      VIRTIO_BLK_S_IOERR, "read-only");
	cr_assert_eq(parse3(VIRTIO_BLK_T_IN, 0, 0, 512, &ro, &r),
		     FRONT_BLK_POST);
}

Test(front_blk_req, flush_and_get_id)
{
	struct front_blk_limits noflush = lim;
	struct front_blk_req r;

	cr_assert_eq(parse3(VIRTIO_BLK_T_FLUSH, 0, 0, 0, &lim, &r),
		     FRONT_BLK_POST);
	cr_assert_eq(r.req.op, IPC_OP_FLUSH);
	cr_assert_eq(r.arena_len, 0);
	noflush.flush = false;
	expect_status(parse3(VIRTIO_BLK_T_FLUSH, 0, 0, 0, &noflush, &r), &r,
		      VIRTIO_BLK_S_UNSUPP, "not offered");
	cr_assert_eq(parse3(VIRTIO_BLK_T_GET_ID, 0, 0, 20, &lim, &r),
		     FRONT_BLK_POST);
	cr_assert_eq(r.req.op, BLK_OP_GET_ID);
	cr_assert_eq(r.arena_len, 20);
	cr_assert_eq(parse3(VIRTIO_BLK_T_GET_ID, 0, 0, 64, &lim, &r),
		     FRONT_BLK_POST);
	cr_assert_eq(r.arena_len, 20, "never more than the 20 id bytes");
	cr_assert_eq(parse3(VIRTIO_BLK_T_GET_ID, 0, 0, 8, &lim, &r),
		     FRONT_BLK_POST);
	cr_assert_eq(r.arena_len, 8);
	expect_status(parse3(VIRTIO_BLK_T_GET_ID, 0, 0, 0, &lim, &r), &r,
		      VIRTIO_BLK_S_IOERR, "no buffer");
}

/* header | range | status, range at BUF_GPA + 16 */
static enum front_blk_verdict parse_dwz(uint32_t type, uint64_t sector,
					uint32_t count, uint32_t flags,
					const struct front_blk_limits *l,
					struct front_blk_req *r)
{
	bool dirs[] = {false, false, true};
	struct virtq_chain c = CHAIN(16, 16, 1);

	put_hdr(c.seg[0].gpa, type, 0);
	put_range(c.seg[1].gpa, sector, count, flags);
	return front_blk_req_parse(&mem, &c, l, r);
}

Test(front_blk_req, discard_and_write_zeroes_take_one_checked_range)
{
	struct front_blk_limits l = lim;
	struct front_blk_req r;

	cr_assert_eq(parse_dwz(VIRTIO_BLK_T_DISCARD, 8, 16, 0, &l, &r),
		     FRONT_BLK_POST);
	cr_assert_eq(r.req.op, BLK_OP_DISCARD);
	cr_assert_eq(r.req.args.blk.sector, 8);
	cr_assert_eq(r.req.args.blk.count, 16);
	cr_assert_eq(r.arena_len, 0);
	cr_assert_eq(parse_dwz(VIRTIO_BLK_T_WRITE_ZEROES, 0, 64,
			       FRONT_BLK_DWZ_F_UNMAP, &l, &r),
		     FRONT_BLK_POST);
	cr_assert_eq(r.req.op, BLK_OP_WRITE_ZEROES);
	expect_status(parse_dwz(VIRTIO_BLK_T_DISCARD, 0, 8,
				FRONT_BLK_DWZ_F_UNMAP, &l, &r),
		      &r, VIRTIO_BLK_S_UNSUPP, "flags");
	expect_status(parse_dwz(VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 2, &l, &r), &r,
		      VIRTIO_BLK_S_UNSUPP, "flags");
	expect_status(parse_dwz(VIRTIO_BLK_T_DISCARD, 0, 0, 0, &l, &r), &r,
		      VIRTIO_BLK_S_IOERR, "zero or above");
	expect_status(parse_dwz(VIRTIO_BLK_T_DISCARD, 0, 65, 0, &l, &r), &r,
		      VIRTIO_BLK_S_IOERR, "zero or above");
	expect_status(parse_dwz(VIRTIO_BLK_T_WRITE_ZEROES, CAPACITY - 1, 2, 0,
				&l, &r),
		      &r, VIRTIO_BLK_S_IOERR, "beyond the capacity");
	l.discard = false;
	expect_status(parse_dwz(VIRTIO_BLK_T_DISCARD, 0, 8, 0, &l, &r), &r,
		      VIRTIO_BLK_S_UNSUPP, "not offered");
	l = lim;
	l.read_only = true;
	expect_status(parse_dwz(VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0, &l, &r), &r,
		      VIRTIO_BLK_S_IOERR, "read-only");
}

Test(front_blk_req, two_ranges_get_ioerr)
{
	bool dirs[] = {false, false, false, true};
	struct virtq_chain c = CHAIN(16, 16, 16, 1);
	struct front_blk_req r;

	put_hdr(c.seg[0].gpa, VIRTIO_BLK_T_DISCARD, 0);
	put_range(c.seg[1].gpa, 0, 8, 0);
	put_range(c.seg[2].gpa, 8, 8, 0);
	expect_status(front_blk_req_parse(&mem, &c, &lim, &r), &r,
		      VIRTIO_BLK_S_IOERR, "one range");
}

Test(front_blk_req, completion_status_maps_to_the_status_byte)
{
	cr_assert_eq(front_blk_req_status(0), VIRTIO_BLK_S_OK);
	cr_assert_eq(front_blk_req_status(-EOPNOTSUPP), VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(front_blk_req_status(-EIO), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(front_blk_req_status(-ENOSPC), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(front_blk_req_status(-ERANGE), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(front_blk_req_status(-EROFS), VIRTIO_BLK_S_IOERR);
}

/* ---- READY checks ---- */

static struct disk_cfg disk;

static void ready_for(const struct ctl_blk_config *c, struct ctl_ready *r)
{
	memset(r, 0, sizeof(*r));
	r->features = blk_config_features(c);
	r->config_len =
		(uint32_t)blk_config_encode(c, r->config, sizeof(r->config));
}

static void disk_setup(bool ro)
{
	memset(&disk, 0, sizeof(disk));
	disk.fd = -1;
	disk.capacity = CAPACITY;
	disk.size = CAPACITY * 512;
	disk.read_only = ro;
	strcpy(disk.id, "test-disk");
}

static struct ctl_blk_config server_cfg(bool ro, uint64_t cap)
{
	return (struct ctl_blk_config){.capacity_sectors = cap,
				       .read_only = ro,
				       .block_size = 512,
				       .cache = CTL_CACHE_WRITEBACK};
}

static uint32_t cfg32(const struct front_blk *b, unsigned off)
{
	uint32_t v;

	memcpy(&v, b->config + off, 4);
	return v;
}

Test(front_blk_ready, the_real_servers_ready_is_accepted_and_clamped)
{
	static struct front_blk b;
	struct ctl_blk_config c = server_cfg(false, CAPACITY);
	struct ctl_ready r;
	char err[256];

	disk_setup(false);
	ready_for(&c, &r);
	cr_assert_eq(front_blk_init(&b, "blk0", &disk, &r, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(b.ops.device_id, VIRTIO_ID_BLOCK);
	cr_assert_eq(b.ops.queue_max[0], 256);
	cr_assert_eq(b.ops.nr_queues, 1);
	cr_assert_eq(b.ops.config_size, VIRTIO_BLK_CFG_LEN);
	cr_assert(b.lim.flush && b.lim.discard && b.lim.write_zeroes);
	cr_assert_eq(b.lim.capacity, CAPACITY);
	/* A chain holds header + status + 126 data segments at most: the
	 * server's 128 x 8 KiB become 64 x 16 KiB, still 1 MiB a request. */
	cr_assert_eq(cfg32(&b, VIRTIO_BLK_CFG_SEG_MAX), 64);
	cr_assert_eq(cfg32(&b, VIRTIO_BLK_CFG_SIZE_MAX), 16384);
	cr_assert_eq(b.lim.max_rw_bytes, 1u << 20);
	cr_assert_eq(cfg32(&b, VIRTIO_BLK_CFG_MAX_DISCARD_SEG), 1);
	cr_assert_eq(cfg32(&b, VIRTIO_BLK_CFG_MAX_ZEROES_SEG), 1);
}

Test(front_blk_ready, seg_max_within_a_chain_is_kept_as_it_is)
{
	static struct front_blk b;
	struct ctl_blk_config c = server_cfg(false, CAPACITY);
	struct ctl_ready r;
	char err[256];

	disk_setup(false);
	ready_for(&c, &r);
	r.config[VIRTIO_BLK_CFG_SEG_MAX] = 100;
	r.config[VIRTIO_BLK_CFG_SEG_MAX + 1] = 0;
	cr_assert_eq(front_blk_init(&b, "blk0", &disk, &r, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(cfg32(&b, VIRTIO_BLK_CFG_SEG_MAX), 100);
	cr_assert_eq(cfg32(&b, VIRTIO_BLK_CFG_SIZE_MAX), 8192);
	cr_assert_eq(b.lim.max_rw_bytes, 100 * 8192);
}

Test(front_blk_ready, a_read_only_disk_needs_the_ro_feature)
{
	static struct front_blk b;
	struct ctl_blk_config c = server_cfg(false, CAPACITY);
	struct ctl_ready r;
	char err[256];

	disk_setup(true);
	ready_for(&c, &r);
	cr_assert_eq(front_blk_init(&b, "blk0", &disk, &r, err, sizeof(err)),
		     -EPROTO);
	cr_assert_not_null(strstr(err, "read-only"), "%s", err);
	c = server_cfg(true, CAPACITY);
	ready_for(&c, &r);
	cr_assert_eq(front_blk_init(&b, "blk0", &disk, &r, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert(b.lim.read_only);
	cr_assert_not(b.lim.discard, "no discard on a read-only disk");
	disk_setup(false);
	cr_assert_eq(front_blk_init(&b, "blk0", &disk, &r, err, sizeof(err)),
		     -EPROTO, "RO offered for a writable disk");
}

Test(front_blk_ready, capacity_features_and_config_length_are_checked)
{
	static struct front_blk b;
	struct ctl_blk_config c = server_cfg(false, CAPACITY + 1);
	struct ctl_ready r;
	char err[256];

	disk_setup(false);
	ready_for(&c, &r);
	cr_assert_eq(front_blk_init(&b, "blk0", &disk, &r, err, sizeof(err)),
		     -EPROTO);
	cr_assert_not_null(strstr(err, "capacity 129"), "%s", err);
	c = server_cfg(false, CAPACITY);
	ready_for(&c, &r);
	r.features |= VIRTIO_BIT(VIRTIO_BLK_F_MQ);
	cr_assert_eq(front_blk_init(&b, "blk0", &disk, &r, err, sizeof(err)),
		     -EPROTO);
	cr_assert_not_null(strstr(err, "cannot serve"), "%s", err);
	ready_for(&c, &r);
	r.config_len = 20;
	cr_assert_eq(front_blk_init(&b, "blk0", &disk, &r, err, sizeof(err)),
		     -EPROTO);
	cr_assert_not_null(strstr(err, "config of 20 bytes"), "%s", err);
}

/* ---- crafted chains through transport, front and a fake server ---- */

static struct {
	struct front_blk b;
	struct virtio_mmio_dev mmio;
	pthread_mutex_t lock;
	struct iothread io; /* its loop never turns: no pass is deferred */
	struct ipc_dp_vmm dp;
	struct ipc_dp_srv srv;
	uint16_t avail_idx, used_seen, next_desc;
	uint8_t disk[CAPACITY * 512]; /* the fake server's image */
	int32_t force_status;	      /* next completions: this status */
	bool short_read;	      /* READ completes with fewer bytes */
	unsigned flushes;
	int log_lines;
	char last_log[256];
} t;

static void e2e_irq(void *opaque, bool level)
{
	(void)opaque;
	(void)level;
}

static void e2e_log(void *opaque, const char *line)
{
	(void)opaque;
	t.log_lines++;
	snprintf(t.last_log, sizeof(t.last_log), "%s", line);
}

static void wr(uint64_t off, uint32_t v)
{
	cr_assert_eq(virtio_mmio_write(&t.mmio, off, &v, 4), 0, "reg %#llx",
		     (unsigned long long)off);
}

static uint32_t rd(uint64_t off)
{
	uint32_t v = 0;

	virtio_mmio_read(&t.mmio, off, &v, 4);
	return v;
}

/* The driver side of a device bring-up: features, queue 0, DRIVER_OK. */
static void e2e_bring_up(void)
{
	uint64_t f = t.b.features | VIRTIO_BIT(VIRTIO_F_VERSION_1);

	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE |
				       VIRTIO_STATUS_DRIVER |
				       VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	cr_assert_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QSIZE);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC_GPA);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)AVAIL_GPA);
	wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)USED_GPA);
	wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	wr(VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	cr_assert(virtio_mmio_running(&t.mmio));
}

static void e2e_setup(void)
{
	struct ctl_blk_config c = server_cfg(false, CAPACITY);
	struct ipc_geom g = {128, 128, 4096, 256};
	struct ctl_ready r;
	char err[256];

	mem_setup();
	memset(&t, 0, sizeof(t));
	disk_setup(false);
	ready_for(&c, &r);
	cr_assert_eq(front_blk_init(&t.b, "blk0", &disk, &r, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(pthread_mutex_init(&t.lock, NULL), 0);
	cr_assert_eq(ipc_dp_vmm_open(&t.dp, &g, 1), 0);
	cr_assert_eq(ipc_dp_srv_open(&t.srv, t.dp.reg.fd, t.dp.srv_kick_fd,
				     t.dp.srv_call_fd, NULL),
		     0);
	cr_assert_eq(virtio_mmio_init(&t.mmio, "blk0", &t.b.ops, &t.b, &mem,
				      e2e_irq, e2e_log, NULL),
		     0);
	cr_assert_eq(iothread_init(&t.io), 0);
	cr_assert_eq(front_init(&t.b.front, &front_blk_front_ops, &t.b, &t.mmio,
				&t.lock, &t.dp, &t.io, 1, QSIZE),
		     0);
	for (unsigned i = 0; i < sizeof(t.disk); i++)
		t.disk[i] = (uint8_t)(i * 7 + 3);
	e2e_bring_up();
}

static void e2e_teardown(void)
{
	front_fini(&t.b.front);
	iothread_fini(&t.io);
	ipc_dp_srv_close(&t.srv);
	ipc_dp_vmm_close(&t.dp);
	pthread_mutex_destroy(&t.lock);
	mem_teardown();
}

/* Guest driver: publish a chain of segments; returns its head. */
static uint16_t post(unsigned n, const gpa_t *gpa, const uint32_t *len,
		     const bool *write)
{
	struct virtq_desc *d = gptr(DESC_GPA, VIRTQ_DESC_BYTES(QSIZE));
	uint16_t *avail = gptr(AVAIL_GPA, VIRTQ_AVAIL_BYTES(QSIZE));
	uint16_t head = t.next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t at = (uint16_t)((head + i) % QSIZE);

		d[at] = (struct virtq_desc){
			.addr = gpa[i],
			.len = len[i],
			.flags =
				(uint16_t)((write[i] ? VIRTQ_DESC_F_WRITE : 0) |
					   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			.next = (uint16_t)((at + 1) % QSIZE),
		};
	}
	t.next_desc = (uint16_t)((head + n) % QSIZE);
	avail[2 + t.avail_idx % QSIZE] = head;
	__atomic_store_n(&avail[1], ++t.avail_idx, __ATOMIC_RELEASE);
	return head;
}

/* header at base, data at base + 0x1000, status at base + 0xfff */
static uint16_t post_rw(gpa_t base, uint32_t type, uint64_t sector,
			uint32_t len)
{
	bool in = type != VIRTIO_BLK_T_OUT;

	put_hdr(base, type, sector);
	*(uint8_t *)gptr(base + 0xfff, 1) = 0xee;
	return post(3, (gpa_t[]){base, base + 0x1000, base + 0xfff},
		    (uint32_t[]){16, len, 1}, (bool[]){false, in, true});
}

static void kick(void)
{
	pthread_mutex_lock(&t.lock);
	virtio_mmio_notify(&t.mmio, 0);
	pthread_mutex_unlock(&t.lock);
}

/* The fake isovm-blk: serve every posted request; returns how many. */
static int serve(void)
{
	struct ipc_req req[128];
	struct ipc_cpl cpl[128];
	int n = ipc_dp_srv_next(&t.srv, req, 128);

	cr_assert_geq(n, 0);
	for (int i = 0; i < n; i++) {
		uint8_t *buf = ipc_dp_srv_buf(&t.srv, &req[i]);
		uint64_t off = req[i].args.blk.sector * 512;

		memset(&cpl[i], 0, sizeof(cpl[i]));
		cpl[i].id = req[i].id;
		if (t.force_status) {
			cpl[i].status = t.force_status;
			continue;
		}
		switch (req[i].op) {
		case IPC_OP_READ:
			memcpy(buf, t.disk + off, req[i].arena_len);
			cpl[i].len =
				req[i].arena_len - (t.short_read ? 512 : 0);
			break;
		case IPC_OP_WRITE:
			memcpy(t.disk + off, buf, req[i].arena_len);
			break;
		case IPC_OP_FLUSH:
			t.flushes++;
			break;
		case BLK_OP_GET_ID:
			memset(buf, 0, req[i].arena_len);
			memcpy(buf, "fake-id", 7);
			cpl[i].len = req[i].arena_len;
			break;
		default:
			cpl[i].status = -EOPNOTSUPP;
		}
	}
	cr_assert_eq(ipc_dp_srv_complete(&t.srv, cpl, (unsigned)n), n);
	return n;
}

static uint16_t used_count(void)
{
	uint16_t *used = gptr(USED_GPA, VIRTQ_USED_BYTES(QSIZE));

	return __atomic_load_n(&used[1], __ATOMIC_ACQUIRE);
}

static struct virtq_used_elem used_elem(uint16_t i)
{
	struct virtq_used_elem *e = gptr(USED_GPA + 4, 8 * QSIZE);

	return e[i % QSIZE];
}

static uint8_t status_at(gpa_t base)
{
	return *(uint8_t *)gptr(base + 0xfff, 1);
}

#define REQ(i) (BUF_GPA + (gpa_t)(i)*0x20000)

TestSuite(front_blk, .init = e2e_setup, .fini = e2e_teardown);

Test(front_blk, a_read_copies_the_servers_data_into_the_guest)
{
	uint16_t head = post_rw(REQ(0), VIRTIO_BLK_T_IN, 4, 4096);

	kick();
	cr_assert_eq(used_count(), 0, "not done before the server answers");
	cr_assert_eq(serve(), 1);
	cr_assert_eq(front_reap(&t.b.front), 1);
	cr_assert_eq(used_count(), 1);
	cr_assert_eq(used_elem(0).id, head);
	cr_assert_eq(used_elem(0).len, 4097, "data and status written");
	cr_assert_eq(status_at(REQ(0)), VIRTIO_BLK_S_OK);
	cr_assert_eq(
		memcmp(gptr(REQ(0) + 0x1000, 4096), t.disk + 4 * 512, 4096), 0);
}

Test(front_blk, a_write_carries_the_guest_payload_to_the_server)
{
	memset(gptr(REQ(0) + 0x1000, 1024), 0x5a, 1024);
	post_rw(REQ(0), VIRTIO_BLK_T_OUT, 100, 1024);
	kick();
	cr_assert_eq(serve(), 1);
	cr_assert_eq(front_reap(&t.b.front), 1);
	cr_assert_eq(status_at(REQ(0)), VIRTIO_BLK_S_OK);
	cr_assert_eq(used_elem(0).len, 1);
	for (int i = 0; i < 1024; i++)
		cr_assert_eq(t.disk[100 * 512 + i], 0x5a);
	cr_assert_neq(t.disk[101 * 512 + 512], 0x5a, "not one byte more");
}

Test(front_blk, out_of_range_and_unknown_requests_never_reach_the_server)
{
	post_rw(REQ(0), VIRTIO_BLK_T_IN, CAPACITY, 512);
	post_rw(REQ(1), VIRTIO_BLK_T_OUT, CAPACITY - 1, 1024);
	post_rw(REQ(2), 77, 0, 512);
	kick();
	cr_assert_eq(serve(), 0, "nothing was posted");
	cr_assert_eq(used_count(), 3, "answered at once");
	cr_assert_eq(status_at(REQ(0)), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status_at(REQ(1)), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status_at(REQ(2)), VIRTIO_BLK_S_UNSUPP);
	cr_assert_not(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	cr_assert_gt(t.b.st[FRONT_BLK_ST_IN].errors, 0);
}

Test(front_blk, a_chain_without_a_status_byte_puts_the_device_in_needs_reset)
{
	put_hdr(REQ(0), VIRTIO_BLK_T_IN, 0);
	post(2, (gpa_t[]){REQ(0), REQ(0) + 0x1000}, (uint32_t[]){16, 512},
	     (bool[]){false, false});
	kick();
	cr_assert(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	cr_assert_not_null(strstr(t.last_log, "status byte"), "%s", t.last_log);
	cr_assert_eq(serve(), 0);
	cr_assert_eq(used_count(), 0);
}

Test(front_blk, server_errors_become_ioerr_or_unsupp)
{
	t.force_status = -ENOSPC;
	post_rw(REQ(0), VIRTIO_BLK_T_OUT, 0, 512);
	kick();
	cr_assert_eq(serve(), 1);
	front_reap(&t.b.front);
	cr_assert_eq(status_at(REQ(0)), VIRTIO_BLK_S_IOERR);
	t.force_status = -EOPNOTSUPP;
	post_rw(REQ(1), VIRTIO_BLK_T_IN, 0, 512);
	kick();
	cr_assert_eq(serve(), 1);
	front_reap(&t.b.front);
	cr_assert_eq(status_at(REQ(1)), VIRTIO_BLK_S_UNSUPP);
}

Test(front_blk, a_short_read_is_an_error_and_leaves_the_guest_buffer)
{
	memset(gptr(REQ(0) + 0x1000, 2048), 0xcc, 2048);
	t.short_read = true;
	post_rw(REQ(0), VIRTIO_BLK_T_IN, 0, 2048);
	kick();
	cr_assert_eq(serve(), 1);
	front_reap(&t.b.front);
	cr_assert_eq(status_at(REQ(0)), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(*(uint8_t *)gptr(REQ(0) + 0x1000, 1), 0xcc);
}

Test(front_blk, flush_and_get_id_round_trip)
{
	uint8_t *id = gptr(REQ(1) + 0x1000, 20);

	put_hdr(REQ(0), VIRTIO_BLK_T_FLUSH, 0);
	post(2, (gpa_t[]){REQ(0), REQ(0) + 0xfff}, (uint32_t[]){16, 1},
	     (bool[]){false, true});
	post_rw(REQ(1), VIRTIO_BLK_T_GET_ID, 0, 20);
	kick();
	cr_assert_eq(serve(), 2);
	front_reap(&t.b.front);
	cr_assert_eq(t.flushes, 1);
	cr_assert_eq(status_at(REQ(0)), VIRTIO_BLK_S_OK);
	cr_assert_eq(status_at(REQ(1)), VIRTIO_BLK_S_OK);
	cr_assert_eq(memcmp(id, "fake-id\0", 8), 0);
}

Test(front_blk, many_requests_are_in_flight_at_once)
{
	/* 64 reads of 8 KiB: more than queue depth 32, all posted before
	 * the server answers any. */
	for (int i = 0; i < 64; i++)
		post_rw(REQ(i), VIRTIO_BLK_T_IN, (uint64_t)(i % 8) * 16, 8192);
	kick();
	cr_assert_eq(serve(), 64);
	cr_assert_eq(front_reap(&t.b.front), 64);
	cr_assert_eq(used_count(), 64);
	for (int i = 0; i < 64; i++)
		cr_assert_eq(status_at(REQ(i)), VIRTIO_BLK_S_OK, "req %d", i);
}

Test(front_blk, a_full_arena_stalls_and_resumes_without_losing_chains)
{
	/* The test arena holds 1 MiB: 40 requests of 64 KiB cannot all be
	 * in flight; the rest wait and go out after completions. */
	for (int i = 0; i < 40; i++)
		post_rw(REQ(i), VIRTIO_BLK_T_IN, 0, 65536);
	kick();
	cr_assert_eq(serve(), 16);
	cr_assert_eq(front_reap(&t.b.front), 16);
	cr_assert_eq(serve(), 16);
	cr_assert_eq(front_reap(&t.b.front), 16);
	cr_assert_eq(serve(), 8);
	cr_assert_eq(front_reap(&t.b.front), 8);
	cr_assert_eq(used_count(), 40);
	cr_assert_eq(status_at(REQ(39)), VIRTIO_BLK_S_OK);
}

Test(front_blk, counters_and_their_log_line)
{
	char line[512];

	post_rw(REQ(0), VIRTIO_BLK_T_IN, 0, 4096);
	post_rw(REQ(1), VIRTIO_BLK_T_OUT, 8, 512);
	put_hdr(REQ(2), VIRTIO_BLK_T_FLUSH, 0);
	post(2, (gpa_t[]){REQ(2), REQ(2) + 0xfff}, (uint32_t[]){16, 1},
	     (bool[]){false, true});
	post_rw(REQ(3), VIRTIO_BLK_T_IN, CAPACITY, 512);
	kick();
	serve();
	front_reap(&t.b.front);
	front_blk_stats_line(t.b.st, "blk0", line, sizeof(line));
	cr_assert_str_eq(line, "blk0 stats: in=2/4096 out=1/512 flush=1 "
			       "get_id=0 discard=0/0 write_zeroes=0/0 "
			       "other=0 errors=1");
}

/* ---- the server's counters over its control socket ---- */

Test(front_blk_server, stats_come_from_the_servers_stats_reply)
{
	static struct front_blk b;
	struct ctl_msg m = {.type = CTL_STATS_REPLY}, got;
	int sv[2], fds[CTL_SETUP_MAX_FDS];
	struct ctl_stats st;
	unsigned nfds;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	snprintf(b.name, sizeof(b.name), "blk0");
	b.sup_up = true;
	b.sup.ctl_fd = sv[0];
	atomic_store(&b.sup.alive, true);
	m.u.stats.nops = 1;
	m.u.stats.ops[0] =
		(struct ctl_op_stats){CTL_OP_READ, 5, 2560, 1, 100, 50, {0}};
	/* The reply is already queued: the call must send its request and
	 * then read this reply, which answers request 1, the first. */
	m.seq = 1;
	cr_assert_eq(ctl_send(sv[1], &m, NULL, 0), 0);
	cr_assert_eq(front_blk_server_stats(&b, &st, true, 1000), 0);
	cr_assert_eq(st.nops, 1);
	cr_assert_eq(st.ops[0].op, CTL_OP_READ);
	cr_assert_eq(st.ops[0].requests, 5);
	cr_assert_eq(st.ops[0].bytes, 2560);
	cr_assert_eq(ctl_recv(sv[1], &got, fds, CTL_SETUP_MAX_FDS, &nfds), 0);
	cr_assert_eq(got.type, CTL_STATS_REQUEST);
	cr_assert_eq(got.seq, 1);
	cr_assert(got.u.stats_request.reset);
	close(sv[0]);
	close(sv[1]);
}

Test(front_blk_server, no_reply_a_wrong_reply_or_no_server_are_errors)
{
	static struct front_blk b;
	struct ctl_msg m = {.type = CTL_ERROR};
	struct ctl_stats st;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	snprintf(b.name, sizeof(b.name), "blk0");
	cr_assert_eq(front_blk_server_stats(&b, &st, false, 10), -ESRCH);
	b.sup_up = true;
	b.sup.ctl_fd = sv[0];
	atomic_store(&b.sup.alive, true);
	cr_assert_eq(front_blk_server_stats(&b, &st, false, 50), -ETIMEDOUT);
	m.u.error.code = EIO;
	snprintf(m.u.error.text, sizeof(m.u.error.text), "disk gone");
	cr_assert_eq(ctl_send(sv[1], &m, NULL, 0), 0);
	cr_assert_eq(front_blk_server_stats(&b, &st, false, 1000), -EPROTO);
	atomic_store(&b.sup.alive, false);
	cr_assert_eq(front_blk_server_stats(&b, &st, false, 10), -ESRCH);
	close(sv[0]);
	close(sv[1]);
}

Test(front_blk_server, the_server_line_names_fdatasync_and_per_op_counts)
{
	struct ctl_stats st = {.nops = 3, .nextra = 2};
	char line[512];

	st.ops[0] = (struct ctl_op_stats){CTL_OP_READ, 4, 2048, 1, 0, 0, {0}};
	st.ops[1] = (struct ctl_op_stats){CTL_OP_FLUSH, 2, 0, 0, 0, 0, {0}};
	st.ops[2] = (struct ctl_op_stats){CTL_OP_ANY, 1, 0, 1, 0, 0, {0}};
	st.extra[0] = (struct ctl_kv){"rejected", 1};
	st.extra[1] = (struct ctl_kv){"syncs", 2};
	front_blk_server_line(&st, "blk1", line, sizeof(line));
	cr_assert_str_eq(line, "blk1 server stats: fdatasync=2 read=4/2048 "
			       "write=0/0 flush=2 get_id=0 other=1 errors=2");
	st.nextra = 1;
	front_blk_server_line(&st, "blk1", line, sizeof(line));
	cr_assert_not_null(strstr(line, "fdatasync=-1 "), "%s", line);
}
