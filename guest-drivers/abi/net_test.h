/*
 * net_test.h: the frames the test guest's net tests and the host's frame
 * peer (tests/integration/net_peer) exchange. Constants only; multi-byte
 * fields are little-endian, after a 14-byte Ethernet header.
 */
#ifndef ISOVM_ABI_NET_TEST_H
#define ISOVM_ABI_NET_TEST_H

/* IEEE 802 local experimental EtherTypes: nobody else's traffic. */
#define NET_TEST_ETHERTYPE_ECHO	 0x88b5 /* net-echo, net-evil */
#define NET_TEST_ETHERTYPE_BLAST 0x88b6 /* net-blast */

/*
 * An echo frame: le32 seq, le16 length of the whole frame, then a pattern
 * the peer derives from seq. The guest reflects it with the addresses
 * swapped and checks nothing else.
 */
#define NET_TEST_ECHO_SEQ_OFF 14
#define NET_TEST_ECHO_LEN_OFF 18
#define NET_TEST_ECHO_PAT_OFF 20

/*
 * The stop frame of net-echo: EtherType ECHO, the payload starts with
 * this text (no NUL), the frame is padded with zeros to 60 bytes. The
 * guest reflects it too, then reports.
 */
#define NET_TEST_STOP	  "isovm-net-stop"
#define NET_TEST_STOP_LEN 14

/* net-evil's last, good frame: EtherType ECHO, payload this text. */
#define NET_TEST_EVIL_DONE     "net-evil-done"
#define NET_TEST_EVIL_DONE_LEN 13

/* A blast frame: EtherType BLAST, le64 seq (from 0), then zeros. */
#define NET_TEST_BLAST_SEQ_OFF 14

/* Ethernet sizes without the FCS. */
#define NET_TEST_FRAME_MIN 60
#define NET_TEST_ETH_HLEN  14

#endif
