/* ctl_peer.h: what the isovm-ctlpeer test helper does and how to ask it. */
#ifndef ISOVM_TEST_CTL_PEER_H
#define ISOVM_TEST_CTL_PEER_H

/*
 * The environment variable that picks the misbehaviour, inherited through
 * the supervisor's exec:
 *   unset or "none"  answers STATS_REQUEST at once
 *   "error-flood"    sends CTL_PEER_FLOOD unasked CTL_ERRORs after READY
 *   "error-burst"    sends CTL_PEER_BURST of them, then behaves
 *   "late-stats"     answers each STATS_REQUEST CTL_PEER_LATE_MS late
 *   "deaf"           never reads its control socket again after READY
 *   "unasked-stats"  sends a STATS_REPLY nobody asked for after READY
 * and, as a restarted server (CTL_PEER_SEEN names a file the first one
 * makes; a later one finds it there):
 *   "mute-restart"   never says READY after SETUP
 *   "other-restart"  says READY for a device with another config length
 * Every STATS_REPLY carries one extra counter, "asked": the number of
 * STATS_REQUESTs received so far.
 */
#define CTL_PEER_EVIL	 "CTL_PEER_EVIL"
#define CTL_PEER_SEEN	 "CTL_PEER_SEEN"
#define CTL_PEER_FLOOD	 1000
#define CTL_PEER_BURST	 3
#define CTL_PEER_LATE_MS 300

#endif
