-- People who sign in. `password_hash` is the Argon2id PHC string (algorithm, parameters,
-- salt, hash), never the password. `username` is kept in lower case by the domain.
CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username)
);

-- Signed-in browsers, in the database so that every instance accepts them. `digest` is the
-- SHA-256 (hex) of the session id the cookie holds, never the id itself.
CREATE TABLE sessions (
    digest       TEXT PRIMARY KEY NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- API tokens of users: the SHA-256 (hex) of the token only.
CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY NOT NULL,
    digest     TEXT NOT NULL,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    CONSTRAINT api_tokens_digest_key UNIQUE (digest),
    CONSTRAINT api_tokens_name_key UNIQUE (name)
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

-- Failed sign-ins per username tried (`user:NAME`) and per client address (`addr:IP`),
-- shared by every instance, for the slow-down.
CREATE TABLE sign_in_failures (
    throttle_key TEXT PRIMARY KEY NOT NULL,
    failures     BIGINT NOT NULL,
    last_failure TIMESTAMP NOT NULL
);
