/* The demo's "block device" protocol between blk-client and blk-server:
 * direct requests (64-bit), x3 = command, reply x3 = FF-A status. Buffers
 * come from the client's shared-memory pool (guest/shpool.h), whose own
 * messages the server answers too. */
#pragma once

#define BLK_SECTOR  512u
#define BLK_SECTORS 128u /* the server's disk: 64 KiB of its RAM */

enum blk_cmd {
	BLK_READ = 0x424c4b31, /* x4 buffer, x5 first sector, x6 sectors */
	BLK_WRITE,	       /* the same, into the disk */
	BLK_PROBE,	       /* x4 address: the server touches it and says
				  whether that faults (x4 = 1, x5 = FAR) */
};
