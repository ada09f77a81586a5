/* db_capture.c — images captured on this rack from a node's disk. */
#include "db/db_int.h"

int
db_image_set_captured(const char *name, const char *version, const char *slot,
    int64_t job)
{
	return db_write("UPDATE images SET captured_slot = ?, captured_job = ?,"
	    " captured_at = ? WHERE name = ? AND version = ?", "siiss", slot,
	    job, db_now_ms(), name, version);
}
