/*
 * Arm FF-A (DEN0077, v1.2 with v1.0/v1.1 layouts) as Bulkhead implements it:
 * function IDs, error codes, descriptor layouts and the small encoders and
 * validators that the hypervisor and the guest SDK share (lib/ffa.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- Versions ------------------------------------------------------------ */
#define FFA_VERSION_MAJOR_SHIFT 16
#define FFA_VERSION_MBZ		(1u << 31)
#define FFA_VERSION_1_0		0x10000u
#define FFA_VERSION_1_1		0x10001u
#define FFA_VERSION_1_2		0x10002u
#define FFA_VERSION_IMPLEMENTED FFA_VERSION_1_2

/* --- Function IDs -------------------------------------------------------- */
#define FFA_ERROR		    0x84000060u
#define FFA_SUCCESS_32		    0x84000061u
#define FFA_SUCCESS_64		    0xc4000061u
#define FFA_INTERRUPT		    0x84000062u
#define FFA_VERSION		    0x84000063u
#define FFA_FEATURES		    0x84000064u
#define FFA_RX_RELEASE		    0x84000065u
#define FFA_RXTX_MAP_32		    0x84000066u
#define FFA_RXTX_MAP_64		    0xc4000066u
#define FFA_RXTX_UNMAP		    0x84000067u
#define FFA_PARTITION_INFO_GET	    0x84000068u
#define FFA_ID_GET		    0x84000069u
#define FFA_MSG_POLL		    0x8400006au
#define FFA_MSG_WAIT		    0x8400006bu
#define FFA_YIELD		    0x8400006cu
#define FFA_RUN			    0x8400006du
#define FFA_MSG_SEND		    0x8400006eu
#define FFA_MSG_SEND_DIRECT_REQ_32  0x8400006fu
#define FFA_MSG_SEND_DIRECT_REQ_64  0xc400006fu
#define FFA_MSG_SEND_DIRECT_RESP_32 0x84000070u
#define FFA_MSG_SEND_DIRECT_RESP_64 0xc4000070u
#define FFA_MEM_DONATE_32	    0x84000071u
#define FFA_MEM_DONATE_64	    0xc4000071u
#define FFA_MEM_LEND_32		    0x84000072u
#define FFA_MEM_LEND_64		    0xc4000072u
#define FFA_MEM_SHARE_32	    0x84000073u
#define FFA_MEM_SHARE_64	    0xc4000073u
#define FFA_MEM_RETRIEVE_REQ_32	    0x84000074u
#define FFA_MEM_RETRIEVE_REQ_64	    0xc4000074u
#define FFA_MEM_RETRIEVE_RESP	    0x84000075u
#define FFA_MEM_RELINQUISH	    0x84000076u
#define FFA_MEM_RECLAIM		    0x84000077u
#define FFA_MEM_FRAG_RX		    0x8400007au
#define FFA_MEM_FRAG_TX		    0x8400007bu
#define FFA_SPM_ID_GET		    0x84000085u
#define FFA_MSG_SEND2		    0x84000086u
#define FFA_CONSOLE_LOG_32	    0x8400008au
#define FFA_CONSOLE_LOG_64	    0xc400008au
#define FFA_PARTITION_INFO_GET_REGS 0xc400008bu
#define FFA_MSG_SEND_DIRECT_REQ2    0xc400008du
#define FFA_MSG_SEND_DIRECT_RESP2   0xc400008eu
/* Notifications (flags and layouts: <bulkhead/ffa_notify.h>) */
#define FFA_NOTIFICATION_BITMAP_CREATE	0x8400007du
#define FFA_NOTIFICATION_BITMAP_DESTROY 0x8400007eu
#define FFA_NOTIFICATION_BIND		0x8400007fu
#define FFA_NOTIFICATION_UNBIND		0x84000080u
#define FFA_NOTIFICATION_SET		0x84000081u
#define FFA_NOTIFICATION_GET		0x84000082u
#define FFA_NOTIFICATION_INFO_GET_32	0x84000083u
#define FFA_NOTIFICATION_INFO_GET_64	0xc4000083u

/* FF-A function numbers (bits [15:0] of the ID) span 0x60..0xff. */
#define FFA_FUNCTION_FIRST 0x60u
#define FFA_FUNCTION_LAST  0xffu

/* Whether `fn` is in FF-A's range of function IDs: a fast call of the
 * standard secure service (SMC32 or SMC64), number 0x60..0xff. */
static inline bool ffa_is_function_id(uint32_t fn)
{
	return (fn & 0xbfffff00u) == 0x84000000u &&
	       (fn & 0xffu) >= FFA_FUNCTION_FIRST;
}

/* --- Error codes (FFA_ERROR, w2) ---------------------------------------- */
#define FFA_NOT_SUPPORTED      (-1)
#define FFA_INVALID_PARAMETERS (-2)
#define FFA_NO_MEMORY	       (-3)
#define FFA_BUSY	       (-4)
#define FFA_INTERRUPTED	       (-5)
#define FFA_DENIED	       (-6)
#define FFA_RETRY	       (-7)
#define FFA_ABORTED	       (-8)
#define FFA_NO_DATA	       (-9)

/* --- Misc fields --------------------------------------------------------- */
#define FFA_PAGE_SIZE 4096u

/* FFA_RXTX_MAP w3: bits [5:0] page count, the rest MBZ. */
#define FFA_RXTX_PAGE_COUNT_MASK 0x3fu

/* FFA_FEATURES w1: bit 31 set for a function ID, clear for a feature ID
 * (bits [7:0]). */
#define FFA_FEATURES_FUNCTION (1u << 31)
/* FFA_FEATURES(RXTX_MAP) w2: [1:0] granule (0 = 4 KiB), [31:16] max pages. */
#define FFA_FEATURES_RXTX_MAX_PAGES_SHIFT 16
/* FFA_FEATURES(MEM_RETRIEVE_REQ) w2, input and output: NS bit handling. */
#define FFA_FEATURES_MEM_RETRIEVE_NS (1u << 1)

/* FFA_PARTITION_INFO_GET w5 */
#define FFA_PARTITION_INFO_COUNT_ONLY 0x1u

/* FFA_MSG_WAIT w2 (v1.2): keep ownership of the RX buffer. */
#define FFA_MSG_WAIT_RETAIN_RX 0x1u

/* FFA_MSG_SEND w4 (v1.0): the caller must not be blocked; bits [31:1] MBZ. */
#define FFA_MSG_SEND_NOT_BLOCKING 0x1u

/* FFA_MSG_SEND2 w2 (v1.2): delay the schedule receiver interrupt. */
#define FFA_MSG_SEND2_DELAY_SRI 0x2u

/* Direct message w2: bit 31 marks a framework message. */
#define FFA_DIRECT_FRAMEWORK_MSG (1u << 31)

/* Sender/receiver pair in w1 of direct messages (and RUN's target). */
static inline uint32_t ffa_endpoints(uint16_t sender, uint16_t receiver)
{
	return ((uint32_t)sender << 16) | receiver;
}

static inline uint16_t ffa_sender(uint64_t w1)
{
	return (uint16_t)(w1 >> 16);
}

static inline uint16_t ffa_receiver(uint64_t w1)
{
	return (uint16_t)w1;
}

/* --- Partition information descriptor ------------------------------------
 * v1.1+: 24 bytes; v1.0: the first 8 bytes. */
#define FFA_PARTITION_INFO_SIZE	    24u
#define FFA_PARTITION_INFO_SIZE_1_0 8u

#define FFA_PROP_DIRECT_REQ_RECV  (1u << 0)
#define FFA_PROP_DIRECT_REQ_SEND  (1u << 1)
#define FFA_PROP_INDIRECT_MSG	  (1u << 2)
#define FFA_PROP_NOTIFICATIONS	  (1u << 3)
#define FFA_PROP_AARCH64	  (1u << 8)
#define FFA_PROP_DIRECT_REQ2_RECV (1u << 9)
#define FFA_PROP_DIRECT_REQ2_SEND (1u << 10)
/* Property bits a caller of each version may see. */
#define FFA_PROPS_1_0 0x7u
#define FFA_PROPS_1_1 0x1ffu
#define FFA_PROPS_1_2 0x7ffu

struct ffa_partition_info {
	uint16_t id;
	uint16_t exec_context_count;
	uint32_t properties;
	uint8_t uuid[16];
};

_Static_assert(sizeof(struct ffa_partition_info) == FFA_PARTITION_INFO_SIZE,
	       "FF-A partition information descriptor is 24 bytes");

/* Size of one descriptor for a caller of `version`. */
static inline uint32_t ffa_partition_info_size(uint32_t version)
{
	return version == FFA_VERSION_1_0 ? FFA_PARTITION_INFO_SIZE_1_0
					  : FFA_PARTITION_INFO_SIZE;
}

/*
 * Writes descriptor `info` at `dst` in the layout of `version` (properties
 * trimmed to that version's bits). Returns the bytes written.
 */
uint32_t ffa_partition_info_write(void *dst,
				  const struct ffa_partition_info *info,
				  uint32_t version);

/* Reads the descriptor at `src` written for `version`. */
void ffa_partition_info_read(struct ffa_partition_info *info, const void *src,
			     uint32_t version);

/* --- Indirect message header (FFA_MSG_SEND2) ------------------------------
 * v1.1: 20 bytes (flags, reserved, offset, sender/receiver, size);
 * v1.2: 40 bytes (+ reserved, receiver UUID). */
#define FFA_MSG_HEADER_SIZE_1_1 20u
#define FFA_MSG_HEADER_SIZE_1_2 40u

struct ffa_msg_header {
	uint32_t flags;
	uint32_t reserved0;
	uint32_t offset;
	uint32_t endpoints; /* receiver [15:0], sender [31:16] */
	uint32_t size;
	uint32_t reserved1; /* v1.2 */
	uint8_t uuid[16];   /* v1.2 */
};

_Static_assert(sizeof(struct ffa_msg_header) == FFA_MSG_HEADER_SIZE_1_2,
	       "FF-A v1.2 indirect message header is 40 bytes");

/* Header size for `version` (v1.0 has no indirect messages: v1.1 size). */
static inline uint32_t ffa_msg_header_size(uint32_t version)
{
	return version >= FFA_VERSION_1_2 ? FFA_MSG_HEADER_SIZE_1_2
					  : FFA_MSG_HEADER_SIZE_1_1;
}

/* Where a header of `version` puts its payload when Bulkhead writes it. */
static inline uint32_t ffa_msg_payload_offset(uint32_t version)
{
	return version >= FFA_VERSION_1_2 ? FFA_MSG_HEADER_SIZE_1_2 : 24u;
}

/* A validated indirect message. */
struct ffa_msg {
	uint16_t sender;
	uint16_t receiver;
	uint32_t offset;
	uint32_t size;
	uint8_t uuid[16]; /* zero unless a v1.2 sender named one */
};

/*
 * Validates the header at the start of `buf` (`buf_size` bytes) written
 * by a partition of `version`: flags and reserved fields zero, the payload
 * after the header and inside the buffer (no overflow). Returns 0 with *msg
 * filled in, or an FF-A error code.
 */
int ffa_msg_parse(const void *buf, uint32_t buf_size, uint32_t version,
		  struct ffa_msg *msg);

/*
 * Writes the header for `msg` at `buf` in the layout of `version`, with the
 * payload at ffa_msg_payload_offset(version) (msg->offset is ignored).
 * Returns the payload offset.
 */
uint32_t ffa_msg_header_write(void *buf, const struct ffa_msg *msg,
			      uint32_t version);

/* --- Results ------------------------------------------------------------- */
/* The registers of an FF-A call or its answer: x0 = function, x1..x17. */
struct ffa_value {
	uint64_t x[18];
};

static inline bool ffa_is_error(const struct ffa_value *v, int32_t code)
{
	return (uint32_t)v->x[0] == FFA_ERROR && (int32_t)v->x[2] == code;
}

/* --- Memory transaction descriptors (lib/ffa_mem.c) ----------------------
 * One layout for send, retrieve request and retrieve response within a
 * version: a header (48 bytes from v1.1, 32 in v1.0), endpoint memory
 * access descriptors (16 bytes in v1.0 and v1.1, 32 in v1.2), then a
 * composite descriptor (16 bytes) followed by 16-byte constituents.
 *
 * The v1.0 header: +0 u16 sender, +2 u8 attributes, +3 reserved, +4 u32
 * flags, +8 u64 handle, +16 u64 tag, +24 u32 reserved, +28 u32 count of
 * endpoint access descriptors, which start at +32 (no size or offset
 * fields). */
#define FFA_MEM_HEADER_SIZE	 48u
#define FFA_MEM_HEADER_SIZE_1_0	 32u
#define FFA_MEM_ACCESS_SIZE_1_1	 16u
#define FFA_MEM_ACCESS_SIZE_1_2	 32u
#define FFA_MEM_COMPOSITE_SIZE	 16u
#define FFA_MEM_CONSTITUENT_SIZE 16u

/* Memory attributes (header +2) */
#define FFA_MEM_ATTR_SHARE_MASK	 0x3u
#define FFA_MEM_ATTR_INNER_SHARE 0x3u
#define FFA_MEM_ATTR_CACHE_MASK	 (0x3u << 2)
#define FFA_MEM_ATTR_CACHE_WB	 (0x3u << 2)
#define FFA_MEM_ATTR_TYPE_MASK	 (0x3u << 4)
#define FFA_MEM_ATTR_TYPE_DEVICE (0x1u << 4)
#define FFA_MEM_ATTR_TYPE_NORMAL (0x2u << 4)
#define FFA_MEM_ATTR_NS		 (1u << 6)
/* Device memory (type 1): bits [3:2] say which, shareability MBZ. */
#define FFA_MEM_ATTR_DEVICE_NGNRE (FFA_MEM_ATTR_TYPE_DEVICE | (0x1u << 2))
#define FFA_MEM_ATTR_NORMAL_WB_IS                                              \
	(FFA_MEM_ATTR_TYPE_NORMAL | FFA_MEM_ATTR_CACHE_WB |                    \
	 FFA_MEM_ATTR_INNER_SHARE)

/* Access permissions (endpoint access descriptor +2) */
#define FFA_MEM_DATA_MASK  0x3u
#define FFA_MEM_DATA_NONE  0x0u /* not specified */
#define FFA_MEM_DATA_RO	   0x1u
#define FFA_MEM_DATA_RW	   0x2u
#define FFA_MEM_INSTR_MASK (0x3u << 2)
#define FFA_MEM_INSTR_NONE (0x0u << 2)
#define FFA_MEM_INSTR_NX   (0x1u << 2)
#define FFA_MEM_INSTR_X	   (0x2u << 2)
#define FFA_MEM_PERM_MBZ   0xf0u

/* Endpoint access descriptor flags (+3) */
#define FFA_MEM_RECEIVER_NON_RETRIEVAL 0x1u

/* Flags on send */
#define FFA_MEM_SEND_ZERO	0x1u
#define FFA_MEM_SEND_TIME_SLICE 0x2u
/* Flags on a retrieve request */
#define FFA_MEM_RETRIEVE_ZERO_BEFORE	    0x1u
#define FFA_MEM_RETRIEVE_TIME_SLICE	    0x2u
#define FFA_MEM_RETRIEVE_ZERO_AFTER	    0x4u
#define FFA_MEM_RETRIEVE_TYPE_SHIFT	    3
#define FFA_MEM_RETRIEVE_TYPE_MASK	    (0x3u << 3)
#define FFA_MEM_RETRIEVE_ADDRESS_HINT_MASK  (0x1fu << 5)
#define FFA_MEM_RETRIEVE_BYPASS_MULTI_CHECK (1u << 10)
/* Transaction types (retrieve flags [4:3]) */
#define FFA_MEM_TYPE_ANY    0u
#define FFA_MEM_TYPE_SHARE  1u
#define FFA_MEM_TYPE_LEND   2u
#define FFA_MEM_TYPE_DONATE 3u

/* Relinquish descriptor flags */
#define FFA_MEM_RELINQUISH_ZERO 0x1u
/* MEM_RECLAIM w3 */
#define FFA_MEM_RECLAIM_ZERO 0x1u

/* Handles allocated by the hypervisor have bit 63 set; all ones is none. */
#define FFA_MEM_HANDLE_HYPERVISOR (1ull << 63)
#define FFA_MEM_HANDLE_INVALID	  (~0ull)

struct ffa_mem_header {
	uint16_t sender;
	uint16_t attributes;
	uint32_t flags;
	uint64_t handle;
	uint64_t tag;
	uint32_t access_size;
	uint32_t access_count;
	uint32_t access_offset;
	uint8_t reserved[12];
};

_Static_assert(sizeof(struct ffa_mem_header) == FFA_MEM_HEADER_SIZE,
	       "FF-A memory transaction header is 48 bytes");

/* The v1.2 endpoint memory access descriptor; v1.1 is its first 8 bytes
 * followed by 8 reserved bytes. */
struct ffa_mem_access {
	uint16_t receiver;
	uint8_t permissions;
	uint8_t flags;
	uint32_t composite_offset;
	uint8_t impdef[16];
	uint64_t reserved;
};

_Static_assert(sizeof(struct ffa_mem_access) == FFA_MEM_ACCESS_SIZE_1_2,
	       "FF-A v1.2 endpoint memory access descriptor is 32 bytes");

struct ffa_mem_composite {
	uint32_t page_count;
	uint32_t constituent_count;
	uint64_t reserved;
};

struct ffa_mem_constituent {
	uint64_t address;
	uint32_t page_count;
	uint32_t reserved;
};

_Static_assert(sizeof(struct ffa_mem_composite) == FFA_MEM_COMPOSITE_SIZE,
	       "FF-A composite memory region descriptor is 16 bytes");
_Static_assert(sizeof(struct ffa_mem_constituent) == FFA_MEM_CONSTITUENT_SIZE,
	       "FF-A constituent memory region descriptor is 16 bytes");

/* Most endpoint access descriptors one transaction may carry. */
#define FFA_MEM_RECEIVERS_MAX 8

struct ffa_mem_receiver {
	uint16_t id;
	uint8_t permissions;
	uint8_t flags;
	uint8_t impdef[16]; /* v1.2 */
};

/* A structurally valid transaction descriptor, parsed. */
struct ffa_mem_transaction {
	uint16_t sender;
	uint16_t attributes;
	uint32_t flags;
	uint64_t handle;
	uint64_t tag;
	uint32_t receiver_count;
	struct ffa_mem_receiver receivers[FFA_MEM_RECEIVERS_MAX];
	/* composite: absent (offset 0) in a retrieve request */
	uint32_t composite_offset;
	uint32_t page_count;
	uint32_t constituent_count;
	/* how many of them the parsed buffer holds (all unless fragmented) */
	uint32_t constituents_here;
};

/* Endpoint access descriptor size for `version`. */
static inline uint32_t ffa_mem_access_size(uint32_t version)
{
	return version >= FFA_VERSION_1_2 ? FFA_MEM_ACCESS_SIZE_1_2
					  : FFA_MEM_ACCESS_SIZE_1_1;
}

/* Header size (where the access descriptors start) for `version`. */
static inline uint32_t ffa_mem_header_size(uint32_t version)
{
	return version == FFA_VERSION_1_0 ? FFA_MEM_HEADER_SIZE_1_0
					  : FFA_MEM_HEADER_SIZE;
}

/*
 * Parses and structurally validates the descriptor in buf[0, len) written
 * for `version`: sizes and offsets inside the buffer (no arithmetic
 * overflow), 1..FFA_MEM_RECEIVERS_MAX receivers without duplicates,
 * reserved fields zero, one composite offset shared by every receiver (or
 * zero for all when `composite_required` is false), constituents 4 KiB
 * aligned, non-empty, and summing to the composite's page count.
 * Semantics (who may send what) are the hypervisor's. Returns 0 or
 * FFA_INVALID_PARAMETERS.
 */
int ffa_mem_parse(const void *buf, uint32_t len, uint32_t version,
		  bool composite_required, struct ffa_mem_transaction *t);

/*
 * The same for the first fragment buf[0, len) of a descriptor `total`
 * bytes long (len <= total): header, receivers and composite lie inside
 * it, it ends on a constituent boundary and the rest of the descriptor is
 * constituents. The constituents it holds (t->constituents_here) are
 * checked; the page sum only when the fragment is the whole descriptor.
 */
int ffa_mem_parse_first(const void *buf, uint32_t len, uint32_t total,
			uint32_t version, struct ffa_mem_transaction *t);

/* 4 KiB aligned, non-empty, reserved zero, no address overflow. */
bool ffa_mem_constituent_valid(const struct ffa_mem_constituent *k);

/* Constituent `i` of a parsed transaction (copied out of buf). */
struct ffa_mem_constituent
ffa_mem_constituent(const void *buf, const struct ffa_mem_transaction *t,
		    uint32_t i);

/*
 * Writes `t` and its constituents (t->constituent_count of them; none and
 * no composite when `cons` is NULL, as in a retrieve request) into
 * buf[0, size) in the layout of `version`; t->composite_offset and
 * t->page_count are computed. Returns the length, or 0 if it does not fit.
 */
uint32_t ffa_mem_build(void *buf, uint32_t size, uint32_t version,
		       struct ffa_mem_transaction *t,
		       const struct ffa_mem_constituent *cons);

/*
 * One fragment of the same descriptor: the bytes from `offset` (0, or the
 * end of an earlier fragment) on, as many whole constituents as fit in
 * buf[0, size); the first fragment carries header, receivers and
 * composite. *total is the whole descriptor's length. Returns the
 * fragment's length, 0 if `offset` is not a fragment boundary or the
 * header does not fit.
 */
uint32_t ffa_mem_build_fragment(void *buf, uint32_t size, uint32_t version,
				struct ffa_mem_transaction *t,
				const struct ffa_mem_constituent *cons,
				uint32_t offset, uint32_t *total);

/* Relinquish descriptor: handle, flags, endpoint count, endpoint IDs. */
#define FFA_MEM_RELINQUISH_SIZE 18u

struct ffa_mem_relinquish {
	uint64_t handle;
	uint32_t flags;
	uint16_t endpoint;
};

/* Writes a relinquish descriptor for one endpoint; returns its length. */
uint32_t ffa_mem_relinquish_build(void *buf,
				  const struct ffa_mem_relinquish *r);

/* Parses one: exactly one endpoint, flags only FFA_MEM_RELINQUISH_ZERO.
 * Returns 0 or FFA_INVALID_PARAMETERS. */
int ffa_mem_relinquish_parse(const void *buf, uint32_t len,
			     struct ffa_mem_relinquish *r);
