/* FF-A client library (see guest/ffa.h). */
#include <guest/ffa.h>
#include <string.h>

void guest_smccc(uint64_t regs[18], int use_smc);

static bool conduit_smc;

void ffa_use_smc(bool use_smc)
{
	conduit_smc = use_smc;
}

uint64_t ffa_calls_made;

struct ffa_value ffa_call(const struct ffa_value *args)
{
	struct ffa_value r = *args;

	ffa_calls_made++;
	guest_smccc(r.x, conduit_smc);
	return r;
}

static struct ffa_value call8(uint32_t fn, uint64_t a1, uint64_t a2,
			      uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct ffa_value in = {{fn, a1, a2, a3, a4, a5}};

	return ffa_call(&in);
}

int32_t ffa_value_error(const struct ffa_value *v)
{
	return ffa_value_is(v, FFA_ERROR) ? (int32_t)v->x[2] : 0;
}

static int32_t status(struct ffa_value r)
{
	return ffa_value_error(&r);
}

int32_t ffa_version(uint32_t requested)
{
	return (int32_t)call8(FFA_VERSION, requested, 0, 0, 0, 0).x[0];
}

int32_t ffa_features(uint32_t id, uint32_t *w2, uint32_t *w3)
{
	struct ffa_value r = call8(FFA_FEATURES, id, 0, 0, 0, 0);

	if (w2 != NULL) {
		*w2 = (uint32_t)r.x[2];
	}
	if (w3 != NULL) {
		*w3 = (uint32_t)r.x[3];
	}
	return status(r);
}

int32_t ffa_id_get(uint16_t *id)
{
	struct ffa_value r = call8(FFA_ID_GET, 0, 0, 0, 0, 0);

	*id = (uint16_t)r.x[2];
	return status(r);
}

static uint32_t uuid_word(const uint8_t *uuid, int i)
{
	uint32_t v = 0;

	if (uuid != NULL) {
		for (int b = 0; b < 4; b++) {
			v |= (uint32_t)uuid[i * 4 + b] << (8 * b);
		}
	}
	return v;
}

void ffa_uuid_format(char out[37], const uint8_t uuid[16])
{
	static const char hex[] = "0123456789abcdef";
	int pos = 0;

	for (int word = 0; word < 4; word++) {
		uint32_t v = uuid_word(uuid, word);

		for (int nibble = 7; nibble >= 0; nibble--) {
			int digit = word * 8 + (7 - nibble);

			if (digit == 8 || digit == 12 || digit == 16 ||
			    digit == 20) {
				out[pos++] = '-';
			}
			out[pos++] = hex[(v >> (4 * nibble)) & 0xf];
		}
	}
	out[pos] = '\0';
}

int32_t ffa_partition_info_get(const uint8_t *uuid, uint32_t flags,
			       uint32_t *count, uint32_t *size)
{
	struct ffa_value in = {{FFA_PARTITION_INFO_GET, uuid_word(uuid, 0),
				uuid_word(uuid, 1), uuid_word(uuid, 2),
				uuid_word(uuid, 3), flags}};
	struct ffa_value r = ffa_call(&in);

	*count = (uint32_t)r.x[2];
	*size = (uint32_t)r.x[3];
	return status(r);
}

int32_t ffa_partition_info_get_regs(const uint8_t *uuid, uint16_t start,
				    struct ffa_partition_info info[5],
				    uint32_t *filled, uint16_t *last)
{
	struct ffa_value in = {
	    {FFA_PARTITION_INFO_GET_REGS,
	     uuid_word(uuid, 0) | (uint64_t)uuid_word(uuid, 1) << 32,
	     uuid_word(uuid, 2) | (uint64_t)uuid_word(uuid, 3) << 32, start}};
	struct ffa_value r = ffa_call(&in);
	uint16_t current;

	if (ffa_value_is(&r, FFA_ERROR)) {
		return status(r);
	}
	*last = (uint16_t)r.x[2];
	current = (uint16_t)(r.x[2] >> 16);
	*filled = current >= start ? current - start + 1u : 0;
	for (uint32_t i = 0; i < *filled && i < 5; i++) {
		memcpy(&info[i], &r.x[3 + 3 * i], sizeof(info[i]));
	}
	return 0;
}

int32_t ffa_rxtx_map(const void *tx, const void *rx, uint32_t page_count)
{
	return status(call8(FFA_RXTX_MAP_64, (uintptr_t)tx, (uintptr_t)rx,
			    page_count, 0, 0));
}

int32_t ffa_rxtx_map_32(const void *tx, const void *rx, uint32_t page_count)
{
	return status(call8(FFA_RXTX_MAP_32, (uintptr_t)tx, (uintptr_t)rx,
			    page_count, 0, 0));
}

int32_t ffa_rxtx_unmap(void)
{
	return status(call8(FFA_RXTX_UNMAP, 0, 0, 0, 0, 0));
}

int32_t ffa_rx_release(void)
{
	return status(call8(FFA_RX_RELEASE, 0, 0, 0, 0, 0));
}

int32_t ffa_mailbox_init(struct ffa_mailbox *mb, void *tx, void *rx,
			 uint32_t page_count, uint32_t version)
{
	int32_t err = ffa_id_get(&mb->self);

	if (err == 0) {
		err = ffa_rxtx_map(tx, rx, page_count);
	}
	mb->tx = tx;
	mb->rx = rx;
	mb->size = page_count * FFA_PAGE_SIZE;
	mb->version = version;
	mb->max_fragment = 0;
	return err;
}

int32_t ffa_msg_send2(uint32_t flags)
{
	return status(call8(FFA_MSG_SEND2, 0, flags, 0, 0, 0));
}

int32_t ffa_msg_send_v10(uint16_t sender, uint16_t receiver, uint32_t size,
			 uint32_t flags)
{
	return status(call8(FFA_MSG_SEND, ffa_endpoints(sender, receiver), 0,
			    size, flags, 0));
}

struct ffa_value ffa_msg_poll(void)
{
	return call8(FFA_MSG_POLL, 0, 0, 0, 0, 0);
}

int32_t ffa_msg_send(struct ffa_mailbox *mb, uint16_t receiver,
		     const void *payload, uint32_t size)
{
	struct ffa_msg msg = {
	    .sender = mb->self, .receiver = receiver, .size = size};
	uint32_t offset;

	if (mb->version == FFA_VERSION_1_0) {
		if (size > mb->size) {
			return FFA_INVALID_PARAMETERS;
		}
		memcpy(mb->tx, payload, size);
		return ffa_msg_send_v10(mb->self, receiver, size, 0);
	}
	if ((uint64_t)ffa_msg_payload_offset(mb->version) + size > mb->size) {
		return FFA_INVALID_PARAMETERS;
	}
	offset = ffa_msg_header_write(mb->tx, &msg, mb->version);
	memcpy(mb->tx + offset, payload, size);
	return ffa_msg_send2(0);
}

int32_t ffa_msg_get(const struct ffa_mailbox *mb, struct ffa_msg *msg,
		    const void **payload)
{
	int32_t err = ffa_msg_parse(mb->rx, mb->size, mb->version, msg);

	if (err == 0) {
		*payload = mb->rx + msg->offset;
	}
	return err;
}

int32_t ffa_msg_get_v10(const struct ffa_mailbox *mb, const struct ffa_value *r,
			struct ffa_msg *msg, const void **payload)
{
	if (!ffa_value_is(r, FFA_MSG_SEND) || (uint32_t)r->x[3] > mb->size) {
		return FFA_INVALID_PARAMETERS;
	}
	memset(msg, 0, sizeof(*msg));
	msg->sender = ffa_sender(r->x[1]);
	msg->receiver = ffa_receiver(r->x[1]);
	msg->size = (uint32_t)r->x[3];
	*payload = mb->rx;
	return 0;
}

void ffa_msg_text(const struct ffa_msg *msg, const void *payload, char *text,
		  size_t size)
{
	size_t len = msg->size < size - 1 ? msg->size : size - 1;

	memcpy(text, payload, len);
	text[len] = '\0';
}

struct ffa_value ffa_msg_wait(uint32_t flags)
{
	return call8(FFA_MSG_WAIT, 0, flags, 0, 0, 0);
}

struct ffa_value ffa_direct_req(uint16_t self, uint16_t receiver,
				const uint64_t payload[5], bool wide)
{
	struct ffa_value in = {
	    {wide ? FFA_MSG_SEND_DIRECT_REQ_64 : FFA_MSG_SEND_DIRECT_REQ_32,
	     ffa_endpoints(self, receiver), 0}};

	for (int i = 0; i < 5; i++) {
		in.x[3 + i] = payload[i];
	}
	return ffa_call(&in);
}

struct ffa_value ffa_direct_req2(uint16_t self, uint16_t receiver,
				 const uint8_t *uuid,
				 const uint64_t payload[14])
{
	struct ffa_value in = {
	    {FFA_MSG_SEND_DIRECT_REQ2, ffa_endpoints(self, receiver),
	     uuid_word(uuid, 0) | (uint64_t)uuid_word(uuid, 1) << 32,
	     uuid_word(uuid, 2) | (uint64_t)uuid_word(uuid, 3) << 32}};

	for (int i = 0; i < 14; i++) {
		in.x[4 + i] = payload[i];
	}
	return ffa_call(&in);
}

struct ffa_value ffa_direct_resp(const struct ffa_value *req,
				 const uint64_t *payload)
{
	uint32_t fn = (uint32_t)req->x[0];
	struct ffa_value in = {
	    {0, ffa_endpoints(ffa_receiver(req->x[1]), ffa_sender(req->x[1]))}};

	if (fn == FFA_MSG_SEND_DIRECT_REQ2) {
		in.x[0] = FFA_MSG_SEND_DIRECT_RESP2;
		for (int i = 0; i < 14; i++) {
			in.x[4 + i] = payload[i];
		}
	} else {
		in.x[0] = fn == FFA_MSG_SEND_DIRECT_REQ_64
			      ? FFA_MSG_SEND_DIRECT_RESP_64
			      : FFA_MSG_SEND_DIRECT_RESP_32;
		for (int i = 0; i < 5; i++) {
			in.x[3 + i] = payload[i];
		}
	}
	return ffa_call(&in);
}

static uint64_t handle_of(const struct ffa_value *r)
{
	return (uint32_t)r->x[1] | (uint64_t)(uint32_t)r->x[2] << 32;
}

int32_t ffa_mem_send(struct ffa_mailbox *mb, uint32_t fn,
		     const struct ffa_mem_constituent *cons, uint32_t count,
		     const struct ffa_mem_receiver *receivers,
		     uint32_t receiver_count, uint32_t flags, uint64_t tag,
		     uint64_t *handle)
{
	struct ffa_mem_transaction t = {
	    .sender = mb->self,
	    /* memory type: given for share, and for lend to several */
	    .attributes = (fn == FFA_MEM_SHARE_64 || fn == FFA_MEM_SHARE_32 ||
			   ((fn == FFA_MEM_LEND_64 || fn == FFA_MEM_LEND_32) &&
			    receiver_count > 1))
			      ? FFA_MEM_ATTR_NORMAL_WB_IS
			      : 0,
	    .flags = flags,
	    .tag = tag,
	    .receiver_count = receiver_count,
	    .constituent_count = count,
	};
	uint32_t room = mb->max_fragment != 0 && mb->max_fragment < mb->size
			    ? mb->max_fragment
			    : mb->size;
	struct ffa_value r;
	uint32_t total;
	uint32_t len;

	if (receiver_count > FFA_MEM_RECEIVERS_MAX) {
		return FFA_INVALID_PARAMETERS;
	}
	memcpy(t.receivers, receivers, receiver_count * sizeof(*receivers));
	len = ffa_mem_build_fragment(mb->tx, room, mb->version, &t, cons, 0,
				     &total);
	if (len == 0) {
		return FFA_NO_MEMORY;
	}
	r = call8(fn, total, len, 0, 0, 0);
	/* the hypervisor asks for the rest from the offset it has */
	while (ffa_value_is(&r, FFA_MEM_FRAG_RX)) {
		len = ffa_mem_build_fragment(mb->tx, room, mb->version, &t,
					     cons, (uint32_t)r.x[3], &total);
		/* a length of 0 is refused and ends the transaction */
		r = call8(FFA_MEM_FRAG_TX, (uint32_t)r.x[1], (uint32_t)r.x[2],
			  len, 0, 0);
	}
	if (ffa_value_is(&r, FFA_ERROR)) {
		return status(r);
	}
	if (!ffa_value_is(&r, FFA_SUCCESS_32)) {
		return FFA_INVALID_PARAMETERS;
	}
	*handle = (uint32_t)r.x[2] | (uint64_t)(uint32_t)r.x[3] << 32;
	return 0;
}

static int32_t send_one(struct ffa_mailbox *mb, uint32_t fn, uint16_t borrower,
			void *pages, uint32_t page_count, uint8_t permissions,
			uint64_t *handle)
{
	struct ffa_mem_constituent c = {(uintptr_t)pages, page_count, 0};
	struct ffa_mem_receiver r = {.id = borrower,
				     .permissions = permissions};

	return ffa_mem_send(mb, fn, &c, 1, &r, 1, 0, 0, handle);
}

int32_t ffa_mem_share(struct ffa_mailbox *mb, uint16_t borrower, void *pages,
		      uint32_t page_count, uint8_t permissions,
		      uint64_t *handle)
{
	return send_one(mb, FFA_MEM_SHARE_64, borrower, pages, page_count,
			permissions, handle);
}

int32_t ffa_mem_lend(struct ffa_mailbox *mb, uint16_t borrower, void *pages,
		     uint32_t page_count, uint8_t permissions, uint64_t *handle)
{
	return send_one(mb, FFA_MEM_LEND_64, borrower, pages, page_count,
			permissions, handle);
}

int32_t ffa_mem_donate(struct ffa_mailbox *mb, uint16_t borrower, void *pages,
		       uint32_t page_count, uint64_t *handle)
{
	return send_one(mb, FFA_MEM_DONATE_64, borrower, pages, page_count, 0,
			handle);
}

/* Copies the constituents of the fragment in RX (from index `first`). */
static int32_t take_ranges(const uint8_t *at, uint32_t count, uint32_t first,
			   struct ffa_mem_constituent *ranges,
			   uint32_t max_ranges)
{
	if (first + count > max_ranges) {
		return FFA_NO_MEMORY;
	}
	for (uint32_t i = 0; i < count; i++) {
		memcpy(&ranges[first + i], at + i * FFA_MEM_CONSTITUENT_SIZE,
		       sizeof(*ranges));
		if (!ffa_mem_constituent_valid(&ranges[first + i])) {
			return FFA_INVALID_PARAMETERS;
		}
	}
	return 0;
}

/* The response fragments after the first: MEM_FRAG_RX for each. */
static int32_t retrieve_rest(struct ffa_mailbox *mb, uint64_t handle,
			     uint32_t offset, uint32_t total,
			     struct ffa_mem_transaction *out,
			     struct ffa_mem_constituent *ranges,
			     uint32_t max_ranges)
{
	uint32_t have = out->constituents_here;

	while (offset < total) {
		struct ffa_value r = call8(FFA_MEM_FRAG_RX, (uint32_t)handle,
					   handle >> 32, offset, 0, 0);
		uint32_t len = (uint32_t)r.x[3];
		int32_t err;

		if (ffa_value_is(&r, FFA_ERROR)) {
			return status(r);
		}
		if (!ffa_value_is(&r, FFA_MEM_FRAG_TX) ||
		    handle_of(&r) != handle || len == 0 || len > mb->size ||
		    len > total - offset ||
		    len % FFA_MEM_CONSTITUENT_SIZE != 0) {
			return FFA_INVALID_PARAMETERS;
		}
		err = take_ranges(mb->rx, len / FFA_MEM_CONSTITUENT_SIZE, have,
				  ranges, max_ranges);
		ffa_rx_release();
		if (err != 0) {
			return err;
		}
		have += len / FFA_MEM_CONSTITUENT_SIZE;
		offset += len;
	}
	return have == out->constituent_count ? 0 : FFA_INVALID_PARAMETERS;
}

int32_t ffa_mem_retrieve(struct ffa_mailbox *mb, uint64_t handle,
			 uint16_t owner, uint64_t tag, uint32_t type,
			 uint8_t permissions, uint32_t flags,
			 struct ffa_mem_transaction *out,
			 struct ffa_mem_constituent *ranges,
			 uint32_t max_ranges)
{
	struct ffa_mem_transaction t = {
	    .sender = owner,
	    .flags = flags | type << FFA_MEM_RETRIEVE_TYPE_SHIFT,
	    .handle = handle,
	    .tag = tag,
	    .receiver_count = 1,
	};
	struct ffa_value r;
	uint32_t total;
	uint32_t len;
	uint64_t pages = 0;
	int32_t err;

	t.receivers[0].id = mb->self;
	t.receivers[0].permissions = permissions;
	len = ffa_mem_build(mb->tx, mb->size, mb->version, &t, NULL);
	r = call8(FFA_MEM_RETRIEVE_REQ_64, len, len, 0, 0, 0);
	if (!ffa_value_is(&r, FFA_MEM_RETRIEVE_RESP)) {
		return ffa_value_is(&r, FFA_ERROR) ? status(r)
						   : FFA_INVALID_PARAMETERS;
	}
	/* the memory is ours from here: any failure below gives it back */
	total = (uint32_t)r.x[1];
	len = (uint32_t)r.x[2];
	err = len <= mb->size
		  ? ffa_mem_parse_first(mb->rx, len, total, mb->version, out)
		  : FFA_INVALID_PARAMETERS;
	if (err == 0) {
		err = take_ranges(
		    mb->rx + out->composite_offset + FFA_MEM_COMPOSITE_SIZE,
		    out->constituents_here, 0, ranges, max_ranges);
	}
	ffa_rx_release();
	if (err == 0) {
		err = retrieve_rest(mb, handle, len, total, out, ranges,
				    max_ranges);
	}
	for (uint32_t i = 0; err == 0 && i < out->constituent_count; i++) {
		pages += ranges[i].page_count;
	}
	if (err == 0 && pages != out->page_count) {
		err = FFA_INVALID_PARAMETERS;
	}
	if (err != 0) {
		ffa_mem_relinquish(mb, handle, 0);
		return err;
	}
	out->constituents_here = out->constituent_count;
	return 0;
}

int32_t ffa_mem_relinquish(struct ffa_mailbox *mb, uint64_t handle,
			   uint32_t flags)
{
	struct ffa_mem_relinquish d = {handle, flags, mb->self};

	ffa_mem_relinquish_build(mb->tx, &d);
	return status(call8(FFA_MEM_RELINQUISH, 0, 0, 0, 0, 0));
}

int32_t ffa_mem_reclaim(uint64_t handle, uint32_t flags)
{
	return status(call8(FFA_MEM_RECLAIM, (uint32_t)handle, handle >> 32,
			    flags, 0, 0));
}

int32_t ffa_yield(void)
{
	return status(call8(FFA_YIELD, 0, 0, 0, 0, 0));
}

int32_t ffa_run(uint16_t partition, uint16_t vcpu)
{
	return status(
	    call8(FFA_RUN, ffa_endpoints(partition, vcpu), 0, 0, 0, 0));
}

int32_t ffa_console_log(const char *text, size_t len)
{
	while (len > 0) {
		size_t n = len < 128 ? len : 128;
		struct ffa_value in = {{FFA_CONSOLE_LOG_64, n}};
		int32_t err;

		for (size_t i = 0; i < n; i++) {
			in.x[2 + i / 8] |= (uint64_t)(uint8_t)text[i]
					   << (8 * (i % 8));
		}
		err = status(ffa_call(&in));
		if (err != 0) {
			return err;
		}
		text += n;
		len -= n;
	}
	return 0;
}

static bool is_direct_request(const struct ffa_value *r)
{
	return ffa_value_is(r, FFA_MSG_SEND_DIRECT_REQ_32) ||
	       ffa_value_is(r, FFA_MSG_SEND_DIRECT_REQ_64) ||
	       ffa_value_is(r, FFA_MSG_SEND_DIRECT_REQ2);
}

enum ffa_service_action ffa_service_stop_on_message(struct ffa_service *s,
						    const struct ffa_msg *msg,
						    const void *payload)
{
	(void)s;
	(void)msg;
	(void)payload;
	return FFA_SERVICE_STOP;
}

int32_t ffa_service_loop(struct ffa_service *s)
{
	struct ffa_value r = ffa_msg_wait(0);

	for (;;) {
		if (is_direct_request(&r)) {
			uint64_t resp[14] = {0};

			s->direct(s, &r, resp);
			r = ffa_direct_resp(&r, resp);
		} else if (ffa_value_is(&r, FFA_RUN) ||
			   ffa_value_is(&r, FFA_MSG_SEND)) {
			struct ffa_msg msg;
			const void *payload;
			enum ffa_service_action action = FFA_SERVICE_CONTINUE;
			bool v10 = ffa_value_is(&r, FFA_MSG_SEND);

			/* MSG_WAIT returns FFA_RUN when RX holds a message
			 * (v1.0: FFA_MSG_SEND, sender and size in w1/w3). */
			if (s->indirect != NULL &&
			    (v10 ? ffa_msg_get_v10(s->mb, &r, &msg, &payload)
				 : ffa_msg_get(s->mb, &msg, &payload)) == 0) {
				action = s->indirect(s, &msg, payload);
			}
			/* v1.0's MSG_WAIT does not release RX */
			if (action == FFA_SERVICE_STOP || v10) {
				ffa_rx_release();
			}
			if (action == FFA_SERVICE_STOP) {
				return 0;
			}
			r = ffa_msg_wait(0);
		} else if (ffa_value_is(&r, FFA_ERROR)) {
			return ffa_value_error(&r);
		} else {
			r = ffa_msg_wait(0);
		}
	}
}
