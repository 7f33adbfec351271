/* fd_count.h: how many fds this process has open, for leak checks. */
#ifndef ISOVM_TEST_FD_COUNT_H
#define ISOVM_TEST_FD_COUNT_H

int open_fd_count(void);

#endif
