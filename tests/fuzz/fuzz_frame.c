/*
 * fuzz_frame.c: hostile datagrams (with 0..7 fds, chosen by the first byte)
 * through a SOCK_SEQPACKET pair into ctl_recv. Whatever happens, no fd may
 * stay open afterwards: the lowest free fd number must not move.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/ctl_channel.h"
#include "ipc/frame.h"

static int fz_sock[2] = { -1, -1 };
static int fz_null = -1;

static void fuzz_frame_init(void)
{
	int big = 1 << 20;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fz_sock))
		abort();
	setsockopt(fz_sock[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	fz_null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fz_null < 0)
		abort();
}

static int fuzz_lowest_free_fd(void)
{
	int fd = dup(fz_null);

	if (fd < 0)
		abort();
	close(fd);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fds[8], got[CTL_SETUP_MAX_FDS];
	unsigned nfds, n;
	struct ctl_msg m;
	int before, ret;

	if (fz_null < 0)
		fuzz_frame_init();
	if (size == 0)
		return 0;
	nfds = data[0] % 8;
	for (unsigned i = 0; i < nfds; i++)
		fds[i] = fz_null;
	before = fuzz_lowest_free_fd();
	/* An empty payload is allowed here: the receiver must cope. */
	if (fdpass_send(fz_sock[0], data + 1, size - 1, fds, nfds))
		abort();
	ret = ctl_recv(fz_sock[1], &m, got, CTL_SETUP_MAX_FDS, &n);
	if (ret == 0)
		fdpass_close(got, n);
	else if (n != 0)
		abort();
	if (fuzz_lowest_free_fd() != before)
		abort();
	return 0;
}

/* Selector for 2 fds + a Setup announcing a memfd and a kick eventfd. */
size_t LLVMFuzzerSeed(uint8_t *buf, size_t cap)
{
	struct ctl_msg m;
	int len;

	if (cap < 2)
		return 0;
	memset(&m, 0, sizeof(m));
	m.type = CTL_SETUP;
	m.u.setup.dev_type = CTL_DEV_NET;
	memcpy(m.u.setup.cfg.net.mac, "\x52\x54\x00\xaa\xbb\xcc", 6);
	m.u.setup.geo = (struct ctl_geometry){ .sq_entries = 64,
					       .cq_entries = 64,
					       .arena_slot_size = 1024,
					       .arena_slots = 64,
					       .region_size = 1 << 20 };
	m.u.setup.nfds = 2;
	m.u.setup.fds[0] = CTL_FD_MEMFD;
	m.u.setup.fds[1] = CTL_FD_KICK;
	buf[0] = 2;
	len = ctl_msg_encode(&m, buf + 1, cap - 1);
	return len > 0 ? (size_t)len + 1 : 0;
}
