/* FF-A descriptor encoders and validators shared by hypervisor and guests. */
#include <bulkhead/ffa.h>
#include <stddef.h>
#include <string.h>

static uint32_t version_props(uint32_t version)
{
	switch (version) {
	case FFA_VERSION_1_0:
		return FFA_PROPS_1_0;
	case FFA_VERSION_1_1:
		return FFA_PROPS_1_1;
	default:
		return FFA_PROPS_1_2;
	}
}

uint32_t ffa_partition_info_write(void *dst,
				  const struct ffa_partition_info *info,
				  uint32_t version)
{
	struct ffa_partition_info out = *info;
	uint32_t size = ffa_partition_info_size(version);

	out.properties &= version_props(version);
	memcpy(dst, &out, size);
	return size;
}

void ffa_partition_info_read(struct ffa_partition_info *info, const void *src,
			     uint32_t version)
{
	memset(info, 0, sizeof(*info));
	memcpy(info, src, ffa_partition_info_size(version));
}

int ffa_msg_parse(const void *buf, uint32_t buf_size, uint32_t version,
		  struct ffa_msg *msg)
{
	struct ffa_msg_header h;
	uint32_t header_size = ffa_msg_header_size(version);

	if (buf_size < header_size) {
		return FFA_INVALID_PARAMETERS;
	}
	memset(&h, 0, sizeof(h));
	memcpy(&h, buf, header_size);
	if (h.flags != 0 || h.reserved0 != 0 || h.reserved1 != 0) {
		return FFA_INVALID_PARAMETERS;
	}
	/* 64-bit sums: offset + size cannot wrap. */
	if (h.offset < header_size ||
	    (uint64_t)h.offset + h.size > (uint64_t)buf_size) {
		return FFA_INVALID_PARAMETERS;
	}
	msg->sender = ffa_sender(h.endpoints);
	msg->receiver = ffa_receiver(h.endpoints);
	msg->offset = h.offset;
	msg->size = h.size;
	memcpy(msg->uuid, h.uuid, sizeof(msg->uuid));
	return 0;
}

uint32_t ffa_msg_header_write(void *buf, const struct ffa_msg *msg,
			      uint32_t version)
{
	uint32_t offset = ffa_msg_payload_offset(version);
	/* struct ffa_msg_header as little-endian words, written in place:
	 * flags and reserved0 zero, offset, endpoints; then size and
	 * reserved1 (v1.1: the padding up to the payload), zero */
	uint64_t head[2] = {
	    0, offset | (uint64_t)ffa_endpoints(msg->sender, msg->receiver)
			    << 32};
	uint64_t size = msg->size;
	uint8_t *b = buf;

	_Static_assert(offsetof(struct ffa_msg_header, size) == 16 &&
			   offsetof(struct ffa_msg_header, uuid) == 24,
		       "header words as written below");
	memcpy(b, head, sizeof(head));
	memcpy(b + 16, &size, sizeof(size));
	if (version >= FFA_VERSION_1_2) {
		memcpy(b + 24, msg->uuid, 16);
	}
	return offset;
}
