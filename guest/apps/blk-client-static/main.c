/* The block-device client on the static back-end (see ../blk-client). */
#define BLK_STATIC 1
#include "../blk-client/main.c"
