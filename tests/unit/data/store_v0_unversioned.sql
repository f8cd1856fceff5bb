BEGIN TRANSACTION;
CREATE TABLE exports (
	id INTEGER NOT NULL, 
	session_id VARCHAR NOT NULL, 
	path VARCHAR NOT NULL, 
	format VARCHAR NOT NULL, 
	created_at DATETIME NOT NULL, 
	redactions INTEGER NOT NULL, 
	tokens_estimate INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "exports" VALUES(1,'aaaa-1111','/tmp/x/aaaa.md','md','2026-11-29 21:50:31.598478',2,1234);
CREATE TABLE kv (
	"key" VARCHAR NOT NULL, 
	value BLOB NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "kv" VALUES('ui.sort',X'6865616C7468');
CREATE TABLE samples (
	id INTEGER NOT NULL, 
	session_id VARCHAR NOT NULL, 
	at DATETIME NOT NULL, 
	context_used INTEGER, 
	tokens_total INTEGER NOT NULL, 
	cost_usd FLOAT, 
	PRIMARY KEY (id)
);
INSERT INTO "samples" VALUES(1,'aaaa-1111','2026-03-01 12:00:00.000000',10000,13100,0.5);
INSERT INTO "samples" VALUES(2,'claude-pid4242','2026-03-01 12:00:00.000000',5000,8100,NULL);
INSERT INTO "samples" VALUES(3,'aaaa-1111','2026-03-01 12:01:00.000000',20000,23100,0.5);
INSERT INTO "samples" VALUES(4,'claude-pid4242','2026-03-01 12:01:00.000000',5001,8101,NULL);
INSERT INTO "samples" VALUES(5,'aaaa-1111','2026-03-01 12:02:00.000000',30000,33100,0.5);
INSERT INTO "samples" VALUES(6,'claude-pid4242','2026-03-01 12:02:00.000000',5002,8102,NULL);
CREATE TABLE sessions (
	id VARCHAR NOT NULL, 
	tool VARCHAR NOT NULL, 
	cwd VARCHAR, 
	transcript VARCHAR, 
	model VARCHAR, 
	git_branch VARCHAR, 
	title VARCHAR, 
	started_at DATETIME, 
	last_activity DATETIME, 
	input_tokens INTEGER NOT NULL, 
	output_tokens INTEGER NOT NULL, 
	cache_creation_tokens INTEGER NOT NULL, 
	cache_read_tokens INTEGER NOT NULL, 
	tokens_exact BOOLEAN NOT NULL, 
	context_used INTEGER, 
	context_window INTEGER, 
	cost_usd FLOAT, 
	health_score INTEGER, 
	status VARCHAR, 
	state VARCHAR NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "sessions" VALUES('aaaa-1111','claude','/srv/proj','/home/u/.claude/projects/-srv-proj/aaaa-1111.jsonl','claude-sonnet-4-5',NULL,'SECRET TITLE from the transcript','2026-03-01 11:00:00.000000','2026-03-01 12:00:00.000000',1000,100,2000,30000,1,30000,200000,0.5,88,'healthy','working','2026-03-01 12:02:00.000000');
INSERT INTO "sessions" VALUES('claude-pid4242','claude','/srv/proj','/home/u/.claude/projects/-srv-proj/claude-pid4242.jsonl','claude-sonnet-4-5',NULL,NULL,'2026-03-01 11:00:00.000000','2026-03-01 12:00:00.000000',1000,100,2000,5002,1,5002,200000,NULL,88,'healthy','working','2026-03-01 12:02:00.000000');
CREATE INDEX ix_sessions_last_activity ON sessions (last_activity);
CREATE INDEX ix_samples_session_at ON samples (session_id, at);
CREATE INDEX ix_exports_session_id ON exports (session_id);
COMMIT;
