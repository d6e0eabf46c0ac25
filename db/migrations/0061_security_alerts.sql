-- Where each account signs in from, so a sign-in from a device (User-Agent, as md5) or a
-- network (the /24 of IPv4, /48 of IPv6) not seen before raises a security alert
-- (common/alerts/security_alert.c). Rows go with the account.
CREATE TABLE sign_in_origins (
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('device', 'network')),
  value         text NOT NULL CHECK (length(value) BETWEEN 1 AND 64),
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, kind, value)
);
