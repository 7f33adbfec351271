/* proto_version.c: the control-protocol version both sides must agree on. */
#include "proto/proto_version.h"

const unsigned proto_version = ISOVM_PROTO_VERSION;
