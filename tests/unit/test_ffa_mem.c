/* Host unit tests of the FF-A memory transaction descriptors
 * (lib/ffa_mem.c): layouts, round trips and every structural rejection. */
#include <string.h>

#include <bulkhead/ffa.h>

#include "unit.h"

static uint8_t buf[16384] __attribute__((aligned(8)));

static const struct ffa_mem_constituent two[2] = {
    {0x44000000, 2, 0},
    {0x44100000, 1, 0},
};

static struct ffa_mem_transaction sample(uint32_t receivers)
{
	struct ffa_mem_transaction t = {
	    .sender = 1,
	    .attributes = FFA_MEM_ATTR_NORMAL_WB_IS,
	    .flags = 0,
	    .tag = 0x1234,
	    .receiver_count = receivers,
	    .constituent_count = 2,
	};

	for (uint32_t i = 0; i < receivers; i++) {
		t.receivers[i].id = (uint16_t)(2 + i);
		t.receivers[i].permissions = FFA_MEM_DATA_RW;
	}
	return t;
}

static uint32_t u32_at(size_t offset)
{
	uint32_t v;

	memcpy(&v, buf + offset, 4);
	return v;
}

static void put_u32(size_t offset, uint32_t v)
{
	memcpy(buf + offset, &v, 4);
}

static void put_u64(size_t offset, uint64_t v)
{
	memcpy(buf + offset, &v, 8);
}

/* Builds the two-receiver sample for `version`; returns its length. */
static uint32_t build(uint32_t version)
{
	struct ffa_mem_transaction t = sample(2);

	memset(buf, 0xee, sizeof(buf));
	return ffa_mem_build(buf, sizeof(buf), version, &t, two);
}

static int parse(uint32_t len, uint32_t version)
{
	struct ffa_mem_transaction t;

	return ffa_mem_parse(buf, len, version, true, &t);
}

UNIT(ffa_mem_layout_v12)
{
	uint32_t len = build(FFA_VERSION_1_2);

	/* 48 header + 2 x 32 access = 112, composite at 112, 2 constituents */
	EXPECT_EQ(112 + 16 + 32, len);
	EXPECT_EQ(0x002f0001u, u32_at(0));  /* sender 1, attributes 0x2f */
	EXPECT_EQ(32, u32_at(24));	    /* access size */
	EXPECT_EQ(2, u32_at(28));	    /* count */
	EXPECT_EQ(48, u32_at(32));	    /* offset */
	EXPECT_EQ(0x00020002u, u32_at(48)); /* receiver 2, RW */
	EXPECT_EQ(112, u32_at(52));	    /* composite offset */
	EXPECT_EQ(112, u32_at(84));	    /* same for receiver 3 */
	EXPECT_EQ(3, u32_at(112));	    /* total pages */
	EXPECT_EQ(2, u32_at(116));	    /* constituents */
	EXPECT_EQ(0x44000000u, u32_at(128));
	EXPECT_EQ(2, u32_at(136));
	EXPECT_EQ(0xee, buf[len]);
}

UNIT(ffa_mem_layout_v11)
{
	uint32_t len = build(FFA_VERSION_1_1);

	/* 48 + 2 x 16 = 80, composite at 80 */
	EXPECT_EQ(80 + 16 + 32, len);
	EXPECT_EQ(16, u32_at(24));
	EXPECT_EQ(80, u32_at(52));
	EXPECT_EQ(0x00020003u, u32_at(64)); /* receiver 3 (RW) at 48 + 16 */
	EXPECT_EQ(80, u32_at(68));
}

/* DEN0077 v1.0, "Lend, donate or share memory transaction descriptor": a
 * 32-byte header (1-byte attributes, no descriptor size or offset), the
 * 16-byte endpoint descriptors from byte 32. */
UNIT(ffa_mem_layout_v10)
{
	uint32_t len = build(FFA_VERSION_1_0);

	/* 32 + 2 x 16 = 64, composite at 64, 2 constituents */
	EXPECT_EQ(64 + 16 + 32, len);
	EXPECT_EQ(0x002f0001u, u32_at(0));  /* sender 1, attributes, +3 0 */
	EXPECT_EQ(0, u32_at(4));	    /* flags */
	EXPECT_EQ(0, u32_at(8));	    /* handle */
	EXPECT_EQ(0x1234, u32_at(16));	    /* tag */
	EXPECT_EQ(0, u32_at(24));	    /* reserved */
	EXPECT_EQ(2, u32_at(28));	    /* endpoint count */
	EXPECT_EQ(0x00020002u, u32_at(32)); /* receiver 2, RW */
	EXPECT_EQ(64, u32_at(36));	    /* composite offset */
	EXPECT_EQ(0, u32_at(40));	    /* reserved */
	EXPECT_EQ(0, u32_at(44));
	EXPECT_EQ(0x00020003u, u32_at(48));
	EXPECT_EQ(64, u32_at(52));
	EXPECT_EQ(3, u32_at(64)); /* total pages */
	EXPECT_EQ(2, u32_at(68));
	EXPECT_EQ(0x44000000u, u32_at(80));
	EXPECT_EQ(2, u32_at(88));
	EXPECT_EQ(0x44100000u, u32_at(96));
	EXPECT_EQ(0xee, buf[len]);
}

/*
 * The descriptor Linux 6.1's arm_ffa driver (which negotiates v1.0)
 * writes for FFA_MEM_LEND/SHARE, byte by byte: its struct ffa_mem_region
 * (u16 sender, u16 attributes, u32 flags, u64 handle, u64 tag, u32
 * reserved, u32 ep_count), ep_mem_access[] at 32 with composite_off =
 * 32 + 16 * n, the composite right after them.
 */
UNIT(ffa_mem_v10_linux_descriptor_parses)
{
	struct ffa_mem_transaction t;
	struct ffa_mem_constituent k;

	memset(buf, 0, sizeof(buf));
	put_u32(0, 0x002f0001u);  /* sender 1, normal WB IS */
	put_u64(16, 0x77);	  /* tag */
	put_u32(28, 1);		  /* ep_count */
	put_u32(32, 0x00020002u); /* receiver 2, RW, flag 0 */
	put_u32(36, 48);	  /* composite_off */
	put_u32(48, 3);		  /* total_pg_cnt */
	put_u32(52, 2);		  /* addr_range_cnt */
	put_u64(64, 0x44000000);  /* address */
	put_u32(72, 2);		  /* pg_cnt */
	put_u64(80, 0x44100000);
	put_u32(88, 1);
	EXPECT_EQ(0, ffa_mem_parse(buf, 96, FFA_VERSION_1_0, true, &t));
	EXPECT_EQ(1, t.sender);
	EXPECT_EQ(FFA_MEM_ATTR_NORMAL_WB_IS, t.attributes);
	EXPECT_EQ(0x77, t.tag);
	EXPECT_EQ(1, t.receiver_count);
	EXPECT_EQ(2, t.receivers[0].id);
	EXPECT_EQ(FFA_MEM_DATA_RW, t.receivers[0].permissions);
	EXPECT_EQ(48, t.composite_offset);
	EXPECT_EQ(3, t.page_count);
	k = ffa_mem_constituent(buf, &t, 1);
	EXPECT_EQ(0x44100000, k.address);
	/* the same bytes are no v1.1 descriptor (access size 0 at +24) */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_mem_parse(buf, 96, FFA_VERSION_1_1, true, &t));
}

UNIT(ffa_mem_v10_reserved_fields_must_be_zero)
{
	uint32_t len;

	len = build(FFA_VERSION_1_0);
	EXPECT_EQ(0, parse(len, FFA_VERSION_1_0));
	buf[3] = 1; /* reserved byte after the 8-bit attributes */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_0));
	len = build(FFA_VERSION_1_0);
	put_u32(24, 16); /* a v1.1 access size where v1.0 reserves */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_0));
	len = build(FFA_VERSION_1_0);
	put_u64(40, 1); /* the endpoint descriptor's reserved word */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_0));
	/* shorter than the header */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(31, FFA_VERSION_1_0));
	/* a v1.1 descriptor is no v1.0 one */
	len = build(FFA_VERSION_1_1);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_0));
}

UNIT(ffa_mem_v10_retrieve_request_and_fragments)
{
	struct ffa_mem_transaction t = sample(1);
	struct ffa_mem_transaction got;
	uint32_t total = 0;
	uint32_t len;

	t.handle = FFA_MEM_HANDLE_HYPERVISOR | 7;
	t.flags = FFA_MEM_TYPE_SHARE << FFA_MEM_RETRIEVE_TYPE_SHIFT;
	len = ffa_mem_build(buf, sizeof(buf), FFA_VERSION_1_0, &t, NULL);
	EXPECT_EQ(32 + 16, len);
	EXPECT_EQ(0, u32_at(36)); /* no composite in a request */
	EXPECT_EQ(0, ffa_mem_parse(buf, len, FFA_VERSION_1_0, false, &got));
	EXPECT_EQ(FFA_MEM_HANDLE_HYPERVISOR | 7, got.handle);
	EXPECT_EQ(t.flags, got.flags);
	/* a response in pieces: the first holds the header, the receiver,
	 * the composite and one constituent */
	t = sample(1);
	len = ffa_mem_build_fragment(buf, 32 + 16 + 16 + 16, FFA_VERSION_1_0,
				     &t, two, 0, &total);
	EXPECT_EQ(80, len);
	EXPECT_EQ(96, total);
	EXPECT_EQ(0,
		  ffa_mem_parse_first(buf, len, total, FFA_VERSION_1_0, &got));
	EXPECT_EQ(1, got.constituents_here);
	len = ffa_mem_build_fragment(buf, 4096, FFA_VERSION_1_0, &t, two, 80,
				     &total);
	EXPECT_EQ(16, len);
	EXPECT_EQ(0x44100000u, u32_at(0));
}

UNIT(ffa_mem_round_trip)
{
	for (uint32_t v = FFA_VERSION_1_0; v <= FFA_VERSION_1_2; v++) {
		uint32_t len = build(v);
		struct ffa_mem_transaction t;
		struct ffa_mem_constituent k;

		EXPECT_EQ(0, ffa_mem_parse(buf, len, v, true, &t));
		EXPECT_EQ(1, t.sender);
		EXPECT_EQ(FFA_MEM_ATTR_NORMAL_WB_IS, t.attributes);
		EXPECT_EQ(0x1234, t.tag);
		EXPECT_EQ(2, t.receiver_count);
		EXPECT_EQ(3, t.receivers[1].id);
		EXPECT_EQ(FFA_MEM_DATA_RW, t.receivers[1].permissions);
		EXPECT_EQ(3, t.page_count);
		EXPECT_EQ(2, t.constituent_count);
		k = ffa_mem_constituent(buf, &t, 1);
		EXPECT_EQ(0x44100000, k.address);
		EXPECT_EQ(1, k.page_count);
	}
}

UNIT(ffa_mem_retrieve_request_has_no_composite)
{
	struct ffa_mem_transaction t = sample(1);
	struct ffa_mem_transaction got;
	uint32_t len;

	t.handle = FFA_MEM_HANDLE_HYPERVISOR | 5;
	t.flags = FFA_MEM_TYPE_LEND << FFA_MEM_RETRIEVE_TYPE_SHIFT;
	len = ffa_mem_build(buf, sizeof(buf), FFA_VERSION_1_2, &t, NULL);
	EXPECT_EQ(48 + 32, len);
	EXPECT_EQ(0, ffa_mem_parse(buf, len, FFA_VERSION_1_2, false, &got));
	EXPECT_EQ(FFA_MEM_HANDLE_HYPERVISOR | 5, got.handle);
	EXPECT_EQ(0, got.constituent_count);
	/* a composite is required on send */
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_mem_parse(buf, len, FFA_VERSION_1_2, true, &got));
	/* and refused in a retrieve request */
	len = build(FFA_VERSION_1_2);
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_mem_parse(buf, len, FFA_VERSION_1_2, false, &got));
}

UNIT(ffa_mem_reject_header_fields)
{
	uint32_t len;

	len = build(FFA_VERSION_1_2);
	put_u32(24, 16); /* v1.1 access size in a v1.2 descriptor */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u32(28, 0); /* no receivers */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u32(28, FFA_MEM_RECEIVERS_MAX + 1);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u32(32, 40); /* access offset inside the header */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u32(32, 56); /* not 16-byte aligned */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u32(28, 0x08000001); /* count x size wraps 32 bits */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	buf[40] = 1; /* reserved */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(47, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len - 1, FFA_VERSION_1_2));
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_0));
}

UNIT(ffa_mem_reject_access_descriptors)
{
	uint32_t len;

	len = build(FFA_VERSION_1_2);
	buf[50] = 0x12; /* permission bits [7:4] */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	buf[51] = 2; /* unknown receiver flag */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u64(48 + 24, 1); /* v1.2 reserved */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	buf[48 + 8] = 7; /* impdef passes through */
	EXPECT_EQ(0, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_1);
	buf[48 + 8] = 7; /* v1.1: reserved */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_1));
	len = build(FFA_VERSION_1_2);
	put_u32(80, 0x00020002u); /* receiver 3 -> 2: duplicate */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u32(84, 128); /* composite offsets differ */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
}

UNIT(ffa_mem_reject_composite_and_constituents)
{
	uint32_t len;

	len = build(FFA_VERSION_1_2);
	put_u32(52, 64); /* composite over the access descriptors */
	put_u32(84, 64);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u32(52, 0xfffffff8u); /* composite beyond the buffer */
	put_u32(84, 0xfffffff8u);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u32(112, 4); /* page counts do not add up */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u32(116, 0); /* zero constituents */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u32(116, 0x10000000); /* count x 16 wraps 32 bits */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u64(128, 0x44000800); /* unaligned constituent */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u32(136, 0); /* empty constituent, total adjusted */
	put_u32(112, 1);
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u64(144, 0xfffffffffffff000ull); /* range wraps the address space */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	put_u32(140, 1); /* constituent reserved */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
	len = build(FFA_VERSION_1_2);
	buf[120] = 1; /* composite reserved */
	EXPECT_EQ(FFA_INVALID_PARAMETERS, parse(len, FFA_VERSION_1_2));
}

UNIT(ffa_mem_many_constituents)
{
	static struct ffa_mem_constituent cons[600];
	struct ffa_mem_transaction t = sample(1);
	struct ffa_mem_transaction got;
	uint32_t len;

	for (int i = 0; i < 600; i++) {
		cons[i] = (struct ffa_mem_constituent){
		    0x44000000ull + 2ull * i * FFA_PAGE_SIZE, 1, 0};
	}
	t.constituent_count = 600;
	len = ffa_mem_build(buf, sizeof(buf), FFA_VERSION_1_2, &t, cons);
	EXPECT_EQ(48 + 32 + 16 + 600 * 16, len);
	EXPECT_EQ(0, ffa_mem_parse(buf, len, FFA_VERSION_1_2, true, &got));
	EXPECT_EQ(600, got.page_count);
	EXPECT_EQ(0x44000000ull + 2ull * 599 * FFA_PAGE_SIZE,
		  ffa_mem_constituent(buf, &got, 599).address);
	/* does not fit a small buffer */
	EXPECT_EQ(0, ffa_mem_build(buf, 4096, FFA_VERSION_1_2, &t, cons));
}

UNIT(ffa_mem_relinquish_descriptor)
{
	struct ffa_mem_relinquish r = {FFA_MEM_HANDLE_HYPERVISOR | 9,
				       FFA_MEM_RELINQUISH_ZERO, 3};
	struct ffa_mem_relinquish got;

	EXPECT_EQ(18, ffa_mem_relinquish_build(buf, &r));
	EXPECT_EQ(1, u32_at(12));
	EXPECT_EQ(0, ffa_mem_relinquish_parse(buf, 18, &got));
	EXPECT_EQ(r.handle, got.handle);
	EXPECT_EQ(3, got.endpoint);
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_mem_relinquish_parse(buf, 17, &got));
	put_u32(12, 2);
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_mem_relinquish_parse(buf, 18, &got));
	put_u32(12, 1);
	put_u32(8, 2);
	EXPECT_EQ(FFA_INVALID_PARAMETERS,
		  ffa_mem_relinquish_parse(buf, 18, &got));
}
