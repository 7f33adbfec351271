/*
 * net_peer_main.c: net-peer, the frame peer from the command line; one
 * JSON line of results on stdout.
 *   net-peer echo IF MAC COUNT [WINDOW [MAX_SIZE]]
 *   net-peer blast IF MAC SIZE SECS
 *   net-peer count IF SECS [FIRST_MS [IDLE_MS]]
 *   net-peer wait IF TEXT TIMEOUT_MS
 * Exit status: 0 done, 1 the exchange failed, 2 bad arguments or set-up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest-drivers/abi/net_test.h"
#include "tests/integration/net_peer.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: net-peer echo IF MAC COUNT [WINDOW [MAX_SIZE]]\n"
		"       net-peer blast IF MAC SIZE SECS\n"
		"       net-peer count IF SECS [FIRST_MS [IDLE_MS]]\n"
		"       net-peer wait IF TEXT TIMEOUT_MS\n");
	exit(2);
}

/* A whole decimal number in [0, max], or usage. */
static unsigned long num(const char *s, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max) {
		fprintf(stderr, "net-peer: bad number '%s'\n", s);
		usage();
	}
	return v;
}

static void mac_arg(const char *s, uint8_t mac[6])
{
	if (net_peer_parse_mac(s, mac)) {
		fprintf(stderr, "net-peer: bad MAC '%s'\n", s);
		usage();
	}
}

static double rate(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0.0;
}

/* msg as a JSON string body: quotes, backslashes and controls escaped. */
static void json_str(const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
}

static int cmd_echo(struct net_peer *p, int argc, char **argv)
{
	struct net_peer_echo_opts o = {0};
	struct net_peer_echo_result r;
	uint8_t mac[6];
	int ret;

	if (argc < 5 || argc > 7)
		usage();
	mac_arg(argv[3], mac);
	o.count = num(argv[4], 1ul << 40);
	if (argc > 5)
		o.window = (unsigned)num(argv[5], 4096);
	if (argc > 6)
		o.max_size = (unsigned)num(argv[6], 65535);
	ret = net_peer_echo(p, mac, &o, &r);
	printf("{\"cmd\":\"echo\",\"ok\":%s,\"err\":%d,\"sent\":%lu,"
	       "\"received\":%lu,\"bytes\":%lu,\"ignored\":%lu,\"secs\":%.3f,"
	       "\"fps\":%.0f,\"mbps\":%.1f,\"stop_sent\":%s,"
	       "\"stop_echoed\":%s,\"msg\":\"",
	       ret ? "false" : "true", ret, r.sent, r.received, r.bytes,
	       r.ignored, (double)r.ns / 1e9, rate(r.received, r.ns),
	       rate(r.bytes * 8, r.ns) / 1e6, r.stop_sent ? "true" : "false",
	       r.stop_echoed ? "true" : "false");
	json_str(r.msg[0] || !ret ? r.msg : strerror(-ret));
	printf("\"}\n");
	return ret ? 1 : 0;
}

static int cmd_blast(struct net_peer *p, int argc, char **argv)
{
	struct net_peer_blast_result r;
	uint8_t mac[6];
	int ret;

	if (argc != 6)
		usage();
	mac_arg(argv[3], mac);
	ret = net_peer_blast(p, mac, (unsigned)num(argv[4], 65535),
			     (unsigned)num(argv[5], 86400), &r);
	printf("{\"cmd\":\"blast\",\"ok\":%s,\"err\":%d,\"frames\":%lu,"
	       "\"bytes\":%lu,\"refused\":%lu,\"secs\":%.3f,\"fps\":%.0f,"
	       "\"mbps\":%.1f}\n",
	       ret ? "false" : "true", ret, r.frames, r.bytes, r.refused,
	       (double)r.ns / 1e9, rate(r.frames, r.ns),
	       rate(r.bytes * 8, r.ns) / 1e6);
	return ret ? 1 : 0;
}

static int cmd_count(struct net_peer *p, int argc, char **argv)
{
	struct net_peer_count_result r;
	unsigned first_ms = 30000, idle_ms = 1000;
	int ret;

	if (argc < 4 || argc > 6)
		usage();
	if (argc > 4)
		first_ms = (unsigned)num(argv[4], 86400000);
	if (argc > 5)
		idle_ms = (unsigned)num(argv[5], 86400000);
	ret = net_peer_count(p, (unsigned)num(argv[3], 86400), first_ms,
			     idle_ms, &r);
	printf("{\"cmd\":\"count\",\"ok\":%s,\"err\":%d,\"frames\":%lu,"
	       "\"bytes\":%lu,\"seq_first\":%lu,\"seq_max\":%lu,"
	       "\"seq_back\":%lu,\"sock_drops\":%lu,\"if_rx_packets\":%lu,"
	       "\"secs\":%.3f,\"fps\":%.0f,\"mbps\":%.1f}\n",
	       ret ? "false" : "true", ret, r.frames, r.bytes, r.seq_first,
	       r.seq_max, r.seq_back, r.sock_drops, r.if_rx_packets,
	       (double)r.ns / 1e9, rate(r.frames, r.ns),
	       rate(r.bytes * 8, r.ns) / 1e6);
	return ret ? 1 : 0;
}

static int cmd_wait(struct net_peer *p, int argc, char **argv)
{
	int ret;

	if (argc != 5)
		usage();
	ret = net_peer_wait(p, NET_TEST_ETHERTYPE_ECHO, argv[3],
			    strlen(argv[3]), (int)num(argv[4], 86400000));
	printf("{\"cmd\":\"wait\",\"ok\":%s,\"err\":%d,\"found\":%s,"
	       "\"text\":\"",
	       ret ? "false" : "true", ret, ret ? "false" : "true");
	json_str(argv[3]);
	printf("\"}\n");
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct net_peer *p, int argc, char **argv);
	} cmds[] = {
		{"echo", cmd_echo},
		{"blast", cmd_blast},
		{"count", cmd_count},
		{"wait", cmd_wait},
	};
	struct net_peer p;
	unsigned i;
	int ret;

	if (argc < 3)
		usage();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		usage();
	ret = net_peer_open(&p, argv[2]);
	if (ret) {
		fprintf(stderr, "net-peer: %s: %s\n", argv[2], strerror(-ret));
		return 2;
	}
	ret = cmds[i].run(&p, argc, argv);
	net_peer_close(&p);
	return ret;
}
