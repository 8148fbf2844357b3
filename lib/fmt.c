#include <bulkhead/fmt.h>
#include <stdbool.h>
#include <stdint.h>

struct fmt_spec {
	bool alternate;
	bool left;
	bool zero;
	int width;
	int precision;
};

static int emit_padded(fmt_sink_fn sink, void *ctx, const char *text,
		       int length, const struct fmt_spec *spec)
{
	int pad = spec->width > length ? spec->width - length : 0;
	int count = 0;

	if (!spec->left) {
		for (; pad > 0; pad--, count++) {
			sink(ctx, spec->zero ? '0' : ' ');
		}
	}
	for (int i = 0; i < length; i++, count++) {
		sink(ctx, text[i]);
	}
	for (; pad > 0; pad--, count++) {
		sink(ctx, ' ');
	}
	return count;
}

static int emit_number(fmt_sink_fn sink, void *ctx, uint64_t value,
		       bool negative, unsigned int base, bool upper,
		       const struct fmt_spec *spec)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int pos = sizeof(buf);
	int count = 0;
	struct fmt_spec rest = *spec;

	do {
		buf[--pos] = digits[value % base];
		value /= base;
	} while (value != 0);
	if (negative) {
		if (spec->zero) {
			sink(ctx, '-');
			count++;
			rest.width = spec->width > 0 ? spec->width - 1 : 0;
		} else {
			buf[--pos] = '-';
		}
	}
	return count + emit_padded(sink, ctx, &buf[pos],
				   sizeof(buf) - (size_t)pos, &rest);
}

int fmt_vformat(fmt_sink_fn sink, void *ctx, const char *format, va_list ap)
{
	int count = 0;

	for (const char *p = format; *p != '\0'; p++) {
		struct fmt_spec spec = {.precision = -1};
		int longness = 0;
		bool size_t_arg = false;

		if (*p != '%') {
			sink(ctx, *p);
			count++;
			continue;
		}
		p++;
		for (;; p++) {
			if (*p == '-') {
				spec.left = true;
			} else if (*p == '#') {
				spec.alternate = true;
			} else if (*p == '0') {
				spec.zero = true;
			} else {
				break;
			}
		}
		for (; *p >= '0' && *p <= '9'; p++) {
			spec.width = spec.width * 10 + (*p - '0');
		}
		if (*p == '.') {
			spec.precision = 0;
			for (p++; *p >= '0' && *p <= '9'; p++) {
				spec.precision =
				    spec.precision * 10 + (*p - '0');
			}
		}
		for (; *p == 'l'; p++) {
			longness++;
		}
		if (*p == 'z') {
			size_t_arg = true;
			p++;
		}
		switch (*p) {
		case 'd':
		case 'i': {
			int64_t v = size_t_arg ? (int64_t)va_arg(ap, long)
				    : longness > 0
					? (int64_t)va_arg(ap, long long)
					: (int64_t)va_arg(ap, int);
			uint64_t mag =
			    v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
			count += emit_number(sink, ctx, mag, v < 0, 10, false,
					     &spec);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = size_t_arg ? (uint64_t)va_arg(ap, size_t)
				     : longness > 0
					 ? va_arg(ap, unsigned long long)
					 : va_arg(ap, unsigned int);

			if (spec.alternate && *p != 'u') {
				sink(ctx, '0');
				sink(ctx, 'x');
				count += 2;
				spec.width =
				    spec.width > 2 ? spec.width - 2 : 0;
			}
			count +=
			    emit_number(sink, ctx, v, false,
					*p == 'u' ? 10 : 16, *p == 'X', &spec);
			break;
		}
		case 'p': {
			uint64_t v = (uintptr_t)va_arg(ap, void *);
			sink(ctx, '0');
			sink(ctx, 'x');
			count += 2 + emit_number(sink, ctx, v, false, 16, false,
						 &spec);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			int length = 0;

			if (s == NULL) {
				s = "(null)";
			}
			while (s[length] != '\0' && (spec.precision < 0 ||
						     length < spec.precision)) {
				length++;
			}
			spec.zero = false;
			count += emit_padded(sink, ctx, s, length, &spec);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);

			spec.zero = false;
			count += emit_padded(sink, ctx, &c, 1, &spec);
			break;
		}
		case '%':
			sink(ctx, '%');
			count++;
			break;
		case '\0':
			return count;
		default:
			sink(ctx, '%');
			sink(ctx, *p);
			count += 2;
			break;
		}
	}
	return count;
}

struct buf_sink {
	char *buf;
	size_t size;
	size_t pos;
};

static void buf_put(void *ctx, char c)
{
	struct buf_sink *b = ctx;

	if (b->pos + 1 < b->size) {
		b->buf[b->pos] = c;
	}
	b->pos++;
}

int fmt_snprintf(char *buf, size_t size, const char *format, ...)
{
	struct buf_sink b = {.buf = buf, .size = size};
	va_list ap;
	int n;

	va_start(ap, format);
	n = fmt_vformat(buf_put, &b, format, ap);
	va_end(ap);
	if (size > 0) {
		buf[b.pos < size ? b.pos : size - 1] = '\0';
	}
	return n;
}
