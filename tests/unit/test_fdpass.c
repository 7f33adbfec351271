/* test_fdpass.c: fds cross a SOCK_SEQPACKET pair intact; abuse leaks none. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/fd_count.h"
#include "ipc/fdpass.h"

static int sp[2];

static void fdpass_setup(void)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp),
		     0);
}

static void fdpass_teardown(void)
{
	close(sp[0]);
	close(sp[1]);
}

TestSuite(fdpass, .init = fdpass_setup, .fini = fdpass_teardown);

static void assert_same_file(int a, int b)
{
	struct stat sa, sb;

	cr_assert_eq(fstat(a, &sa), 0);
	cr_assert_eq(fstat(b, &sb), 0);
	cr_assert_eq(sa.st_dev, sb.st_dev);
	cr_assert_eq(sa.st_ino, sb.st_ino);
}

/* Send n raw fds with sendmsg, beyond what fdpass_send would allow. */
static void raw_send_fds(int sock, const int *fds, unsigned n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 32)];
	char byte = 'x';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = CMSG_SPACE(sizeof(int) * n) };
	struct cmsghdr *c;

	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	cr_assert_eq(sendmsg(sock, &mh, 0), 1);
}

Test(fdpass, memfd_arrives_and_shares_contents)
{
	int mfd = memfd_create("fdpass", MFD_CLOEXEC), got[1];
	char buf[8] = { 0 };
	unsigned n;

	cr_assert_geq(mfd, 0);
	cr_assert_eq(fdpass_send(sp[0], "hi", 2, &mfd, 1), 0);
	cr_assert_eq(fdpass_recv(sp[1], buf, sizeof(buf), got, 1, &n), 2);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(buf, "hi");
	cr_assert_neq(got[0], mfd);
	assert_same_file(mfd, got[0]);
	/* A write through one is seen through the other. */
	cr_assert_eq(pwrite(mfd, "data", 4, 0), 4);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(pread(got[0], buf, 4, 0), 4);
	cr_assert_str_eq(buf, "data");
	close(got[0]);
	close(mfd);
}

Test(fdpass, several_fds_arrive_in_order_with_cloexec)
{
	int src[4], got[4];
	unsigned n;
	char b;

	src[0] = memfd_create("a", MFD_CLOEXEC);
	src[1] = eventfd(0, EFD_CLOEXEC);
	src[2] = eventfd(0, EFD_CLOEXEC);
	src[3] = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 4; i++)
		cr_assert_geq(src[i], 0);
	cr_assert_eq(fdpass_send(sp[0], "m", 1, src, 4), 0);
	cr_assert_eq(fdpass_recv(sp[1], &b, 1, got, 4, &n), 1);
	cr_assert_eq(n, 4);
	for (int i = 0; i < 4; i++) {
		assert_same_file(src[i], got[i]);
		cr_assert(fcntl(got[i], F_GETFD) & FD_CLOEXEC,
			  "fd %d lacks close-on-exec", i);
	}
	/* The eventfd really is the same counter. */
	uint64_t v = 5;
	cr_assert_eq(write(src[1], &v, sizeof(v)), sizeof(v));
	cr_assert_eq(read(got[1], &v, sizeof(v)), sizeof(v));
	cr_assert_eq(v, 5);
	fdpass_close(got, 4);
	fdpass_close(src, 4);
}

Test(fdpass, more_fds_than_expected_are_all_closed)
{
	int src[3], got[2] = { -1, -1 };
	int before;
	unsigned n = 99;
	char b;

	for (int i = 0; i < 3; i++)
		src[i] = eventfd(0, EFD_CLOEXEC);
	cr_assert_eq(fdpass_send(sp[0], "m", 1, src, 3), 0);
	before = open_fd_count();
	cr_assert_eq(fdpass_recv(sp[1], &b, 1, got, 2, &n), -ETOOMANYREFS);
	cr_assert_eq(n, 0);
	cr_assert_eq(got[0], -1);
	cr_assert_eq(open_fd_count(), before);
	fdpass_close(src, 3);
}

Test(fdpass, control_truncation_closes_what_arrived)
{
	int src[20], got[FDPASS_MAX_FDS];
	int before;
	unsigned n;
	char b;

	for (int i = 0; i < 20; i++)
		src[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	raw_send_fds(sp[0], src, 20);
	before = open_fd_count();
	cr_assert_eq(fdpass_recv(sp[1], &b, 1, got, FDPASS_MAX_FDS, &n),
		     -ETOOMANYREFS);
	cr_assert_eq(n, 0);
	cr_assert_eq(open_fd_count(), before);
	fdpass_close(src, 20);
}

Test(fdpass, unexpected_control_data_is_rejected)
{
	int on = 1, fd = open("/dev/null", O_RDONLY | O_CLOEXEC), got[1];
	int before;
	unsigned n;
	char b;

	/* SO_PASSCRED makes the kernel add SCM_CREDENTIALS to every datagram. */
	cr_assert_eq(setsockopt(sp[1], SOL_SOCKET, SO_PASSCRED, &on,
				sizeof(on)), 0);
	cr_assert_eq(fdpass_send(sp[0], "m", 1, &fd, 1), 0);
	before = open_fd_count();
	cr_assert_eq(fdpass_recv(sp[1], &b, 1, got, 1, &n), -EBADMSG);
	cr_assert_eq(n, 0);
	cr_assert_eq(open_fd_count(), before);
	close(fd);
}

Test(fdpass, send_refuses_bad_fd_lists)
{
	int fds[FDPASS_MAX_FDS + 1];

	for (int i = 0; i <= FDPASS_MAX_FDS; i++)
		fds[i] = 0;
	cr_assert_eq(fdpass_send(sp[0], "m", 1, fds, FDPASS_MAX_FDS + 1),
		     -EINVAL);
	fds[0] = -1;
	cr_assert_eq(fdpass_send(sp[0], "m", 1, fds, 1), -EINVAL);
	cr_assert_eq(fdpass_send(sp[0], "m", 1, NULL, 1), -EINVAL);
	/* Closed fd: the kernel refuses it. */
	fds[0] = 1000;
	cr_assert_eq(fdpass_send(sp[0], "m", 1, fds, 1), -EBADF);
}

Test(fdpass, send_to_closed_peer_is_epipe_without_signal)
{
	close(sp[1]);
	sp[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* No SIGPIPE: the test process would die otherwise. */
	cr_assert_eq(fdpass_send(sp[0], "m", 1, NULL, 0), -EPIPE);
}

Test(fdpass, closed_peer_reads_as_zero)
{
	unsigned n;
	char b;

	close(sp[0]);
	sp[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert_eq(fdpass_recv(sp[1], &b, 1, NULL, 0, &n), 0);
	cr_assert_eq(n, 0);
}

Test(fdpass, full_length_reported_when_longer_than_buffer)
{
	char big[300], small[10];
	unsigned n;

	memset(big, 'z', sizeof(big));
	cr_assert_eq(fdpass_send(sp[0], big, sizeof(big), NULL, 0), 0);
	cr_assert_eq(fdpass_recv(sp[1], small, sizeof(small), NULL, 0, &n),
		     300);
}
