-- +goose Up
CREATE TABLE plan_versions (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    checksum    TEXT    NOT NULL,
    applied_by  TEXT    NOT NULL DEFAULT '',
    applied_at  INTEGER NOT NULL
);

CREATE TABLE levels (
    id                      TEXT    PRIMARY KEY,
    position                INTEGER NOT NULL,
    name_en                 TEXT    NOT NULL,
    name_zh                 TEXT    NOT NULL,
    description_en          TEXT    NOT NULL DEFAULT '',
    description_zh          TEXT    NOT NULL DEFAULT '',
    ack_target_ms           INTEGER NOT NULL DEFAULT 0,
    first_internal_notice_ms INTEGER NOT NULL DEFAULT 0,
    first_public_notice_ms  INTEGER NOT NULL DEFAULT 0,
    update_every_ms         INTEGER NOT NULL DEFAULT 0,
    resolve_target_ms       INTEGER NOT NULL DEFAULT 0,
    postmortem              TEXT    NOT NULL DEFAULT 'none'
);

CREATE TABLE incident_types (
    id            TEXT    PRIMARY KEY,
    position      INTEGER NOT NULL,
    name_en       TEXT    NOT NULL,
    name_zh       TEXT    NOT NULL,
    default_level TEXT    NOT NULL DEFAULT '',
    playbook      TEXT    NOT NULL DEFAULT '',
    restricted    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE roles (
    id       TEXT    PRIMARY KEY,
    position INTEGER NOT NULL,
    name_en  TEXT    NOT NULL,
    name_zh  TEXT    NOT NULL,
    duties   TEXT    NOT NULL DEFAULT ''
);

-- alert severity -> incident level; level '' means "record the alert, open no incident"
CREATE TABLE severity_levels (
    severity TEXT PRIMARY KEY,
    level    TEXT NOT NULL DEFAULT ''
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL DEFAULT '',
    locale        TEXT    NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL DEFAULT '',
    token_hash   TEXT    NOT NULL UNIQUE,
    prefix       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    expires_at   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE services (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    description  TEXT    NOT NULL DEFAULT '',
    auto_resolve INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL
);

CREATE TABLE integration_keys (
    id         INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL DEFAULT '',
    key        TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY,
    title           TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    level           TEXT    NOT NULL,
    type            TEXT    NOT NULL DEFAULT '',
    service_id      INTEGER REFERENCES services(id) ON DELETE SET NULL,
    impact          TEXT    NOT NULL DEFAULT '',
    source          TEXT    NOT NULL DEFAULT '',
    plan_version_id INTEGER NOT NULL DEFAULT 0,
    created_by      INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    acknowledged_at INTEGER NOT NULL DEFAULT 0,
    resolved_at     INTEGER NOT NULL DEFAULT 0,
    closed_at       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX incidents_status ON incidents(status, id);
CREATE INDEX incidents_service_open ON incidents(service_id, status);

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    service_id      INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    fingerprint     TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    labels          TEXT    NOT NULL DEFAULT '{}',
    details         TEXT    NOT NULL DEFAULT '{}',
    incident_id     INTEGER REFERENCES incidents(id) ON DELETE SET NULL,
    first_seen      INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL,
    repeat_count    INTEGER NOT NULL DEFAULT 1,
    acknowledged_at INTEGER NOT NULL DEFAULT 0,
    resolved_at     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (service_id, fingerprint)
);
CREATE INDEX alerts_incident ON alerts(incident_id, status);
CREATE INDEX alerts_status ON alerts(status, id);

CREATE TABLE timeline (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    actor_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    actor       TEXT    NOT NULL DEFAULT '',
    body        TEXT    NOT NULL DEFAULT '',
    data        TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX timeline_incident ON timeline(incident_id, id);

-- +goose Down
DROP TABLE timeline;
DROP TABLE alerts;
DROP TABLE incidents;
DROP TABLE integration_keys;
DROP TABLE services;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE severity_levels;
DROP TABLE roles;
DROP TABLE incident_types;
DROP TABLE levels;
DROP TABLE plan_versions;
