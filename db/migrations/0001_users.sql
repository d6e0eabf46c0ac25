-- Users: people who sign in (role user) and operators (role admin).
CREATE TABLE users (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email             text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  password_hash     text NOT NULL,
  name              text CHECK (length(name) <= 200),
  phone             text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  timezone          text NOT NULL DEFAULT 'UTC',
  locale            text NOT NULL DEFAULT 'en',
  role              text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'deleted')),
  email_verified_at timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- E-mail uniqueness is case-insensitive and decided by this index (23505 -> 409).
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_created_at_id_idx ON users (created_at DESC, id DESC);
