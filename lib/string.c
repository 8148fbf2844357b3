/* The few C library routines a freestanding build still needs (the
 * compiler may emit calls to memcpy/memset/memmove/memcmp itself). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

void *memset(void *dst, int value, size_t count)
{
	uint8_t *d = dst;

	while (count > 0 && ((uintptr_t)d & 7) != 0) {
		*d++ = (uint8_t)value;
		count--;
	}
	if (count >= 8) {
		uint64_t v = (uint8_t)value * 0x0101010101010101ull;
		uint64_t *w = (uint64_t *)d;

		/* four words per round, as memcpy */
		for (; count >= 32; count -= 32) {
			w[0] = v;
			w[1] = v;
			w[2] = v;
			w[3] = v;
			w += 4;
		}
		for (; count >= 8; count -= 8) {
			*w++ = v;
		}
		d = (uint8_t *)w;
	}
	while (count-- > 0) {
		*d++ = (uint8_t)value;
	}
	return dst;
}

void *memcpy(void *dst, const void *src, size_t count)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	uintptr_t both = (uintptr_t)d | (uintptr_t)s;

	if ((both & 7) == 0) {
		uint64_t *dw = (uint64_t *)d;
		const uint64_t *sw = (const uint64_t *)s;

		/* four words per round: the loop's own cost shrinks */
		for (; count >= 32; count -= 32) {
			uint64_t a = sw[0], b = sw[1], c = sw[2], e = sw[3];

			dw[0] = a;
			dw[1] = b;
			dw[2] = c;
			dw[3] = e;
			dw += 4;
			sw += 4;
		}
		for (; count >= 8; count -= 8) {
			*dw++ = *sw++;
		}
		d = (uint8_t *)dw;
		s = (const uint8_t *)sw;
	} else if ((both & 3) == 0) {
		/* FF-A descriptor fields: 4-byte aligned */
		for (; count >= 4; count -= 4) {
			*(uint32_t *)d = *(const uint32_t *)s;
			d += 4;
			s += 4;
		}
	}
	while (count-- > 0) {
		*d++ = *s++;
	}
	return dst;
}

void *memmove(void *dst, const void *src, size_t count)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	if (d <= s || d >= s + count) {
		return memcpy(dst, src, count);
	}
	while (count-- > 0) {
		d[count] = s[count];
	}
	return dst;
}

int memcmp(const void *a, const void *b, size_t count)
{
	const uint8_t *x = a;
	const uint8_t *y = b;

	for (size_t i = 0; i < count; i++) {
		if (x[i] != y[i]) {
			return x[i] < y[i] ? -1 : 1;
		}
	}
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0') {
		n++;
	}
	return n;
}

int strncmp(const char *a, const char *b, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (a[i] != b[i] || a[i] == '\0') {
			return (unsigned char)a[i] - (unsigned char)b[i];
		}
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return (int)(uint8_t)*a - (int)(uint8_t)*b;
}
