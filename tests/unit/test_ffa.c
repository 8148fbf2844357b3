/* Host unit tests of the FF-A header and descriptor encoders (lib/ffa.c). */
#include <string.h>

#include <bulkhead/ffa.h>

#include "unit.h"

static uint8_t buf[4096];

static uint32_t u32_at(const uint8_t *p, size_t offset)
{
	uint32_t v;

	memcpy(&v, p + offset, sizeof(v));
	return v;
}

static void put_u32(uint8_t *p, size_t offset, uint32_t v)
{
	memcpy(p + offset, &v, sizeof(v));
}

static const struct ffa_msg sample = {
    .sender = 0x8001,
    .receiver = 0x0002,
    .size = 64,
    .uuid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};

UNIT(ffa_msg_header_v12_layout)
{
	memset(buf, 0xee, sizeof(buf));
	EXPECT_EQ(40, ffa_msg_header_write(buf, &sample, FFA_VERSION_1_2));
	EXPECT_EQ(0, u32_at(buf, 0));		 /* flags */
	EXPECT_EQ(0, u32_at(buf, 4));		 /* reserved */
	EXPECT_EQ(40, u32_at(buf, 8));		 /* offset */
	EXPECT_EQ(0x80010002u, u32_at(buf, 12)); /* sender [31:16] */
	EXPECT_EQ(64, u32_at(buf, 16));
	EXPECT_EQ(0, u32_at(buf, 20));
	EXPECT_EQ(0, memcmp(buf + 24, sample.uuid, 16));
	EXPECT_EQ(0xee, buf[40]); /* the payload is not touched */
}

UNIT(ffa_msg_header_v11_layout)
{
	memset(buf, 0xee, sizeof(buf));
	EXPECT_EQ(24, ffa_msg_header_write(buf, &sample, FFA_VERSION_1_1));
	EXPECT_EQ(24, u32_at(buf, 8));
	EXPECT_EQ(0x80010002u, u32_at(buf, 12));
	EXPECT_EQ(64, u32_at(buf, 16));
	EXPECT_EQ(0, u32_at(buf, 20)); /* padding up to the payload */
	EXPECT_EQ(0xee, buf[24]);
}

UNIT(ffa_msg_parse_round_trip)
{
	struct ffa_msg got;

	for (uint32_t v = FFA_VERSION_1_1; v <= FFA_VERSION_1_2; v++) {
		memset(buf, 0, sizeof(buf));
		ffa_msg_header_write(buf, &sample, v);
		EXPECT_EQ(0, ffa_msg_parse(buf, sizeof(buf), v, &got));
		EXPECT_EQ(sample.sender, got.sender);
		EXPECT_EQ(sample.receiver, got.receiver);
		EXPECT_EQ(ffa_msg_payload_offset(v), got.offset);
		EXPECT_EQ(64, got.size);
	}
	EXPECT_EQ(0, memcmp(sample.uuid, got.uuid, 16));
}

/* A v1.2 header with the given offset and size, everything else valid. */
static int parse_with(uint32_t offset, uint32_t size, uint32_t buf_size)
{
	struct ffa_msg got;

	memset(buf, 0, sizeof(buf));
	ffa_msg_header_write(buf, &sample, FFA_VERSION_1_2);
	put_u32(buf, 8, offset);
	put_u32(buf, 16, size);
	return ffa_msg_parse(buf, buf_size, FFA_VERSION_1_2, &got);
}

UNIT(ffa_msg_parse_bounds)
{
	EXPECT_EQ(0, parse_with(40, 4096 - 40, 4096));
	EXPECT_EQ(0, parse_with(4096, 0, 4096));
	EXPECT_EQ(0, parse_with(40, 0, 4096));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse_with(40, 4096 - 40 + 1, 4096));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse_with(39, 8, 4096));
	/* offset + size wraps in 32 bits */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse_with(0xfffffff0u, 0x20, 4096));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse_with(40, 0xffffffffu, 4096));
	/* a buffer smaller than the header */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse_with(40, 0, 39));
	/* v1.1 headers may put the payload at 20 */
	memset(buf, 0, sizeof(buf));
	put_u32(buf, 8, 20);
	put_u32(buf, 16, 4);
	{
		struct ffa_msg got;

		EXPECT_EQ(0, ffa_msg_parse(buf, 4096, FFA_VERSION_1_1, &got));
		EXPECT_EQ(FFA_INVALID_PARAMETERS,
			  ffa_msg_parse(buf, 4096, FFA_VERSION_1_2, &got));
	}
}

UNIT(ffa_msg_parse_reserved_fields)
{
	struct ffa_msg got;
	static const size_t mbz[] = {0, 4, 20};

	for (size_t i = 0; i < sizeof(mbz) / sizeof(mbz[0]); i++) {
		memset(buf, 0, sizeof(buf));
		ffa_msg_header_write(buf, &sample, FFA_VERSION_1_2);
		put_u32(buf, mbz[i], 1);
		EXPECT_EQ(FFA_INVALID_PARAMETERS,
			  ffa_msg_parse(buf, 4096, FFA_VERSION_1_2, &got));
	}
	/* a v1.1 header ends at byte 20: what follows is not checked */
	memset(buf, 0, sizeof(buf));
	ffa_msg_header_write(buf, &sample, FFA_VERSION_1_1);
	put_u32(buf, 20, 1);
	EXPECT_EQ(0, ffa_msg_parse(buf, 4096, FFA_VERSION_1_1, &got));
}

UNIT(ffa_partition_info_per_version)
{
	struct ffa_partition_info info = {.id = 7,
					  .exec_context_count = 2,
					  .properties = 0x7ff,
					  .uuid = {0xaa, 0xbb}};
	struct ffa_partition_info back;

	memset(buf, 0xee, sizeof(buf));
	EXPECT_EQ(24, ffa_partition_info_write(buf, &info, FFA_VERSION_1_2));
	EXPECT_EQ(0x00020007u, u32_at(buf, 0));
	EXPECT_EQ(0x7ff, u32_at(buf, 4));
	EXPECT_EQ(0xaa, buf[8]);
	EXPECT_EQ(0xee, buf[24]);
	EXPECT_EQ(24, ffa_partition_info_write(buf, &info, FFA_VERSION_1_1));
	EXPECT_EQ(0x1ff, u32_at(buf, 4)); /* REQ2 bits are v1.2 */
	memset(buf, 0xee, sizeof(buf));
	EXPECT_EQ(8, ffa_partition_info_write(buf, &info, FFA_VERSION_1_0));
	EXPECT_EQ(0x7, u32_at(buf, 4));
	EXPECT_EQ(0xee, buf[8]);
	ffa_partition_info_read(&back, buf, FFA_VERSION_1_0);
	EXPECT_EQ(7, back.id);
	EXPECT_EQ(2, back.exec_context_count);
	EXPECT_EQ(0, back.uuid[0]);
}
