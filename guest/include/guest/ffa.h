/*
 * FF-A client library for bare-metal partitions.
 *
 * Calls return 0 on success or a negative FF-A error code (FFA_BUSY, ...);
 * results come back through pointers. Calls that deliver a message
 * (MSG_WAIT, direct requests and responses) return the whole register set
 * as a struct ffa_value.
 *
 * Typical receiver:
 *
 *   static struct ffa_mailbox mb;
 *   ffa_mailbox_init(&mb, tx_pages, rx_pages, 1);   // RXTX_MAP
 *   struct ffa_value r = ffa_msg_wait(0);
 *   if (ffa_value_is(&r, FFA_RUN)) { ffa_msg_get(&mb, &msg, &payload); }
 */
#pragma once

#include <bulkhead/ffa.h>
#include <guest/guest.h>

#pragma GCC visibility push(hidden)

/* --- Raw calls ------------------------------------------------------------ */
/* Conduit for every FF-A call: HVC (default) or SMC. */
void ffa_use_smc(bool use_smc);

/* x0..x17 in, x0..x17 out. */
struct ffa_value ffa_call(const struct ffa_value *args);

/* How many FF-A calls this partition has made through ffa_call (every
 * wrapper here goes through it): tests use it to prove a path makes none. */
extern uint64_t ffa_calls_made;

static inline bool ffa_value_is(const struct ffa_value *v, uint32_t fn)
{
	return (uint32_t)v->x[0] == fn;
}

/* 0 for any answer but FFA_ERROR, else its (negative) error code. */
int32_t ffa_value_error(const struct ffa_value *v);

/* The usual text form of an FF-A UUID (its four words, little-endian in
 * memory, as the manifest's `uuid` strings give them). */
void ffa_uuid_format(char out[37], const uint8_t uuid[16]);

/* --- Setup and discovery -------------------------------------------------- */
/* FFA_VERSION: the implemented version, or FFA_NOT_SUPPORTED (-1). */
int32_t ffa_version(uint32_t requested);

/* FFA_FEATURES of a function or feature ID; properties to *w2 / *w3. */
int32_t ffa_features(uint32_t id, uint32_t *w2, uint32_t *w3);

int32_t ffa_id_get(uint16_t *id);

/* FFA_PARTITION_INFO_GET. uuid NULL = every partition. On success
 * *count descriptors of *size bytes each are in the RX buffer (unless
 * flags has FFA_PARTITION_INFO_COUNT_ONLY), which the caller now owns. */
int32_t ffa_partition_info_get(const uint8_t *uuid, uint32_t flags,
			       uint32_t *count, uint32_t *size);

/* FFA_PARTITION_INFO_GET_REGS from index `start`: up to five descriptors
 * to info[], their number to *filled, the last index to *last. */
int32_t ffa_partition_info_get_regs(const uint8_t *uuid, uint16_t start,
				    struct ffa_partition_info info[5],
				    uint32_t *filled, uint16_t *last);

/* --- RX/TX buffers -------------------------------------------------------- */
int32_t ffa_rxtx_map(const void *tx, const void *rx, uint32_t page_count);
int32_t ffa_rxtx_map_32(const void *tx, const void *rx, uint32_t page_count);
int32_t ffa_rxtx_unmap(void);
int32_t ffa_rx_release(void);

/* A partition's buffer pair and what the helpers below need to know. */
struct ffa_mailbox {
	uint8_t *tx;
	uint8_t *rx;
	uint32_t size;	  /* bytes in each buffer */
	uint32_t version; /* the version negotiated by this partition */
	uint16_t self;	  /* this partition's ID */
	/* largest memory-descriptor fragment to send (0: the whole TX
	 * buffer); smaller values force MEM_FRAG_TX, e.g. in tests */
	uint32_t max_fragment;
};

/* Maps `tx`/`rx` (page_count 4 KiB pages each) and fills in *mb with the
 * caller's ID and `version` (the version it negotiated, or
 * FFA_VERSION_1_2 when it never called ffa_version). */
int32_t ffa_mailbox_init(struct ffa_mailbox *mb, void *tx, void *rx,
			 uint32_t page_count, uint32_t version);

/* --- Indirect messages ---------------------------------------------------- */
/* Sends `payload` in the way of mb->version: v1.1+ builds the header (that
 * version's layout) and payload in TX, then FFA_MSG_SEND2; v1.0 puts the
 * payload at TX offset 0, then FFA_MSG_SEND. */
int32_t ffa_msg_send(struct ffa_mailbox *mb, uint16_t receiver,
		     const void *payload, uint32_t size);

/* FFA_MSG_SEND2 of whatever TX holds (w2 = flags). */
int32_t ffa_msg_send2(uint32_t flags);

/* FFA_MSG_SEND (v1.0) of the first `size` bytes of TX: w1 = sender << 16 |
 * receiver, w3 = size, w4 = flags (FFA_MSG_SEND_NOT_BLOCKING). */
int32_t ffa_msg_send_v10(uint16_t sender, uint16_t receiver, uint32_t size,
			 uint32_t flags);

/* FFA_MSG_POLL (v1.0): FFA_MSG_SEND (see ffa_msg_get_v10) for a message
 * no wait or poll reported yet, else FFA_ERROR (RETRY: none). */
struct ffa_value ffa_msg_poll(void);

/* Parses the message in RX: *msg and *payload (inside RX). v1.1+. */
int32_t ffa_msg_get(const struct ffa_mailbox *mb, struct ffa_msg *msg,
		    const void **payload);

/* The message a v1.0 receiver's MSG_WAIT or MSG_POLL reported in `r`
 * (FFA_MSG_SEND: w1 = sender << 16 | receiver, w3 = size; the payload at
 * RX offset 0): *msg and *payload (inside RX). INVALID_PARAMETERS unless
 * `r` is FFA_MSG_SEND with a size that fits RX. Release RX afterwards
 * (ffa_rx_release: v1.0's MSG_WAIT does not). */
int32_t ffa_msg_get_v10(const struct ffa_mailbox *mb, const struct ffa_value *r,
			struct ffa_msg *msg, const void **payload);

/* The payload of `msg` as a string in text[size] (size > 0): its first
 * size - 1 bytes at most, then a NUL. */
void ffa_msg_text(const struct ffa_msg *msg, const void *payload, char *text,
		  size_t size);

/* FFA_MSG_WAIT (flags: FFA_MSG_WAIT_RETAIN_RX, v1.2). Returns FFA_RUN for
 * an indirect message (v1.0: FFA_MSG_SEND, ffa_msg_get_v10), a direct
 * request, or FFA_ERROR. */
struct ffa_value ffa_msg_wait(uint32_t flags);

/* --- Direct messages ------------------------------------------------------ */
/* MSG_SEND_DIRECT_REQ_32/_64: payload[0..4] in x3..x7. Returns the
 * response (or FFA_ERROR). */
struct ffa_value ffa_direct_req(uint16_t self, uint16_t receiver,
				const uint64_t payload[5], bool wide);

/* MSG_SEND_DIRECT_REQ2: uuid (NULL = nil) in x2/x3, payload[0..13] in
 * x4..x17. */
struct ffa_value ffa_direct_req2(uint16_t self, uint16_t receiver,
				 const uint8_t *uuid,
				 const uint64_t payload[14]);

/* The response to the request `req` (which names both endpoints) with
 * payload[0..4] (or [0..13] for REQ2). Blocks like MSG_WAIT; returns the
 * next message. */
struct ffa_value ffa_direct_resp(const struct ffa_value *req,
				 const uint64_t *payload);

/* --- Memory transactions ------------------------------------------------ */
/*
 * Sends memory with FFA_MEM_SHARE_64 / LEND_64 / DONATE_64 (`fn`): builds
 * the descriptor in TX (mb->version layout) from `cons` and `receivers`
 * (permissions as FF-A wants them, docs/ffa.md: data RO/RW for share and
 * lend, none for donate; instruction access none). attributes: normal
 * write-back inner shareable for share and for lend to several
 * borrowers, 0 (not specified) otherwise.
 * A descriptor longer than TX (or mb->max_fragment) goes in fragments
 * (MEM_FRAG_TX). The handle goes to *handle.
 */
int32_t ffa_mem_send(struct ffa_mailbox *mb, uint32_t fn,
		     const struct ffa_mem_constituent *cons, uint32_t count,
		     const struct ffa_mem_receiver *receivers,
		     uint32_t receiver_count, uint32_t flags, uint64_t tag,
		     uint64_t *handle);

/* The usual case: one borrower. */
int32_t ffa_mem_share(struct ffa_mailbox *mb, uint16_t borrower, void *pages,
		      uint32_t page_count, uint8_t permissions,
		      uint64_t *handle);
int32_t ffa_mem_lend(struct ffa_mailbox *mb, uint16_t borrower, void *pages,
		     uint32_t page_count, uint8_t permissions,
		     uint64_t *handle);
int32_t ffa_mem_donate(struct ffa_mailbox *mb, uint16_t borrower, void *pages,
		       uint32_t page_count, uint64_t *handle);

/*
 * FFA_MEM_RETRIEVE_REQ_64 for `handle` sent by `owner` with `tag`, of
 * transaction type `type` (FFA_MEM_TYPE_*, or ANY), asking `permissions`
 * (0 = what was sent) with retrieve `flags`. The response's header and
 * receivers go to *out, its out->constituent_count mapped ranges to
 * ranges[] (in address order), fetching fragments (MEM_FRAG_RX) when the
 * response is longer than RX; RX is released. If the ranges do not fit
 * in max_ranges (FFA_NO_MEMORY) or the response is malformed, the memory
 * is relinquished again before returning the error.
 */
int32_t ffa_mem_retrieve(struct ffa_mailbox *mb, uint64_t handle,
			 uint16_t owner, uint64_t tag, uint32_t type,
			 uint8_t permissions, uint32_t flags,
			 struct ffa_mem_transaction *out,
			 struct ffa_mem_constituent *ranges,
			 uint32_t max_ranges);

int32_t ffa_mem_relinquish(struct ffa_mailbox *mb, uint64_t handle,
			   uint32_t flags);
int32_t ffa_mem_reclaim(uint64_t handle, uint32_t flags);

/* --- Scheduling and console ----------------------------------------------- */
int32_t ffa_yield(void);
int32_t ffa_run(uint16_t partition, uint16_t vcpu);

/* FFA_CONSOLE_LOG_64 in pieces of up to 128 characters. */
int32_t ffa_console_log(const char *text, size_t len);

/* --- Service loop --------------------------------------------------------- */
enum ffa_service_action {
	FFA_SERVICE_CONTINUE,
	FFA_SERVICE_STOP,
};

struct ffa_service {
	struct ffa_mailbox *mb;
	/* A direct request (REQ or REQ2): fill in resp[] (5 or 14 words). */
	void (*direct)(struct ffa_service *s, const struct ffa_value *req,
		       uint64_t *resp);
	/* An indirect message, payload inside RX (released afterwards). */
	enum ffa_service_action (*indirect)(struct ffa_service *s,
					    const struct ffa_msg *msg,
					    const void *payload);
	void *context;
};

/*
 * Waits for messages and hands them to the handlers: direct requests are
 * answered with the handler's payload, indirect messages are parsed from
 * RX (v1.0: ffa_msg_get_v10) and RX is released. Returns when the indirect
 * handler says STOP (or on an FF-A error, returned as a negative code).
 */
int32_t ffa_service_loop(struct ffa_service *s);

/* An `indirect` handler for services that any indirect message stops (a
 * "quit"). */
enum ffa_service_action ffa_service_stop_on_message(struct ffa_service *s,
						    const struct ffa_msg *msg,
						    const void *payload);

#pragma GCC visibility pop
