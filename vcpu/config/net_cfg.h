/*
 * net_cfg.h: `--net` options, and opening each tap before the VM exists.
 * The fd is the VMM's for the device's life (a restarted server gets it
 * again); the net server never opens anything.
 */
#ifndef ISOVM_NET_CFG_H
#define ISOVM_NET_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_MAX	    4
#define NET_IFNAMSIZ 16 /* the kernel's IFNAMSIZ, NUL included */
#define NET_MAC_LEN  6
/* The guest's MTU (IPv4's minimum up to the config space's le16) and the
 * tap's vnet header (virtio 1.x, num_buffers included); the net front
 * checks they are virtio_net_config.h's. */
#define NET_MTU_MIN	    68
#define NET_MTU_MAX	    65535
#define NET_MTU_DEFAULT	    1500
#define NET_VNET_HDR_LEN    12

struct net_cfg {
	char ifname[NET_IFNAMSIZ];
	uint8_t mac[NET_MAC_LEN];
	bool has_mac; /* given; else net_set_add() derives one */
	uint32_t mtu; /* the guest's; VIRTIO_NET_MTU_DEFAULT unless given */
	int fd;	      /* the tap, -1 until net_set_open() */
	bool created; /* the interface did not exist before */
};

struct net_set {
	struct net_cfg net[NET_MAX];
	unsigned n;
};

/*
 * Parses one --net value ("tap=IFNAME[,mac=MAC][,mtu=N]") into n (fd -1).
 * MAC is six hex pairs separated by ':'; a multicast or all-zero address
 * is refused. Returns 0 or -EINVAL with one line in err.
 */
int net_cfg_parse(const char *spec, struct net_cfg *n, char *err,
		  size_t errlen);

/*
 * Appends a parsed --net as device net<index>, with the default MAC when
 * none was given: 0, -EINVAL (bad spec, or a tap or MAC given twice) or
 * -E2BIG (too many).
 */
int net_set_add(struct net_set *s, const char *spec, char *err,
		size_t errlen);

/*
 * The default MAC of device 'index' on tap 'ifname': locally administered
 * and unicast (first byte 0x52 with those two bits so), the other five
 * bytes a hash of the device index and the tap's name, so the same
 * command line gives the guest the same address every time and two VMs
 * on two taps get different ones.
 */
void net_default_mac(unsigned index, const char *ifname,
		     uint8_t mac[NET_MAC_LEN]);

/* "52:54:00:12:34:56" (18 bytes with the NUL). */
void net_mac_str(const uint8_t mac[NET_MAC_LEN], char out[18]);

/*
 * Opens /dev/net/tun once per --net and attaches to the named tap, or
 * creates it (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), sets the vnet header to
 * 12 bytes and the offloads off (the guest's driver turns them on). Call
 * before the VM is created. Returns 0, or -errno with one line "--net
 * tap=IF: reason" in err (no permission, in use, exists but is not a tap,
 * no tun driver), and then every tap of s is closed again.
 */
int net_set_open(struct net_set *s, char *err, size_t errlen);

/* Closes every fd still held (idempotent). A tap the VMM created goes
 * away with its last fd. */
void net_set_close(struct net_set *s);

#endif
