-- +goose Up
-- Issue 4: built-in checks, heartbeats, their history, maintenance windows and
-- restore tests.
CREATE TABLE checks (
    id            INTEGER PRIMARY KEY,
    slug          TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL DEFAULT '',
    kind          TEXT    NOT NULL, -- http, tcp, dns, tls, heartbeat, prometheus, log, restore
    spec          TEXT    NOT NULL DEFAULT '{}', -- the kind's settings, JSON
    interval_ms   INTEGER NOT NULL DEFAULT 60000,
    timeout_ms    INTEGER NOT NULL DEFAULT 10000,
    fail_after    INTEGER NOT NULL DEFAULT 1, -- consecutive failures before it is down
    recover_after INTEGER NOT NULL DEFAULT 1, -- consecutive successes before it is up again
    service_id    INTEGER REFERENCES services(id) ON DELETE SET NULL,
    incident_type TEXT    NOT NULL DEFAULT '',
    level         TEXT    NOT NULL DEFAULT '',
    labels        TEXT    NOT NULL DEFAULT '{}',
    paused        INTEGER NOT NULL DEFAULT 0,
    ping_key      TEXT    NOT NULL DEFAULT '', -- heartbeat ping URL key
    source        TEXT    NOT NULL DEFAULT '', -- 'plan' when made from the plan's checks
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX checks_ping_key ON checks(ping_key) WHERE ping_key <> '';

-- what the scheduler keeps per check
CREATE TABLE check_state (
    check_id        INTEGER PRIMARY KEY REFERENCES checks(id) ON DELETE CASCADE,
    status          TEXT    NOT NULL DEFAULT 'unknown', -- up, down, unknown
    consecutive_ok  INTEGER NOT NULL DEFAULT 0,
    consecutive_bad INTEGER NOT NULL DEFAULT 0,
    next_run_at     INTEGER NOT NULL,
    last_run_at     INTEGER NOT NULL DEFAULT 0,
    last_ok_at      INTEGER NOT NULL DEFAULT 0,
    last_message    TEXT    NOT NULL DEFAULT '',
    last_latency_ms INTEGER NOT NULL DEFAULT 0,
    changed_at      INTEGER NOT NULL DEFAULT 0,
    data            TEXT    NOT NULL DEFAULT '{}' -- the kind's state (series pending/firing, last ping, ...)
);
CREATE INDEX check_state_next ON check_state(next_run_at);

-- raw results (kept for a week, then only the daily roll-up)
CREATE TABLE check_results (
    id         INTEGER PRIMARY KEY,
    check_id   INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    ok         INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL DEFAULT 0,
    message    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX check_results_check ON check_results(check_id, at);
CREATE INDEX check_results_at ON check_results(at);

-- per-day uptime and latency, in UTC days
CREATE TABLE check_daily (
    check_id       INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    day            TEXT    NOT NULL, -- 2006-01-02
    runs           INTEGER NOT NULL DEFAULT 0,
    failures       INTEGER NOT NULL DEFAULT 0,
    latency_sum_ms INTEGER NOT NULL DEFAULT 0,
    latency_max_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (check_id, day)
);

-- heartbeat pings as received
CREATE TABLE heartbeat_pings (
    id          INTEGER PRIMARY KEY,
    check_id    INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL, -- success, start, fail, exit
    exit_status INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0, -- from the last start
    body        TEXT    NOT NULL DEFAULT '',
    remote      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX heartbeat_pings_check ON heartbeat_pings(check_id, at);

CREATE TABLE maintenance_windows (
    id          INTEGER PRIMARY KEY,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    starts_at   INTEGER NOT NULL DEFAULT 0, -- one-off: [starts_at, ends_at)
    ends_at     INTEGER NOT NULL DEFAULT 0,
    cron        TEXT    NOT NULL DEFAULT '', -- recurring: each activation opens it for duration_ms
    time_zone   TEXT    NOT NULL DEFAULT 'UTC',
    duration_ms INTEGER NOT NULL DEFAULT 0,
    services    TEXT    NOT NULL DEFAULT '[]', -- service ids
    checks      TEXT    NOT NULL DEFAULT '[]', -- check slugs
    matchers    TEXT    NOT NULL DEFAULT '[]', -- [{"label":"env","equals":"staging"}]
    public      INTEGER NOT NULL DEFAULT 1, -- listed for the status page
    source      TEXT    NOT NULL DEFAULT '',
    created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL
);

-- a restore test of a backup: measured RTO (duration) and RPO (data age)
CREATE TABLE restore_tests (
    id          INTEGER PRIMARY KEY,
    resource    TEXT    NOT NULL, -- the plan resource id
    tested_at   INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    data_age_ms INTEGER NOT NULL,
    ok          INTEGER NOT NULL DEFAULT 1,
    evidence    TEXT    NOT NULL DEFAULT '',
    created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX restore_tests_resource ON restore_tests(resource, tested_at);

-- an alert raised inside a maintenance window: recorded, opens no incident
ALTER TABLE alerts ADD COLUMN silenced_by INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE alerts DROP COLUMN silenced_by;
DROP TABLE restore_tests;
DROP TABLE maintenance_windows;
DROP TABLE heartbeat_pings;
DROP TABLE check_daily;
DROP TABLE check_results;
DROP TABLE check_state;
DROP TABLE checks;
