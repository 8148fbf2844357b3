/* Runner: `unit --list` names the cases, `unit NAME` runs one. */
#include <string.h>

#include "unit.h"

extern const struct unit_case __start_unit_cases[];
extern const struct unit_case __stop_unit_cases[];

int main(int argc, char **argv)
{
	const struct unit_case *c;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (c = __start_unit_cases; c < __stop_unit_cases; c++) {
			printf("%s\n", c->name);
		}
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s --list | CASE\n", argv[0]);
		return 2;
	}
	for (c = __start_unit_cases; c < __stop_unit_cases; c++) {
		if (strcmp(argv[1], c->name) == 0) {
			c->fn();
			printf("PASS %s\n", c->name);
			return 0;
		}
	}
	fprintf(stderr, "no case %s\n", argv[1]);
	return 2;
}
