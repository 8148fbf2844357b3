/*
 * Host harness for the board check's device-tree reader (lib/fdt.c,
 * board_parse in core/boardcheck.c), built with ASan/UBSan by
 * tests/test_board.py: reads a DTB file and prints what the hypervisor
 * would see, or the error. A malformed DTB must give an error, never a
 * read outside the blob.
 */
#include <bulkhead/manifest.h>
#include <core/boardcheck.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const struct manifest bulkhead_manifest;
char __image_start[1];
char __image_end[1];

void log_line(int level, const char *format, ...)
{
	va_list ap;

	(void)level;
	va_start(ap, format);
	vprintf(format, ap);
	va_end(ap);
	putchar('\n');
}

_Noreturn void arch_power_off_failure(void)
{
	exit(3);
}

int main(int argc, char **argv)
{
	static uint8_t blob[1 << 20];
	struct board b;
	struct fdt f;
	const char *error = "";
	FILE *in;
	size_t len;

	if (argc != 2 || (in = fopen(argv[1], "rb")) == NULL) {
		return 2;
	}
	len = fread(blob, 1, sizeof(blob), in);
	fclose(in);
	/* Exactly len bytes may be read: copy to a heap block of that size so
	 * ASan sees any read past it. */
	uint8_t *exact = malloc(len ? len : 1);
	for (size_t i = 0; i < len; i++) {
		exact[i] = blob[i];
	}
	if (!fdt_init(&f, exact, len, &error) || !board_parse(&f, &b, &error)) {
		printf("error: %s\n", error);
		free(exact);
		return 1;
	}
	printf("cpus %u:", b.cpu_count);
	for (uint32_t i = 0; i < b.cpu_count && i < BOARD_MAX_CPUS; i++) {
		printf(" %#llx", (unsigned long long)b.mpidr[i]);
	}
	printf("\nram");
	for (uint32_t i = 0; i < b.ram_count; i++) {
		printf(" %#llx+%#llx", (unsigned long long)b.ram[i].base,
		       (unsigned long long)b.ram[i].size);
	}
	printf("\ngic v%d %#llx", b.gic_version,
	       (unsigned long long)b.gicd_base);
	for (uint32_t i = 0; i < b.gicr_count; i++) {
		printf(" %#llx+%#llx", (unsigned long long)b.gicr[i].base,
		       (unsigned long long)b.gicr[i].size);
	}
	printf("\nuart");
	for (uint32_t i = 0; i < b.uart_count; i++) {
		printf(" %#llx", (unsigned long long)b.uart[i]);
	}
	printf("\n");
	free(exact);
	return 0;
}
