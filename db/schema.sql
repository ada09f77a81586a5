-- rackd state. Each migration starts with a line "-- migration N: what";
-- rackd applies those above PRAGMA user_version at start, in order, each in
-- its own transaction. Never edit a migration that has shipped: add one.

-- migration 1: slots, links, images, jobs
CREATE TABLE nodes (
	slot        TEXT PRIMARY KEY,
	label       TEXT,
	image       TEXT,                 -- assigned image, "name:version"
	boot_mode   TEXT NOT NULL DEFAULT 'local'
	            CHECK (boot_mode IN ('local', 'diskless')),
	mac         TEXT,
	last_result TEXT,                 -- "done" or "failed: reason"
	created     INTEGER NOT NULL,     -- ms since the epoch
	updated     INTEGER NOT NULL
);

CREATE TABLE links (
	slot        TEXT PRIMARY KEY REFERENCES nodes(slot),
	ifname      TEXT,
	kind        TEXT,                 -- usb, gadget, veth, ...
	state       TEXT NOT NULL DEFAULT 'down' CHECK (state IN ('up', 'down')),
	board_addr  TEXT,
	node_addr   TEXT,
	prefix      INTEGER,
	changed     INTEGER NOT NULL
);

CREATE TABLE link_events (
	id          INTEGER PRIMARY KEY,
	slot        TEXT NOT NULL REFERENCES nodes(slot),
	state       TEXT NOT NULL,
	at          INTEGER NOT NULL
);
CREATE INDEX link_events_slot ON link_events(slot, at);

CREATE TABLE images (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL,
	version     TEXT NOT NULL,
	kind        TEXT NOT NULL CHECK (kind IN ('disk', 'rootfs')),
	size        INTEGER NOT NULL,
	chunk_size  INTEGER NOT NULL,
	hash        TEXT NOT NULL,
	chunk_count INTEGER NOT NULL,
	stored      INTEGER NOT NULL,     -- compressed bytes of its chunks
	signed      INTEGER NOT NULL DEFAULT 0,
	created     INTEGER NOT NULL,
	UNIQUE (name, version)
);

CREATE TABLE image_chunks (
	image_id    INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
	idx         INTEGER NOT NULL,
	offset      INTEGER NOT NULL,
	length      INTEGER NOT NULL,
	hash        TEXT NOT NULL,
	PRIMARY KEY (image_id, idx)
);
CREATE INDEX image_chunks_hash ON image_chunks(hash);

CREATE TABLE jobs (
	id            INTEGER PRIMARY KEY,
	slot          TEXT NOT NULL REFERENCES nodes(slot),
	action        TEXT NOT NULL,      -- reimage, diskless, ...
	image         TEXT,               -- "name:version", resolved at creation
	state         TEXT NOT NULL CHECK (state IN
	              ('queued', 'booting', 'streaming', 'verifying', 'done', 'failed')),
	reason        TEXT,
	token         TEXT NOT NULL,      -- the agent's token for this job
	bytes_total   INTEGER NOT NULL DEFAULT 0,
	bytes_done    INTEGER NOT NULL DEFAULT 0,
	bytes_fetched INTEGER NOT NULL DEFAULT 0,
	rate          INTEGER NOT NULL DEFAULT 0,
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL,
	seen          INTEGER,            -- the node's last call-in
	finished      INTEGER
);
CREATE INDEX jobs_slot ON jobs(slot, id);
CREATE UNIQUE INDEX jobs_one_active ON jobs(slot)
	WHERE state NOT IN ('done', 'failed');

CREATE TABLE job_events (
	id          INTEGER PRIMARY KEY,
	job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	at          INTEGER NOT NULL,
	state       TEXT NOT NULL,
	message     TEXT,
	bytes_done  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX job_events_job ON job_events(job_id, id);

-- migration 2: dashboard sessions and named API tokens
CREATE TABLE sessions (
	id          TEXT PRIMARY KEY,     -- hash of the cookie value
	csrf        TEXT NOT NULL,
	created     INTEGER NOT NULL,
	expires     INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires);

CREATE TABLE api_tokens (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	hash        TEXT NOT NULL,        -- hash of the token, never the token
	created     INTEGER NOT NULL
);

-- migration 3: pending image pushes and the chunks they wait for
CREATE TABLE pushes (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL,
	version     TEXT NOT NULL,
	manifest    TEXT NOT NULL,        -- validated, as manifest_to_json writes it
	chunk_count INTEGER NOT NULL,     -- distinct chunks
	signed      INTEGER NOT NULL DEFAULT 0,
	created     INTEGER NOT NULL,
	UNIQUE (name, version)
);

CREATE TABLE push_chunks (
	push_id     INTEGER NOT NULL REFERENCES pushes(id) ON DELETE CASCADE,
	hash        TEXT NOT NULL,
	length      INTEGER NOT NULL,     -- uncompressed bytes
	alg         TEXT NOT NULL,        -- the manifest's hash algorithm
	PRIMARY KEY (push_id, hash)
) WITHOUT ROWID;
CREATE INDEX push_chunks_hash ON push_chunks(hash);

-- migration 4: when a pending push last saw a chunk (pushes expire unused);
-- each chunk's stored (compressed) size, which a patched chunk must match
ALTER TABLE pushes ADD COLUMN active INTEGER NOT NULL DEFAULT 0;
UPDATE pushes SET active = created;
ALTER TABLE push_chunks ADD COLUMN stored INTEGER NOT NULL DEFAULT 0;

-- migration 5: Secure Boot: a slot's own setting (NULL: the rack's
-- secure_boot option) and whether its node last booted the clone
-- environment with Secure Boot on (NULL: not known)
ALTER TABLE nodes ADD COLUMN secure_boot INTEGER;
ALTER TABLE nodes ADD COLUMN booted_secure INTEGER;
-- migration 6: an action's parameters (a JSON object: an erase's method),
-- given to the agent with its job
ALTER TABLE jobs ADD COLUMN params TEXT;
-- migration 7: image pulls (pull.c), so that a restart keeps what was
-- pulled and resumes a pull it cut short; the last PULLS_MAX are kept
CREATE TABLE pulls (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL,
	version       TEXT NOT NULL,
	state         TEXT NOT NULL,      -- queued ... done, failed
	present       INTEGER NOT NULL DEFAULT 0,
	chunks        INTEGER NOT NULL DEFAULT 0,
	missing       INTEGER NOT NULL DEFAULT 0,
	chunks_done   INTEGER NOT NULL DEFAULT 0,
	bytes_total   INTEGER NOT NULL DEFAULT 0,
	bytes_done    INTEGER NOT NULL DEFAULT 0,
	bytes_fetched INTEGER NOT NULL DEFAULT 0,
	failovers     INTEGER NOT NULL DEFAULT 0,
	resumed       INTEGER NOT NULL DEFAULT 0, -- times resumed after a restart
	run_ms        INTEGER NOT NULL DEFAULT 0, -- time spent pulling
	source        TEXT,
	error         TEXT,
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL
);
CREATE INDEX pulls_state ON pulls(state);
-- migration 8: an image captured on this rack from a node's disk: the
-- slot, the job and when (NULL: not a capture)
ALTER TABLE images ADD COLUMN captured_slot TEXT;
ALTER TABLE images ADD COLUMN captured_job INTEGER;
ALTER TABLE images ADD COLUMN captured_at INTEGER;
-- migration 9: each node's hardware inventories, as the clone environment
-- read them (the validated JSON), with what changed from the one before;
-- a node is flagged while a change has not been acknowledged
CREATE TABLE inventories (
	id          INTEGER PRIMARY KEY,
	slot        TEXT NOT NULL REFERENCES nodes(slot),
	job         INTEGER,              -- the inventory job that read it
	at          INTEGER NOT NULL,     -- ms since the epoch
	json        TEXT NOT NULL,        -- the "inventory" object
	changes     TEXT NOT NULL DEFAULT '[]'  -- a JSON array of sentences
);
CREATE INDEX inventories_slot ON inventories(slot, id);
ALTER TABLE nodes ADD COLUMN inventory_changed INTEGER NOT NULL DEFAULT 0;
-- migration 10: a slot whose link went away and came back (another
-- server may be in it) and that has no power method: its next network
-- boot that would boot the disk is an inventory first (boot.c's enrol)
ALTER TABLE nodes ADD COLUMN enrol_at_boot INTEGER NOT NULL DEFAULT 0;
