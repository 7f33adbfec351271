/* test_frame.c: framing limits and the typed channels on a socketpair. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/fd_count.h"
#include "ipc/api_channel.h"
#include "ipc/ctl_channel.h"
#include "ipc/frame.h"
#include "proto/proto_version.h"

static int sp[2];

static void frame_setup(void)
{
	int big = 4 << 20;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp),
		     0);
	/* Room for deliberately oversized datagrams. */
	setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
}

static void frame_teardown(void)
{
	close(sp[0]);
	close(sp[1]);
}

TestSuite(frame, .init = frame_setup, .fini = frame_teardown);
TestSuite(ctl_channel, .init = frame_setup, .fini = frame_teardown);
TestSuite(api_channel, .init = frame_setup, .fini = frame_teardown);

/* Raw datagram of len bytes with nfds fresh fds, which we close here. */
static void raw_send(const void *buf, size_t len, unsigned nfds)
{
	int fds[8];

	for (unsigned i = 0; i < nfds; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	cr_assert_eq(fdpass_send(sp[0], buf, len, fds, nfds), 0);
	fdpass_close(fds, nfds);
}

Test(frame, payload_and_fds_round_trip)
{
	uint8_t in[100], out[FRAME_MAX];
	int fd = eventfd(0, EFD_CLOEXEC), got[2];
	unsigned n;

	for (int i = 0; i < 100; i++)
		in[i] = (uint8_t)i;
	cr_assert_eq(frame_send(sp[0], in, sizeof(in), &fd, 1), 0);
	cr_assert_eq(frame_recv(sp[1], out, sizeof(out), got, 2, &n), 100);
	cr_assert_eq(n, 1);
	cr_assert_arr_eq(in, out, 100);
	close(got[0]);
	close(fd);
}

Test(frame, message_at_the_limit_passes)
{
	static uint8_t in[FRAME_MAX], out[FRAME_MAX];
	unsigned n;

	memset(in, 0xa5, sizeof(in));
	cr_assert_eq(frame_send(sp[0], in, sizeof(in), NULL, 0), 0);
	cr_assert_eq(frame_recv(sp[1], out, sizeof(out), NULL, 0, &n),
		     FRAME_MAX);
	cr_assert_arr_eq(in, out, FRAME_MAX);
}

Test(frame, oversized_send_refused)
{
	static uint8_t in[FRAME_MAX + 1];

	cr_assert_eq(frame_send(sp[0], in, sizeof(in), NULL, 0), -EMSGSIZE);
}

Test(frame, oversized_datagram_rejected_and_fds_closed)
{
	static uint8_t in[FRAME_MAX + 100], out[FRAME_MAX];
	int got[4], before;
	unsigned n;

	raw_send(in, sizeof(in), 2);
	before = open_fd_count();
	cr_assert_eq(frame_recv(sp[1], out, sizeof(out), got, 4, &n),
		     -EMSGSIZE);
	cr_assert_eq(n, 0);
	cr_assert_eq(open_fd_count(), before);
}

Test(frame, truncated_datagram_rejected_and_fds_closed)
{
	uint8_t in[200] = { 1 }, out[100];
	int got[4], before;
	unsigned n;

	raw_send(in, sizeof(in), 3);
	before = open_fd_count();
	cr_assert_eq(frame_recv(sp[1], out, sizeof(out), got, 4, &n),
		     -ENOBUFS);
	cr_assert_eq(n, 0);
	cr_assert_eq(open_fd_count(), before);
	/* The next datagram is intact: one bad frame does not desync. */
	cr_assert_eq(frame_send(sp[0], in, 50, NULL, 0), 0);
	cr_assert_eq(frame_recv(sp[1], out, sizeof(out), got, 4, &n), 50);
}

Test(frame, empty_frames_refused_both_ways)
{
	uint8_t out[16] = { 0 };
	int got[4], before;
	unsigned n;

	cr_assert_eq(frame_send(sp[0], out, 0, NULL, 0), -EINVAL);
	/* A hostile peer's empty datagram with fds: treated as a hang-up. */
	raw_send(out, 0, 2);
	before = open_fd_count();
	cr_assert_eq(frame_recv(sp[1], out, sizeof(out), got, 4, &n), -EPIPE);
	cr_assert_eq(n, 0);
	cr_assert_eq(open_fd_count(), before);
}

Test(frame, peer_gone_is_epipe)
{
	uint8_t out[16];
	unsigned n;

	close(sp[0]);
	sp[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert_eq(frame_recv(sp[1], out, sizeof(out), NULL, 0, &n), -EPIPE);
	cr_assert_eq(frame_send(sp[1], out, 1, NULL, 0), -EPIPE);
}

Test(frame, nonblocking_empty_socket_is_eagain)
{
	uint8_t out[16];
	unsigned n;

	cr_assert_eq(fcntl(sp[1], F_SETFL, O_NONBLOCK), 0);
	cr_assert_eq(frame_recv(sp[1], out, sizeof(out), NULL, 0, &n),
		     -EAGAIN);
}

Test(frame, fd_count_abuse_closes_all)
{
	uint8_t out[16];
	int got[2], before;
	unsigned n;

	raw_send("x", 1, 8);
	before = open_fd_count();
	cr_assert_eq(frame_recv(sp[1], out, sizeof(out), got, 2, &n),
		     -ETOOMANYREFS);
	cr_assert_eq(open_fd_count(), before);
}

static struct ctl_msg setup_msg(unsigned nfds)
{
	static const enum ctl_fd_role roles[] = { CTL_FD_MEMFD, CTL_FD_KICK,
						  CTL_FD_CALL, CTL_FD_BACKEND };
	struct ctl_msg m;

	memset(&m, 0, sizeof(m));
	m.type = CTL_SETUP;
	m.u.setup.dev_type = CTL_DEV_CONSOLE;
	m.u.setup.cfg.console.backend = CTL_CONSOLE_PTY;
	m.u.setup.geo = (struct ctl_geometry){ .sq_entries = 64,
					       .cq_entries = 64,
					       .arena_slot_size = 1024,
					       .arena_slots = 64,
					       .region_size = 1 << 20 };
	m.u.setup.nfds = nfds;
	memcpy(m.u.setup.fds, roles, sizeof(roles[0]) * nfds);
	return m;
}

Test(ctl_channel, setup_with_its_fds_round_trips)
{
	struct ctl_msg in = setup_msg(3), out;
	int fds[3], got[CTL_SETUP_MAX_FDS];
	unsigned n;

	for (int i = 0; i < 3; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	cr_assert_eq(ctl_send(sp[0], &in, fds, 3), 0);
	cr_assert_eq(ctl_recv(sp[1], &out, got, CTL_SETUP_MAX_FDS, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(out.type, CTL_SETUP);
	cr_assert_eq(out.u.setup.fds[2], CTL_FD_CALL);
	cr_assert_eq(out.u.setup.geo.arena_slots, 64);
	fdpass_close(got, 3);
	fdpass_close(fds, 3);
}

Test(ctl_channel, setup_geometry_maps_a_real_region)
{
	struct ctl_msg in = setup_msg(1), out;
	struct ipc_geom g = { .sq_entries = 128, .cq_entries = 128,
			      .arena_slot_size = 4096, .arena_slots = 32 };
	struct ipc_region vmm = { 0 }, srv = { 0 };
	struct ipc_geom expect;
	int got[1];
	unsigned n;

	cr_assert_eq(ipc_region_create(&vmm, &g, 1), 0);
	ctl_geometry_from_ipc(&g, vmm.size, &in.u.setup.geo);
	cr_assert_eq(ctl_send(sp[0], &in, &vmm.fd, 1), 0);
	cr_assert_eq(ctl_recv(sp[1], &out, got, 1, &n), 0);
	ctl_geometry_to_ipc(&out.u.setup.geo, &expect);
	cr_assert_eq(ipc_region_map(&srv, got[0], &expect), 0);
	cr_assert_eq(srv.size, out.u.setup.geo.region_size);
	close(got[0]);
	ipc_region_close(&srv);
	ipc_region_close(&vmm);
}

Test(ctl_channel, send_refuses_fd_count_mismatch)
{
	struct ctl_msg in = setup_msg(2), hello;
	int fds[3] = { 0, 1, 2 };

	cr_assert_eq(ctl_send(sp[0], &in, fds, 3), -EINVAL);
	cr_assert_eq(ctl_send(sp[0], &in, fds, 1), -EINVAL);
	memset(&hello, 0, sizeof(hello));
	hello.type = CTL_HELLO;
	hello.u.hello.version = ISOVM_PROTO_VERSION;
	hello.u.hello.role = CTL_ROLE_VMM;
	cr_assert_eq(ctl_send(sp[0], &hello, fds, 1), -EINVAL);
}

/* Encode a valid message, but attach nfds fds behind ctl_send's back. */
static void ctl_raw_send(const struct ctl_msg *m, unsigned nfds)
{
	uint8_t buf[CTL_MSG_MAX];
	int len = ctl_msg_encode(m, buf, sizeof(buf));

	cr_assert_gt(len, 0);
	raw_send(buf, (size_t)len, nfds);
}

Test(ctl_channel, more_fds_than_announced_rejected_without_leak)
{
	struct ctl_msg in = setup_msg(2), out;
	int got[CTL_SETUP_MAX_FDS], before;
	unsigned n;

	ctl_raw_send(&in, 3);
	before = open_fd_count();
	cr_assert_eq(ctl_recv(sp[1], &out, got, CTL_SETUP_MAX_FDS, &n),
		     -ETOOMANYREFS);
	cr_assert_eq(n, 0);
	cr_assert_eq(open_fd_count(), before);
}

Test(ctl_channel, fewer_fds_than_announced_rejected_without_leak)
{
	struct ctl_msg in = setup_msg(3), out;
	int got[CTL_SETUP_MAX_FDS], before;
	unsigned n;

	ctl_raw_send(&in, 2);
	before = open_fd_count();
	cr_assert_eq(ctl_recv(sp[1], &out, got, CTL_SETUP_MAX_FDS, &n),
		     -EPROTO);
	cr_assert_eq(open_fd_count(), before);
}

Test(ctl_channel, fds_on_a_message_without_fds_rejected)
{
	struct ctl_msg in, out;
	int got[CTL_SETUP_MAX_FDS], before;
	unsigned n;

	memset(&in, 0, sizeof(in));
	in.type = CTL_RESET;
	ctl_raw_send(&in, 1);
	before = open_fd_count();
	cr_assert_eq(ctl_recv(sp[1], &out, got, CTL_SETUP_MAX_FDS, &n),
		     -ETOOMANYREFS);
	cr_assert_eq(open_fd_count(), before);
}

Test(ctl_channel, garbage_rejected_and_fds_closed)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x42 };
	struct ctl_msg out;
	int got[CTL_SETUP_MAX_FDS], before;
	unsigned n;

	raw_send(junk, sizeof(junk), 2);
	before = open_fd_count();
	cr_assert_eq(ctl_recv(sp[1], &out, got, CTL_SETUP_MAX_FDS, &n),
		     -EBADMSG);
	cr_assert_eq(open_fd_count(), before);
}

Test(ctl_channel, frame_above_message_limit_rejected)
{
	static uint8_t big[CTL_MSG_MAX + 1];
	struct ctl_msg out;
	unsigned n;

	raw_send(big, sizeof(big), 0);
	cr_assert_eq(ctl_recv(sp[1], &out, NULL, 0, &n), -ENOBUFS);
}

Test(ctl_channel, error_report_is_sanitized_and_bounded)
{
	char long_text[600];
	struct ctl_msg out;
	unsigned n;

	memset(long_text, 'L', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	cr_assert_eq(ctl_send_error(sp[0], -ENOSPC, "disk\tfull\n"), 0);
	cr_assert_eq(ctl_recv(sp[1], &out, NULL, 0, &n), 0);
	cr_assert_eq(out.type, CTL_ERROR);
	cr_assert_eq(out.u.error.code, ENOSPC);
	cr_assert_str_eq(out.u.error.text, "disk?full?");
	cr_assert_eq(ctl_send_error(sp[0], 0, "%s", long_text), 0);
	cr_assert_eq(ctl_recv(sp[1], &out, NULL, 0, &n), 0);
	cr_assert_eq(out.u.error.code, EIO);
	cr_assert_eq(strlen(out.u.error.text), CTL_TEXT_MAX);
}

Test(api_channel, request_and_reply_cross)
{
	struct api_req rq, rq_out;
	struct api_reply rp, rp_out;

	memset(&rq, 0, sizeof(rq));
	rq.type = API_REQ_KILL;
	strcpy(rq.dev, "blk0");
	cr_assert_eq(api_req_send(sp[0], &rq), 0);
	cr_assert_eq(api_req_recv(sp[1], &rq_out), 0);
	cr_assert_eq(rq_out.type, API_REQ_KILL);
	cr_assert_str_eq(rq_out.dev, "blk0");

	memset(&rp, 0, sizeof(rp));
	rp.type = API_REPLY_ERROR;
	rp.u.error.code = ENOENT;
	strcpy(rp.u.error.text, "no such device");
	cr_assert_eq(api_reply_send(sp[1], &rp), 0);
	cr_assert_eq(api_reply_recv(sp[0], &rp_out), 0);
	cr_assert_eq(rp_out.u.error.code, ENOENT);
	cr_assert_str_eq(rp_out.u.error.text, "no such device");
}

Test(api_channel, any_fd_on_the_api_socket_is_refused)
{
	struct api_req rq;
	uint8_t buf[API_MSG_MAX];
	int len, before;

	memset(&rq, 0, sizeof(rq));
	rq.type = API_REQ_STATUS;
	len = api_req_encode(&rq, buf, sizeof(buf));
	cr_assert_gt(len, 0);
	raw_send(buf, (size_t)len, 1);
	before = open_fd_count();
	cr_assert_eq(api_req_recv(sp[1], &rq), -ETOOMANYREFS);
	cr_assert_eq(open_fd_count(), before);
}
