/* The run `make test` makes: a fixed seed and 100,000 calls. `make fuzz`
 * links its own values instead (mk/fuzz.mk, tests/fuzz_hostile.py). */
#include "common.h"

const uint64_t fuzz_config_seed = 0x5eed;
const uint64_t fuzz_config_calls = 100000;
