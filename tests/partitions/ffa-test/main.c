/* The role of this image is the partition's name in the manifest:
 * ffa-setup has client, peer, v11 and v10; ffa-msg has tester, echo,
 * relay and bystander. */
#include "common.h"
#include <string.h>

int main(void)
{
	struct guest_self me = guest_self();

	if (strcmp(me.name, "client") == 0) {
		client_setup_main();
	} else if (strcmp(me.name, "v11") == 0) {
		test_run_suite("v11");
	} else if (strcmp(me.name, "v10") == 0) {
		test_run_suite("v10");
	} else if (strcmp(me.name, "tester") == 0) {
		client_msg_main();
	} else if (strcmp(me.name, "echo") == 0) {
		echo_main();
	} else if (strcmp(me.name, "relay") == 0) {
		relay_main();
	} else if (strcmp(me.name, "bystander") == 0) {
		bystander_main();
	}
	/* peer: powers off at once */
	return 0;
}
