/* netutil.h: what the net tests share: opening, byte order, addresses. */
#ifndef TG_NETUTIL_H
#define TG_NETUTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/net.h"

#define NU_ETHERTYPE_IPV4 0x0800
#define NU_ETHERTYPE_ARP  0x0806

/* "aa:bb:cc:dd:ee:ff" and its NUL. */
#define NU_MAC_STR 18

static inline uint16_t nu_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void nu_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint64_t nu_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline void nu_put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/*
 * Opens the first net device for test name; on failure prints its fail
 * line (reason=no-net) and returns the error. On success says "NAME
 * ready mac=MAC" on the UART, which the host waits for before sending.
 */
int nu_open(struct vnet *n, const char *name);

/* mac as text into out (NU_MAC_STR bytes). */
void nu_mac_str(const uint8_t mac[6], char *out);

/* Parses "aa:bb:cc:dd:ee:ff" (hex, any case); 0 or -TG_EINVAL. */
int nu_parse_mac(const char *s, uint8_t mac[6]);

/* Parses dotted IPv4 "a.b.c.d" into network order; 0 or -TG_EINVAL. */
int nu_parse_ipv4(const char *s, uint8_t ip[4]);

/* Writes an Ethernet header: destination, source, EtherType. */
void nu_eth_header(uint8_t *f, const uint8_t dst[6], const uint8_t src[6],
		   uint16_t type);

/* The Internet checksum (RFC 1071) of n bytes, to store big-endian. */
uint16_t nu_csum(const uint8_t *p, uint32_t n);

/* The TSC ticks of us microseconds. */
uint64_t nu_tsc_of_us(uint64_t us);

/* "poll" or "irq", as the device is driven. */
const char *nu_mode(const struct vnet *n);

#endif
