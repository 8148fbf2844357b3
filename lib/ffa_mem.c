/* FF-A memory transaction descriptors: parse, validate, build (see
 * include/bulkhead/ffa.h). Shared by the hypervisor and the guest SDK. */
#include <bulkhead/ffa.h>
#include <string.h>

/* Descriptor buffers are 8-byte aligned (RX/TX buffers are pages), and
 * every structure in a descriptor sits at a multiple of 8: telling the
 * compiler lets copies use whole words under -mstrict-align. */
#define AT(buf, offset) __builtin_assume_aligned((buf) + (offset), 8)

static bool aligned8(const void *buf)
{
	return ((uintptr_t)buf & 7) == 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != 0) {
			return false;
		}
	}
	return true;
}

/* Reads endpoint access descriptor `i` into a zeroed v1.2 struct. */
static void read_access(struct ffa_mem_access *a, const uint8_t *buf,
			uint32_t offset, uint32_t size, uint32_t i)
{
	const void *at = AT(buf, offset + (uint64_t)i * size);

	if (size == FFA_MEM_ACCESS_SIZE_1_2) {
		memcpy(a, at, FFA_MEM_ACCESS_SIZE_1_2);
	} else {
		memset(a, 0, sizeof(*a));
		memcpy(a, at, FFA_MEM_ACCESS_SIZE_1_1);
	}
}

static int parse_receivers(const uint8_t *buf, const struct ffa_mem_header *h,
			   uint32_t version, struct ffa_mem_transaction *t)
{
	for (uint32_t i = 0; i < h->access_count; i++) {
		struct ffa_mem_access a;
		struct ffa_mem_receiver *r = &t->receivers[i];

		read_access(&a, buf, h->access_offset, h->access_size, i);
		/* v1.0, v1.1: bytes 8..15 are reserved (they land in impdef) */
		if ((version < FFA_VERSION_1_2 && !all_zero(a.impdef, 8)) ||
		    a.reserved != 0 ||
		    (a.permissions & FFA_MEM_PERM_MBZ) != 0 ||
		    (a.flags & ~FFA_MEM_RECEIVER_NON_RETRIEVAL) != 0) {
			return FFA_INVALID_PARAMETERS;
		}
		if (i == 0) {
			t->composite_offset = a.composite_offset;
		} else if (a.composite_offset != t->composite_offset) {
			return FFA_INVALID_PARAMETERS;
		}
		for (uint32_t j = 0; j < i; j++) {
			if (t->receivers[j].id == a.receiver) {
				return FFA_INVALID_PARAMETERS;
			}
		}
		r->id = a.receiver;
		r->permissions = a.permissions;
		r->flags = a.flags;
		memcpy(r->impdef, a.impdef, sizeof(r->impdef));
	}
	return 0;
}

bool ffa_mem_constituent_valid(const struct ffa_mem_constituent *k)
{
	uint64_t bytes = (uint64_t)k->page_count * FFA_PAGE_SIZE;

	return k->address % FFA_PAGE_SIZE == 0 && k->page_count != 0 &&
	       k->reserved == 0 && k->address <= ~0ull - bytes;
}

/* The composite and the constituents buf[0, len) holds of a descriptor
 * `total` bytes long. */
static int parse_composite(const uint8_t *buf, uint32_t len, uint32_t total,
			   uint64_t access_end, struct ffa_mem_transaction *t)
{
	struct ffa_mem_composite c;
	uint64_t first;
	uint64_t sum = 0;

	if (t->composite_offset < access_end || t->composite_offset % 8 != 0 ||
	    (uint64_t)t->composite_offset + FFA_MEM_COMPOSITE_SIZE > len) {
		return FFA_INVALID_PARAMETERS;
	}
	memcpy(&c, AT(buf, t->composite_offset), sizeof(c));
	first = (uint64_t)t->composite_offset + FFA_MEM_COMPOSITE_SIZE;
	if (c.reserved != 0 || c.constituent_count == 0 ||
	    first + (uint64_t)c.constituent_count * FFA_MEM_CONSTITUENT_SIZE >
		total) {
		return FFA_INVALID_PARAMETERS;
	}
	t->page_count = c.page_count;
	t->constituent_count = c.constituent_count;
	t->constituents_here = c.constituent_count;
	if (len < total) {
		/* a first fragment: it ends on a constituent boundary and
		 * the rest of the descriptor is constituents */
		if ((len - first) % FFA_MEM_CONSTITUENT_SIZE != 0 ||
		    first + (uint64_t)c.constituent_count *
				FFA_MEM_CONSTITUENT_SIZE !=
			total) {
			return FFA_INVALID_PARAMETERS;
		}
		t->constituents_here =
		    (uint32_t)((len - first) / FFA_MEM_CONSTITUENT_SIZE);
	}
	for (uint32_t i = 0; i < t->constituents_here; i++) {
		struct ffa_mem_constituent k = ffa_mem_constituent(buf, t, i);

		if (!ffa_mem_constituent_valid(&k)) {
			return FFA_INVALID_PARAMETERS;
		}
		sum += k.page_count;
	}
	return len < total || sum == c.page_count ? 0 : FFA_INVALID_PARAMETERS;
}

static bool reserved_zero(const struct ffa_mem_header *h)
{
	uint32_t r[3];

	memcpy(r, h->reserved, sizeof(r));
	return (r[0] | r[1] | r[2]) == 0;
}

/* The v1.0 header (32 bytes) in the v1.1 form: its fixed access
 * descriptor size and offset filled in, its reserved byte (+3, the upper
 * half of the v1.1 attributes) and word (+24) carried into reserved[]. */
struct mem_header_1_0 {
	uint16_t sender;
	uint8_t attributes;
	uint8_t reserved0;
	uint32_t flags;
	uint64_t handle;
	uint64_t tag;
	uint32_t reserved1;
	uint32_t access_count;
};

_Static_assert(sizeof(struct mem_header_1_0) == FFA_MEM_HEADER_SIZE_1_0,
	       "FF-A v1.0 memory transaction header is 32 bytes");

static void read_header(struct ffa_mem_header *h, const uint8_t *buf,
			uint32_t version)
{
	struct mem_header_1_0 o;
	uint32_t reserved[3];

	if (version != FFA_VERSION_1_0) {
		memcpy(h, AT(buf, 0), sizeof(*h));
		return;
	}
	memcpy(&o, AT(buf, 0), sizeof(o));
	h->sender = o.sender;
	h->attributes = o.attributes;
	h->flags = o.flags;
	h->handle = o.handle;
	h->tag = o.tag;
	h->access_size = FFA_MEM_ACCESS_SIZE_1_1;
	h->access_count = o.access_count;
	h->access_offset = FFA_MEM_HEADER_SIZE_1_0;
	reserved[0] = o.reserved0;
	reserved[1] = o.reserved1;
	reserved[2] = 0;
	memcpy(h->reserved, reserved, sizeof(reserved));
}

static void write_header(uint8_t *out, const struct ffa_mem_header *h,
			 uint32_t version)
{
	if (version != FFA_VERSION_1_0) {
		memcpy(AT(out, 0), h, sizeof(*h));
	} else {
		struct mem_header_1_0 o = {
		    .sender = h->sender,
		    .attributes = (uint8_t)h->attributes,
		    .flags = h->flags,
		    .handle = h->handle,
		    .tag = h->tag,
		    .access_count = h->access_count,
		};

		memcpy(AT(out, 0), &o, sizeof(o));
	}
}

static int parse(const void *buf, uint32_t len, uint32_t total,
		 uint32_t version, bool composite_required,
		 struct ffa_mem_transaction *t)
{
	uint32_t access_size = ffa_mem_access_size(version);
	struct ffa_mem_header h;
	uint64_t access_end;
	int err;

	t->composite_offset = 0;
	t->page_count = 0;
	t->constituent_count = 0;
	t->constituents_here = 0;
	if (len < ffa_mem_header_size(version) || !aligned8(buf)) {
		return FFA_INVALID_PARAMETERS;
	}
	read_header(&h, buf, version);
	access_end =
	    (uint64_t)h.access_offset + (uint64_t)h.access_count * access_size;
	if (h.access_size != access_size || h.access_count == 0 ||
	    h.access_count > FFA_MEM_RECEIVERS_MAX ||
	    h.access_offset < ffa_mem_header_size(version) ||
	    h.access_offset % 16 != 0 || access_end > len ||
	    !reserved_zero(&h)) {
		return FFA_INVALID_PARAMETERS;
	}
	t->sender = h.sender;
	t->attributes = h.attributes;
	t->flags = h.flags;
	t->handle = h.handle;
	t->tag = h.tag;
	t->receiver_count = h.access_count;
	err = parse_receivers(buf, &h, version, t);
	if (err != 0) {
		return err;
	}
	if (!composite_required) {
		return t->composite_offset == 0 ? 0 : FFA_INVALID_PARAMETERS;
	}
	return parse_composite(buf, len, total, access_end, t);
}

int ffa_mem_parse(const void *buf, uint32_t len, uint32_t version,
		  bool composite_required, struct ffa_mem_transaction *t)
{
	return parse(buf, len, len, version, composite_required, t);
}

int ffa_mem_parse_first(const void *buf, uint32_t len, uint32_t total,
			uint32_t version, struct ffa_mem_transaction *t)
{
	return len <= total ? parse(buf, len, total, version, true, t)
			    : FFA_INVALID_PARAMETERS;
}

struct ffa_mem_constituent
ffa_mem_constituent(const void *buf, const struct ffa_mem_transaction *t,
		    uint32_t i)
{
	struct ffa_mem_constituent k;

	memcpy(&k,
	       AT((const uint8_t *)buf,
		  t->composite_offset + FFA_MEM_COMPOSITE_SIZE +
		      (uint64_t)i * FFA_MEM_CONSTITUENT_SIZE),
	       sizeof(k));
	return k;
}

uint32_t ffa_mem_build_fragment(void *buf, uint32_t size, uint32_t version,
				struct ffa_mem_transaction *t,
				const struct ffa_mem_constituent *cons,
				uint32_t offset, uint32_t *total)
{
	uint32_t access_size = ffa_mem_access_size(version);
	uint32_t header_size = ffa_mem_header_size(version);
	uint64_t access_end =
	    header_size + (uint64_t)t->receiver_count * access_size;
	uint64_t composite = cons != NULL ? (access_end + 15) & ~15ull : 0;
	uint64_t head =
	    cons != NULL ? composite + FFA_MEM_COMPOSITE_SIZE : access_end;
	uint32_t count = cons != NULL ? t->constituent_count : 0;
	uint64_t first;
	uint64_t n;
	uint8_t *out = buf;

	*total = 0;
	if (t->receiver_count > FFA_MEM_RECEIVERS_MAX || !aligned8(buf)) {
		return 0;
	}
	*total = (uint32_t)(head + (uint64_t)count * FFA_MEM_CONSTITUENT_SIZE);
	t->composite_offset = (uint32_t)composite;
	t->page_count = 0;
	for (uint32_t i = 0; i < count; i++) {
		t->page_count += cons[i].page_count;
	}
	if (offset == 0) {
		struct ffa_mem_header h = {
		    .sender = t->sender,
		    .attributes = t->attributes,
		    .flags = t->flags,
		    .handle = t->handle,
		    .tag = t->tag,
		    .access_size = access_size,
		    .access_count = t->receiver_count,
		    .access_offset = header_size,
		};

		if (head > size) {
			return 0;
		}
		write_header(out, &h, version);
		for (uint32_t i = 0; i < t->receiver_count; i++) {
			struct ffa_mem_access a = {
			    .receiver = t->receivers[i].id,
			    .permissions = t->receivers[i].permissions,
			    .flags = t->receivers[i].flags,
			    .composite_offset = t->composite_offset,
			};

			void *at = AT(out, header_size + i * access_size);

			if (version >= FFA_VERSION_1_2) {
				memcpy(a.impdef, t->receivers[i].impdef,
				       sizeof(a.impdef));
				memcpy(at, &a, FFA_MEM_ACCESS_SIZE_1_2);
			} else {
				memcpy(at, &a, FFA_MEM_ACCESS_SIZE_1_1);
			}
		}
		if (cons != NULL) {
			struct ffa_mem_composite c = {t->page_count,
						      t->constituent_count, 0};

			/* access descriptors end 16-byte aligned: no gap */
			memcpy(AT(out, composite), &c, sizeof(c));
		}
		out += head;
		size -= (uint32_t)head;
		first = 0;
	} else if (offset < head || offset >= *total ||
		   (offset - head) % FFA_MEM_CONSTITUENT_SIZE != 0) {
		return 0;
	} else {
		first = (offset - head) / FFA_MEM_CONSTITUENT_SIZE;
	}
	n = count - first;
	if (n > size / FFA_MEM_CONSTITUENT_SIZE) {
		n = size / FFA_MEM_CONSTITUENT_SIZE;
	}
	if (n > 0) {
		memcpy(out, &cons[first], n * FFA_MEM_CONSTITUENT_SIZE);
	}
	return (uint32_t)((offset == 0 ? head : 0) +
			  n * FFA_MEM_CONSTITUENT_SIZE);
}

uint32_t ffa_mem_build(void *buf, uint32_t size, uint32_t version,
		       struct ffa_mem_transaction *t,
		       const struct ffa_mem_constituent *cons)
{
	uint32_t total;
	uint32_t len =
	    ffa_mem_build_fragment(buf, size, version, t, cons, 0, &total);

	return len == total ? len : 0;
}

uint32_t ffa_mem_relinquish_build(void *buf, const struct ffa_mem_relinquish *r)
{
	uint8_t *out = buf;
	uint32_t count = 1;

	memcpy(out, &r->handle, 8);
	memcpy(out + 8, &r->flags, 4);
	memcpy(out + 12, &count, 4);
	memcpy(out + 16, &r->endpoint, 2);
	return FFA_MEM_RELINQUISH_SIZE;
}

int ffa_mem_relinquish_parse(const void *buf, uint32_t len,
			     struct ffa_mem_relinquish *r)
{
	const uint8_t *in = buf;
	uint32_t count;

	if (len < FFA_MEM_RELINQUISH_SIZE) {
		return FFA_INVALID_PARAMETERS;
	}
	memcpy(&r->handle, in, 8);
	memcpy(&r->flags, in + 8, 4);
	memcpy(&count, in + 12, 4);
	memcpy(&r->endpoint, in + 16, 2);
	if (count != 1 || (r->flags & ~FFA_MEM_RELINQUISH_ZERO) != 0) {
		return FFA_INVALID_PARAMETERS;
	}
	return 0;
}
