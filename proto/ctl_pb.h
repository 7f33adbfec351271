/*
 * ctl_pb.h: converters between ctl_msg structs and the generated protobuf
 * structs, shared by ctl_msg.c and api_msg.c. Internal to proto/: nothing
 * outside proto/ may include this (it pulls in generated names).
 */
#ifndef ISOVM_PROTO_CTL_PB_H
#define ISOVM_PROTO_CTL_PB_H

#include "proto/control.pb-c.h"
#include "proto/ctl_msg.h"

/* Storage for encoding one ctl_stats; points into the source struct. */
struct ctl_pb_stats {
	Isovm__Ctl__StatsReply msg;
	Isovm__Ctl__OpStats ops[CTL_STATS_MAX_OPS];
	Isovm__Ctl__OpStats *opp[CTL_STATS_MAX_OPS];
	Isovm__Ctl__KeyValue kv[CTL_STATS_MAX_EXTRA];
	Isovm__Ctl__KeyValue *kvp[CTL_STATS_MAX_EXTRA];
};

/* Fill for encoding; st must already be valid and outlive pb. */
void ctl_pb_stats_fill(struct ctl_pb_stats *pb, const struct ctl_stats *st);
void ctl_pb_fault_fill(Isovm__Ctl__FaultSettings *m, const struct ctl_fault *f);

/* Copy out of an unpacked message: 0 or -EINVAL (too many, too long). */
int ctl_pb_stats_read(const Isovm__Ctl__StatsReply *m, struct ctl_stats *st);
int ctl_pb_fault_read(const Isovm__Ctl__FaultSettings *m, struct ctl_fault *f);

/* Copy a string into dst[cap] with its NUL, or -EINVAL if it does not fit. */
int ctl_pb_copy_str(char *dst, size_t cap, const char *src);

#endif
