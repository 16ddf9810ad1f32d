-- +goose Up
-- Issue 3: people, contact methods, teams, schedules, escalation policies, the
-- notification outbox and the engine's per-incident escalation state.
ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
-- secret of the user's personal iCal feed ('' = not created yet)
ALTER TABLE users ADD COLUMN ical_secret TEXT NOT NULL DEFAULT '';
-- chat user ids by platform (dingtalk, feishu, wecom, slack), JSON object
ALTER TABLE users ADD COLUMN chat_ids TEXT NOT NULL DEFAULT '{}';
-- 'plan' when the user was created from the plan's people
ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT '';

-- instance-wide values, e.g. the key that signs one-click action links
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE contact_methods (
    id                 INTEGER PRIMARY KEY,
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind               TEXT    NOT NULL, -- email, webhook, slack, teams, dingtalk, feishu, wecom, sms, voice
    name               TEXT    NOT NULL DEFAULT '',
    address            TEXT    NOT NULL, -- mail address, URL or phone number
    secret             TEXT    NOT NULL DEFAULT '', -- signing secret (webhook, dingtalk, feishu)
    throttle_count     INTEGER NOT NULL DEFAULT 0, -- at most this many messages ...
    throttle_window_ms INTEGER NOT NULL DEFAULT 0, -- ... per this window (0: no throttle)
    verified_at        INTEGER NOT NULL DEFAULT 0,
    verify_code_hash   TEXT    NOT NULL DEFAULT '',
    verify_expires_at  INTEGER NOT NULL DEFAULT 0,
    verify_attempts    INTEGER NOT NULL DEFAULT 0,
    disabled           INTEGER NOT NULL DEFAULT 0,
    source             TEXT    NOT NULL DEFAULT '', -- 'plan' when created from the plan
    created_at         INTEGER NOT NULL
);
CREATE INDEX contact_methods_user ON contact_methods(user_id);

-- "notify me by this method this long after I am paged, for these levels"
CREATE TABLE notification_rules (
    id                INTEGER PRIMARY KEY,
    user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    contact_method_id INTEGER NOT NULL REFERENCES contact_methods(id) ON DELETE CASCADE,
    delay_ms          INTEGER NOT NULL DEFAULT 0,
    levels            TEXT    NOT NULL DEFAULT '', -- comma-separated level ids; '' = every level
    created_at        INTEGER NOT NULL
);
CREATE INDEX notification_rules_user ON notification_rules(user_id);

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role    TEXT    NOT NULL DEFAULT 'member', -- member or lead
    PRIMARY KEY (team_id, user_id)
);

-- shared chat channels and addresses that escalation steps can page
-- (a team's DingTalk group robot, the plan's stakeholder contacts)
CREATE TABLE channels (
    id         INTEGER PRIMARY KEY,
    slug       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL DEFAULT '',
    kind       TEXT    NOT NULL,
    address    TEXT    NOT NULL,
    secret     TEXT    NOT NULL DEFAULT '',
    team_id    INTEGER REFERENCES teams(id) ON DELETE SET NULL,
    source     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

CREATE TABLE schedules (
    id          INTEGER PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL DEFAULT '',
    description TEXT    NOT NULL DEFAULT '',
    time_zone   TEXT    NOT NULL DEFAULT 'UTC',
    team_id     INTEGER REFERENCES teams(id) ON DELETE SET NULL,
    ical_secret TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE schedule_layers (
    id          INTEGER PRIMARY KEY,
    schedule_id INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    start_at    INTEGER NOT NULL, -- first hand-off (unix ms)
    shift_ms    INTEGER NOT NULL,
    members     TEXT    NOT NULL DEFAULT '[]', -- JSON array of user ids, in rotation order
    restrict    TEXT    NOT NULL DEFAULT '[]'  -- JSON array of {"days":[1,2],"from":"09:00","to":"18:00"}
);
CREATE INDEX schedule_layers_schedule ON schedule_layers(schedule_id, position);

CREATE TABLE schedule_overrides (
    id               INTEGER PRIMARY KEY,
    schedule_id      INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
    start_at         INTEGER NOT NULL,
    end_at           INTEGER NOT NULL,
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    mode             TEXT    NOT NULL, -- add, replace (replaces_user_id) or all
    replaces_user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
    note             TEXT    NOT NULL DEFAULT '',
    created_by       INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX schedule_overrides_schedule ON schedule_overrides(schedule_id, end_at);

CREATE TABLE escalation_policies (
    id             INTEGER PRIMARY KEY,
    slug           TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL DEFAULT '',
    description    TEXT    NOT NULL DEFAULT '',
    repeat         INTEGER NOT NULL DEFAULT 0,
    ack_timeout_ms INTEGER NOT NULL DEFAULT 0, -- an acknowledgement older than this re-triggers (0: never)
    source         TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE escalation_steps (
    id        INTEGER PRIMARY KEY,
    policy_id INTEGER NOT NULL REFERENCES escalation_policies(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    delay_ms  INTEGER NOT NULL, -- after the start of the cycle
    targets   TEXT    NOT NULL DEFAULT '[]' -- JSON array of {"kind":"schedule","id":"primary-oncall"}
);
CREATE INDEX escalation_steps_policy ON escalation_steps(policy_id, position);

ALTER TABLE services ADD COLUMN escalation_policy_id INTEGER REFERENCES escalation_policies(id) ON DELETE SET NULL;

-- the engine's state per incident; next_at = 0 when nothing is scheduled
CREATE TABLE escalations (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
    policy_id   INTEGER NOT NULL DEFAULT 0,
    level       TEXT    NOT NULL DEFAULT '',
    state       TEXT    NOT NULL DEFAULT '{}',
    next_at     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX escalations_next ON escalations(next_at) WHERE next_at > 0;

-- the outbox: one row per (incident, step, person, method) delivery
CREATE TABLE notifications (
    id                INTEGER PRIMARY KEY,
    idem_key          TEXT    NOT NULL UNIQUE,
    incident_id       INTEGER REFERENCES incidents(id) ON DELETE CASCADE,
    user_id           INTEGER REFERENCES users(id) ON DELETE SET NULL,
    contact_method_id INTEGER REFERENCES contact_methods(id) ON DELETE SET NULL,
    channel_id        INTEGER REFERENCES channels(id) ON DELETE SET NULL,
    kind              TEXT    NOT NULL, -- the delivery kind (email, webhook, ...)
    step_key          TEXT    NOT NULL DEFAULT '',
    state             TEXT    NOT NULL, -- pending, sending, sent, failed_temporary, failed_permanent, cancelled
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER NOT NULL,
    lease_until       INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT    NOT NULL DEFAULT '',
    fallback_of       INTEGER REFERENCES notifications(id) ON DELETE SET NULL,
    bundled_into      INTEGER REFERENCES notifications(id) ON DELETE SET NULL,
    created_at        INTEGER NOT NULL,
    sent_at           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notifications_due ON notifications(next_attempt_at) WHERE state IN ('pending', 'sending', 'failed_temporary');
CREATE INDEX notifications_incident ON notifications(incident_id, id);
CREATE INDEX notifications_method_sent ON notifications(contact_method_id, sent_at);

-- one-click action links already used (single use)
CREATE TABLE action_tokens_used (
    nonce   TEXT    PRIMARY KEY,
    used_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE action_tokens_used;
DROP TABLE notifications;
DROP TABLE escalations;
ALTER TABLE services DROP COLUMN escalation_policy_id;
DROP TABLE escalation_steps;
DROP TABLE escalation_policies;
DROP TABLE schedule_overrides;
DROP TABLE schedule_layers;
DROP TABLE schedules;
DROP TABLE channels;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE notification_rules;
DROP TABLE contact_methods;
DROP TABLE settings;
ALTER TABLE users DROP COLUMN source;
ALTER TABLE users DROP COLUMN chat_ids;
ALTER TABLE users DROP COLUMN ical_secret;
ALTER TABLE users DROP COLUMN time_zone;
ALTER TABLE users DROP COLUMN phone;
