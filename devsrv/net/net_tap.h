/* net_tap.h: the tap fd the VMM opened: its checks, one frame out or in,
 * its offloads (POSIX and the tun ioctls only). */
#ifndef ISOVM_DEVSRV_NET_TAP_H
#define ISOVM_DEVSRV_NET_TAP_H

#include <net/if.h>
#include <stddef.h>
#include <sys/types.h>

#include "ipc/virtio_net_config.h"

/*
 * Set-up only (fcntl and ioctls the filter refuses later): check that
 * @fd is a tap as ipc/devproto.h says the VMM opens it (IFF_TAP,
 * IFF_NO_PI, IFF_VNET_HDR, a header of VIRTIO_NET_HDR_LEN bytes) and
 * make it non-blocking. @name gets the interface's name (IFNAMSIZ bytes).
 * The fd stays the caller's. Returns 0, -EINVAL (another mode or header
 * size), or -errno of TUNGETIFF (-ENOTTY: no tun fd; -EBADFD: a tun fd
 * attached to no interface) or of the other calls.
 */
int net_tap_check(int fd, char *name);

/* TUNSETOFFLOAD: the TUN_F_* offloads the tap may use for frames it hands
 * us. 0 or -errno. */
int net_tap_offload(int fd, unsigned tun_flags);

/*
 * One frame out with a single writev(): @hdr, then @len bytes of
 * Ethernet frame at @frame (which may be shared memory: the kernel copies
 * it once). Returns 0 or -errno: -EAGAIN when the tap takes no more now,
 * -EINVAL when it refuses the header or frame, -EIO when its interface is
 * down.
 */
int net_tap_send(int fd, const struct virtio_net_hdr *hdr, const void *frame,
		 size_t len);

/*
 * One frame in, header first, into buf[0..cap). Returns the frame's full
 * length with its header: more than @cap when it did not fit (the tap
 * then copied what fitted and dropped the rest), or -errno (-EAGAIN: no
 * frame waits).
 */
ssize_t net_tap_recv(int fd, void *buf, size_t cap);

#endif
