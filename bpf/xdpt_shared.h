/* Map layouts shared by the XDP program and the C++ loader. Fixed-width types only;
 * sizes are checked on both sides. */
#ifndef XDPT_SHARED_H
#define XDPT_SHARED_H

#include <linux/types.h>

/* The ruleset store: an mmapable array of pages, replaced whole on every commit. */
#define XDPT_STORE_PAGE 4096
#define XDPT_STORE_MAGIC 0x58445054u /* "XDPT" */
#define XDPT_STORE_VERSION 1u

struct xdpt_store_header {
	__u32 magic;
	__u32 version;
	__u64 length; /* bytes of text after the header */
};

#ifdef __cplusplus
static_assert(sizeof(struct xdpt_store_header) == 16, "store header layout");
#else
_Static_assert(sizeof(struct xdpt_store_header) == 16, "store header layout");
#endif

#endif
