/* Host tests of the hypervisor's own memcpy and memset (lib/string.c),
 * renamed so that they do not replace the host C library's: every
 * alignment of source and destination, every length up to a few words,
 * and not one byte written outside the destination. */
#include <stdint.h>
#include <stddef.h>

#define memset	bh_memset
#define memcpy	bh_memcpy
#define memmove bh_memmove
#define memcmp	bh_memcmp
#define strlen	bh_strlen
#define strncmp bh_strncmp
#define strcmp	bh_strcmp
#include "../../lib/string.c"
#undef memset
#undef memcpy
#undef memmove
#undef memcmp
#undef strlen
#undef strncmp
#undef strcmp

#include "unit.h"

#define SPAN  96
#define GUARD 0xa5

UNIT(string_memcpy_every_alignment_and_length)
{
	uint8_t src[SPAN + 16] __attribute__((aligned(8)));
	uint8_t dst[SPAN + 32] __attribute__((aligned(8)));

	for (size_t i = 0; i < sizeof(src); i++) {
		src[i] = (uint8_t)(i * 7 + 1);
	}
	for (size_t so = 0; so < 8; so++) {
		for (size_t dof = 0; dof < 8; dof++) {
			for (size_t n = 0; n <= SPAN; n++) {
				for (size_t i = 0; i < sizeof(dst); i++) {
					dst[i] = GUARD;
				}
				EXPECT_TRUE(bh_memcpy(dst + 8 + dof, src + so,
						      n) == dst + 8 + dof);
				for (size_t i = 0; i < sizeof(dst); i++) {
					size_t at = i - 8 - dof;
					uint8_t want = (i >= 8 + dof && at < n)
							   ? src[so + at]
							   : GUARD;

					if (dst[i] != want) {
						fprintf(stderr,
							"memcpy so=%zu do=%zu "
							"n=%zu: byte %zu\n",
							so, dof, n, i);
					}
					EXPECT_EQ(want, dst[i]);
				}
			}
		}
	}
}

UNIT(string_memset_every_alignment_and_length)
{
	uint8_t dst[SPAN + 32] __attribute__((aligned(8)));

	for (size_t dof = 0; dof < 8; dof++) {
		for (size_t n = 0; n <= SPAN; n++) {
			for (size_t i = 0; i < sizeof(dst); i++) {
				dst[i] = GUARD;
			}
			EXPECT_TRUE(bh_memset(dst + 8 + dof, 0x3c, n) ==
				    dst + 8 + dof);
			for (size_t i = 0; i < sizeof(dst); i++) {
				size_t at = i - 8 - dof;

				EXPECT_EQ((i >= 8 + dof && at < n) ? 0x3c
								   : GUARD,
					  dst[i]);
			}
		}
	}
}
