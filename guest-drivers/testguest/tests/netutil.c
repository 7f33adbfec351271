/* netutil.c: opening a net device for a test, addresses, checksums. */
#include "boot/kernel.h"
#include "rt/clock.h"
#include "rt/console.h"
#include "rt/fmt.h"
#include "rt/report.h"
#include "rt/string.h"
#include "tests/netutil.h"

int nu_open(struct vnet *n, const char *name)
{
	char mac[NU_MAC_STR];
	int ret = vnet_open(n, 0);

	if (ret) {
		report_result(name, false, "reason=no-net err=%d", ret);
		return ret;
	}
	nu_mac_str(n->mac, mac);
	con_printf("isovm-testguest: %s ready mac=%s mtu=%u mrg=%d link=%s\n",
		   name, mac, n->mtu, n->mrg, vnet_link_up(n) ? "up" : "down");
	return 0;
}

void nu_mac_str(const uint8_t mac[6], char *out)
{
	fmt_snprintf(out, NU_MAC_STR, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
		     mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static int nu_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int nu_parse_mac(const char *s, uint8_t mac[6])
{
	int i, hi, lo;

	for (i = 0; i < 6; i++, s += 3) {
		hi = nu_hex(s[0]);
		lo = hi < 0 ? -1 : nu_hex(s[1]);
		if (lo < 0 || s[2] != (i < 5 ? ':' : '\0'))
			return -TG_EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int nu_parse_ipv4(const char *s, uint8_t ip[4])
{
	uint64_t v;
	int i;

	for (i = 0; i < 4; i++) {
		if (*s < '0' || *s > '9')
			return -TG_EINVAL;
		s = str_to_u64(s, &v);
		if (!s || v > 255 || *s != (i < 3 ? '.' : '\0'))
			return -TG_EINVAL;
		ip[i] = (uint8_t)v;
		s++;
	}
	return 0;
}

void nu_eth_header(uint8_t *f, const uint8_t dst[6], const uint8_t src[6],
		   uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	nu_put_be16(f + 12, type);
}

uint16_t nu_csum(const uint8_t *p, uint32_t n)
{
	uint32_t sum = 0, i;

	for (i = 0; i + 1 < n; i += 2)
		sum += nu_be16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint64_t nu_tsc_of_us(uint64_t us)
{
	return us * clock.tsc_khz / 1000;
}

const char *nu_mode(const struct vnet *n)
{
	return n->dev->poll ? "poll" : "irq";
}
