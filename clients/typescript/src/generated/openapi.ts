// Generated from openapi/openapi.yaml by openapi-typescript (`make client`). Do not edit:
// ctest client_types fails when this file differs from what the contract generates.
/* eslint-disable */
export type paths = {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness probe
         * @description Answers as long as the process can serve HTTP, with the version it runs. It checks no
         *     dependency: use `/readyz` to know whether PostgreSQL and Redis are reachable.
         */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness probe
         * @description Pings PostgreSQL and Redis. 200 when both answer; 503 (with `Retry-After`) when either
         *     is down, naming which. Load balancers should stop routing to an instance answering 503.
         */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics
         * @description Request counters and latency histograms by route, method and status, connection pool
         *     gauges, the number of requests in flight, and the group commit's batches with the time
         *     each batch's write took (`herald_group_commit_write_seconds`: the statement and COMMIT,
         *     the WAL flush included), in the Prometheus text exposition format
         *     0.0.4. Always served on the probe port (`HERALD_PROBE_PORT`); on the main port only
         *     with `Authorization: Bearer <HERALD_METRICS_TOKEN>` when that token is set, and
         *     otherwise only to local scrapes (a loopback peer, no `X-Forwarded-For`).
         */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * OpenAPI document
         * @description This document, as JSON. It is compiled into the server, so it always describes the
         *     running version. Generate clients from it (or from `openapi/openapi.yaml` in the
         *     repository). Cacheable for 5 minutes.
         */
        get: operations["getOpenApiDocument"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * OpenAPI document (JSON, at the root)
         * @description The same document as `/api/v1/openapi.json`, at the address tools look for first.
         *     Compiled into the server; cacheable for 5 minutes.
         */
        get: operations["getOpenApiDocumentRoot"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.yaml": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * OpenAPI document (YAML)
         * @description This document as written (`openapi/openapi.yaml`, comments included), compiled into
         *     the server. Cacheable for 5 minutes.
         */
        get: operations["getOpenApiDocumentYaml"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/docs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * API reference page
         * @description An HTML page that renders this document with Redoc. Everything it loads comes from
         *     this server (`/docs/redoc.standalone.js` and `/api/v1/openapi.json`); its
         *     `Content-Security-Policy` allows nothing else. 404 when the Redoc bundle is not
         *     installed (see `HERALD_DOCS_DIR`).
         */
        get: operations["getDocsPage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/docs/{file}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * API reference page asset
         * @description A static file of the reference page, from an allow-list (any other name is a 404; no
         *     path is ever built from the request). Files are read from `HERALD_DOCS_DIR`, or from
         *     the `docs` folder next to the `herald-api` executable when that variable is empty.
         *     Cacheable for an hour.
         */
        get: operations["getDocsAsset"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/demo": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Inbox demo page
         * @description A development page with the `<herald-inbox>` web component, signed in as a demo user
         *     (`make run` builds it into `var/demo` and sets `HERALD_DEMO_DIR`). It is
         *     `index.html` of the folder `HERALD_DEMO_DIR`; without that variable (the default) the
         *     page is off: 404. See `docs/build-a-client.md`.
         */
        get: operations["getDemoPage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/demo/{file}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Inbox demo page file
         * @description A file of the folder `HERALD_DEMO_DIR` (the component's bundle, the page's script and
         *     styles, its `demo.json`). The name is one path segment that does not start with a dot
         *     and ends in `.html`, `.js`, `.json`, `.css`, `.svg` or `.png`; anything else, a missing
         *     file, and every name while the demo is off, is a 404. Never cached.
         */
        get: operations["getDemoFile"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/register": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create an account
         * @description Creates a user (role `user`) and queues a verification e-mail, whose link leads to
         *     `POST /api/v1/auth/verify-email`; then sign in with `POST /api/v1/auth/login`. The
         *     answer is the same 202 whether or not the address is already registered (compared
         *     case-insensitively), so it reveals nothing about who has an account: when it is
         *     taken, nothing changes and its owner gets an e-mail saying someone tried to register
         *     it. Optional fields may be `null`, which is the same as leaving them out (`timezone`
         *     defaults to `UTC`, `locale` to `en`).
         *
         *     The password must be 10 to 256 bytes long, not a single repeated character and not one
         *     of the 1,000 most common passwords (`password_too_short`, `password_too_long`,
         *     `password_too_common`). Rate limited per client IP (`HERALD_AUTH_RATE_LIMIT` requests
         *     per `HERALD_AUTH_RATE_WINDOW_S`).
         */
        post: operations["register"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sign in
         * @description Exchanges an e-mail address and a password for an access token (a JWT valid
         *     `expires_in` seconds) and a refresh token (single use, valid 30 days,
         *     `HERALD_REFRESH_TOKEN_TTL_S`). A wrong e-mail and a wrong password get the same 401.
         *
         *     After `HERALD_LOCKOUT_THRESHOLD` failed attempts (5) within `HERALD_LOCKOUT_WINDOW_S`
         *     (15 minutes) the account is locked for `HERALD_LOCKOUT_DURATION_S` (15 minutes):
         *     429 `account_locked`, with `Retry-After`, even with the right password. A disabled
         *     account gets 403 `account_disabled` (only once the password is right). Concurrent
         *     failures are counted one after another: at most `HERALD_LOCKOUT_THRESHOLD` of them
         *     answer 401, the rest 429. Rate limited per client IP (429 `rate_limited`).
         *
         *     An account with two-factor authentication gets 202 with a challenge instead of
         *     tokens: complete the sign-in at `POST /api/v1/auth/mfa/verify`.
         */
        post: operations["login"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Refresh the tokens
         * @description Exchanges a refresh token for a new access token and a new refresh token. Each
         *     refresh token works once: presenting a used one again is treated as theft and revokes
         *     every token of its family (the user must sign in again). Expired and revoked tokens,
         *     and tokens of accounts that are no longer active, get the same 401
         *     `invalid_refresh_token`. Rate limited per client IP.
         */
        post: operations["refreshTokens"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sign out
         * @description Revokes the refresh token and every token rotated from the same sign-in. Always 204,
         *     also for an unknown or already revoked token. Access tokens already issued stay valid
         *     until they expire (15 minutes at most), so clients should drop theirs.
         */
        post: operations["logout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/password-reset": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Request a password reset
         * @description Queues an e-mail with a single-use link (valid `HERALD_RESET_TOKEN_TTL_S`, one hour)
         *     to the account with this address. The answer is the same 202 whether or not such an
         *     active account exists, so it reveals nothing. Rate limited per client IP.
         */
        post: operations["requestPasswordReset"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/password-reset/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Choose a new password
         * @description Sets a new password with the token of a password-reset e-mail. The token works once;
         *     every refresh token of the account is revoked (sessions elsewhere end) and a lockout
         *     is lifted. An unknown, used or expired token is a 400 `invalid_token`. The new
         *     password follows the rules of registration. Rate limited per client IP.
         */
        post: operations["confirmPasswordReset"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/verify-email": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Confirm the e-mail address
         * @description Marks the account's e-mail address as verified with the token of the verification
         *     e-mail sent at registration (valid `HERALD_VERIFY_TOKEN_TTL_S`, two days). The token
         *     works once; an unknown, used or expired token is a 400 `invalid_token`. Rate limited
         *     per client IP.
         */
        post: operations["verifyEmail"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/verify-email/resend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send the verification e-mail again
         * @description Sends the signed-in account a new verification link; the links sent before stop
         *     working. 409 `email_already_verified` once the address is verified. Rate limited per
         *     client IP (`HERALD_AUTH_RATE_LIMIT`) and per account (`HERALD_RATE_LIMIT_VERIFY_RESEND`,
         *     3 per auth window by default): each call sends an e-mail.
         */
        post: operations["resendVerificationEmail"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Your account
         * @description The signed-in user. Needs a user's access token: API keys get a 403. A token of an
         *     account deleted since it was issued gets a 401 `invalid_token`.
         */
        get: operations["getMe"];
        put?: never;
        post?: never;
        /**
         * Delete your account
         * @description Deletes the account, in one transaction: the e-mail address, name, phone, password,
         *     time zone and locale are erased and the address can be registered again; its sessions
         *     (every refresh token), one-time tokens, devices, notification preferences,
         *     notifications with their deliveries, saved payment methods, customer record and stored
         *     idempotent responses are deleted; its payments and their refunds are kept for
         *     accounting (amounts, currency, status, dates and provider ids) with the description,
         *     metadata and payment details erased, and the payment provider's events about them are
         *     cut to their id and type; the audit log keeps its entries by and about the account (its
         *     id, actions and times) without IP addresses or details. Needs a user's access token: API keys get a 403. Deleting again
         *     with an access token issued before is a 401 `invalid_token`.
         */
        delete: operations["deleteMe"];
        options?: never;
        head?: never;
        /**
         * Update your profile
         * @description Changes the fields sent and leaves the others alone. `name` and `phone` may be `null`
         *     to clear them; `timezone` and `locale` cannot be cleared. The e-mail address, role and
         *     status cannot be changed here. Needs a user's access token: API keys get a 403. A
         *     token of an account deleted since it was issued gets a 401 `invalid_token`.
         */
        patch: operations["updateMe"];
        trace?: never;
    };
    "/api/v1/users/me/password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Change your password
         * @description Replaces the password after checking the current one (403 `incorrect_password`, with
         *     `param` = `current_password`). Every session of the account ends, this one included:
         *     refresh tokens are revoked and access tokens already issued are refused from now on
         *     (401 `invalid_token`); sign in again with the new password. The new
         *     password follows the rules of registration. Needs a user's access token: API keys get
         *     a 403.
         */
        post: operations["changePassword"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Export your data
         * @description Everything Herald stores about the signed-in user, as one JSON document to download
         *     (`Content-Disposition: attachment`): the account, its notification preferences, devices
         *     (tokens masked), notifications and their deliveries, payments, refunds, payment methods
         *     (masked), its customer at the payment provider, its sessions (refresh-token families,
         *     without the tokens), the one-time tokens issued (kind and dates), the API keys it
         *     created and the audit log entries it made or is the target of. Each export is itself recorded in the audit log. Needs a user's access
         *     token: API keys get a 403. A token of an account deleted since it was issued gets a
         *     401 `invalid_token`.
         */
        get: operations["exportMe"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/mfa/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Complete a sign-in with a second factor
         * @description The second step of a sign-in to an account with two-factor authentication: the
         *     `challenge` that `POST /api/v1/auth/login` answered (202) plus either `code` (the
         *     6-digit TOTP code of the authenticator app) or `recovery_code` (one of the codes shown
         *     when two-factor authentication was turned on; each works once). Send exactly one of
         *     them (400 `code_or_recovery_code` otherwise).
         *
         *     A code works once: the same code again, even within its 30 seconds, is refused. A wrong
         *     code is 401 `invalid_code`; after 5 wrong codes, or `HERALD_MFA_CHALLENGE_TTL_S`
         *     (5 minutes), or once used, the challenge is 401 `invalid_challenge`: sign in again.
         *     The access tokens of this session say that the sign-in passed a second factor (what
         *     admin endpoints want when `HERALD_MFA_REQUIRED_FOR_ADMINS` is on). Rate limited per
         *     client IP (429 `rate_limited`).
         */
        post: operations["verifyMfa"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List your sessions
         * @description Every live session of the account, the most recently used first (at most 100): one per
         *     sign-in, kept alive by refreshing its tokens. `user_agent` and `ip` are those of the
         *     client's last sign-in or refresh, `last_used_at` its time; `current` marks the session
         *     of the access token used for this call. Needs a user's access token: API keys get a 403.
         */
        get: operations["listSessions"];
        put?: never;
        post?: never;
        /**
         * Sign out everywhere
         * @description Ends every session of the account, this one included: every refresh token is revoked
         *     and every access token issued so far is refused from now on (401 `invalid_token`). Sign
         *     in again to continue. Needs a user's access token: API keys get a 403.
         */
        delete: operations["revokeAllSessions"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * End one session
         * @description Ends the session `id` (a device signed in elsewhere): its refresh token is revoked and
         *     its access tokens are refused from now on. The access tokens of the other sessions are
         *     refused too (they carry the account's token epoch, which this raises): their clients
         *     refresh as when a token expires, and go on. A session that is not a live one of yours is
         *     a 404. Needs a user's access token: API keys get a 403.
         */
        delete: operations["revokeSession"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/mfa/totp": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start two-factor authentication
         * @description Makes a new TOTP secret (RFC 6238: SHA-1, 6 digits, 30 seconds) for an authenticator
         *     app: scan `otpauth_uri` as a QR code or type `secret`. Nothing changes for sign-ins
         *     until `POST /api/v1/users/me/mfa/totp/confirm` proves the app has it; calling this again
         *     before then replaces the pending secret. 409 `mfa_already_enabled` when two-factor
         *     authentication is on. Takes no body (an empty object is accepted). Needs a user's access
         *     token: API keys get a 403.
         */
        post: operations["enrolTotp"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/mfa/totp/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Turn two-factor authentication on
         * @description Turns two-factor authentication on with a current code of the pending secret, and
         *     answers 10 recovery codes, shown this once (only their hashes are kept): each signs in
         *     once instead of a code. From now on `POST /api/v1/auth/login` answers a challenge (202)
         *     that `POST /api/v1/auth/mfa/verify` completes. A wrong code is 422 `invalid_code`;
         *     nothing pending is 409 `mfa_not_pending`. Rate limited per client IP. Needs a user's
         *     access token: API keys get a 403.
         */
        post: operations["confirmTotp"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/mfa/totp/disable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Turn two-factor authentication off
         * @description Turns two-factor authentication off with a fresh code (one not used yet) or an unused
         *     recovery code: exactly one of `code` and `recovery_code` (400 `code_or_recovery_code`
         *     otherwise). The secret and the recovery codes are deleted. A wrong code is 422
         *     `invalid_code`; when it is off, 409 `mfa_not_enabled`. Rate limited per client IP. Needs
         *     a user's access token: API keys get a 403.
         */
        post: operations["disableTotp"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List users
         * @description Every account, deleted ones included, newest first. Filters combine: `email` is a
         *     case-insensitive prefix, `role` and `status` are exact. **Admins only**: users get a
         *     403, and so do API keys.
         */
        get: operations["listAdminUsers"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The user's id (anything that is not a UUID is a 404).
                 * @example 1f7b874d-fddb-4e44-babf-d868c49fc2ce
                 */
                id: string;
            };
            cookie?: never;
        };
        /**
         * Get a user
         * @description One account; deleted accounts are a 404. **Admins only**: users get a 403, and so do
         *     API keys.
         */
        get: operations["getAdminUser"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Change a user's role or status
         * @description Sets the role (`user` or `admin`; `null` leaves it as it is) and/or disables
         *     (`disabled: true`) or re-enables (`false`) the account. Disabling revokes every
         *     refresh token of the account and makes sign-in answer 403 `account_disabled`. A
         *     change of role or status ends the account's access tokens at once (401
         *     `invalid_token`; re-enabling does not bring them back). At least one of the two
         *     fields is required (400 `nothing_to_update`). Admins cannot demote or disable
         *     themselves (422 `cannot_demote_self`). Deleted accounts are a 404. **Admins only**:
         *     users get a 403, and so do API keys.
         */
        patch: operations["updateAdminUser"];
        trace?: never;
    };
    "/api/v1/admin/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List API keys
         * @description Every API key, revoked ones included (`revoked_at` set), newest first. Secrets are
         *     never shown again. **Admins only**: users get a 403, and so do API keys.
         */
        get: operations["listApiKeys"];
        put?: never;
        /**
         * Create an API key
         * @description Creates a key for service-to-service calls (`apiKeyAuth`). The secret (`hk_...`) is in
         *     this answer only: Herald stores its SHA-256 and shows only its first characters
         *     (`prefix`) afterwards. **Admins only**: users get a 403, and so do API keys.
         */
        post: operations["createApiKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/api-keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke an API key
         * @description Revokes the key at once: calls with it get a 401 `invalid_api_key`. The key stays in
         *     the list with `revoked_at` set. Revoking it again is a 404. **Admins only**: users get
         *     a 403, and so do API keys.
         */
        delete: operations["deleteApiKey"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/audit-log": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read the audit log
         * @description Every recorded state change and security event (sign-ins, failed sign-ins, lockouts,
         *     profile and role changes, API keys, ...), newest first. Filters combine; the time
         *     bounds are inclusive. **Admins only**: users get a 403, and so do API keys.
         */
        get: operations["listAuditLog"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/payments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List payments
         * @description The caller's payments, newest first; admins see everyone's (without the `client_secret`
         *     of others'). Filters combine.
         */
        get: operations["listPayments"];
        put?: never;
        /**
         * Create a payment
         * @description A payment of `amount` minor units of `currency` (cents for USD, yen for JPY) for one
         *     of the payment types, through `provider` (default `HERALD_PAYMENT_DEFAULT_PROVIDER`). Stripe:
         *     a PaymentIntent; M-Pesa: an STK push to `phone` (KES, whole shillings), answered `processing`
         *     until the payer confirms on the phone (see the M-Pesa callback). With `confirm: true` it is charged
         *     at once with `payment_method_id` (a saved method's id, a `pm_...` id from Stripe.js, or, when
         *     omitted, the default saved method); without it the app confirms later (here, or with
         *     Stripe.js and `client_secret`). Fees are estimated and stored: the provider's (percent + fixed
         *     per currency) and the platform's.
         *
         *     A declined card is a 402 `card_error` with `decline_code` and `payment_id`: the payment is
         *     kept in `requires_payment_method` and can be confirmed with another method. When Stripe does
         *     not answer in time the answer is a 503 `provider_unavailable` (with `Retry-After`): retry
         *     with the same `Idempotency-Key`, which resumes the same payment and never charges twice.
         *     Amounts must be positive, at least the currency's minimum, at most
         *     `HERALD_PAYMENT_MAX_AMOUNT`; three-decimal currencies (KWD, BHD...) take multiples of 10.
         */
        post: operations["createPayment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/payments/config": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Which providers and currencies to pay with
         * @description What a client may offer: each provider Herald knows, whether this server has it
         *     configured, the currencies it takes here (HERALD_PAYMENT_CURRENCIES, M-Pesa only KES),
         *     what a payment needs (`payment_method` for Stripe, `phone` for M-Pesa) and, for Stripe,
         *     the publishable key for Stripe.js (HERALD_STRIPE_PUBLISHABLE_KEY).
         */
        get: operations["getPaymentConfig"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/payments/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        /**
         * Get a payment
         * @description One payment with its refunds (up to 100, newest first). Another user's payment is a 404;
         *     admins see any (without its `client_secret`).
         */
        get: operations["getPayment"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/payments/{id}/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Confirm a payment
         * @description Charges the caller's own payment with `payment_method_id` (a saved method's id or a
         *     `pm_...` id), or the method already chosen, or the default saved one. Allowed in
         *     `requires_payment_method`, `requires_confirmation` and `requires_action` (and in
         *     `processing` while the previous confirmation's outcome is unknown: it is retried under the
         *     same provider key, so it cannot charge twice). A decline is a 402 with `decline_code`.
         */
        post: operations["confirmPayment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/payments/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a payment
         * @description Cancels a payment that has not been charged (its payer, or an admin). A succeeded or
         *     canceled payment is a 422 `payment_not_cancelable`; one whose last provider call has no
         *     known outcome yet is a 409 `payment_not_ready`.
         */
        post: operations["cancelPayment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/payments/{id}/receipt": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        /**
         * Get a payment's receipt
         * @description The receipt of a succeeded payment: its number (sequential per calendar year, UTC, with
         *     no gaps: `2026-000042`), given in the transaction that saw the payment succeed, when the
         *     receipt e-mail (template `payment_receipt`, with `receipt_number` in its data) was
         *     queued too. As JSON, or as a printable HTML page when `Accept` names `text/html`. A
         *     payment that has not succeeded has no receipt (404); another user's payment is a 404;
         *     admins read any.
         */
        get: operations["getPaymentReceipt"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/payments/{id}/refunds": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        /**
         * List a payment's refunds
         * @description The refunds of a payment the caller may see (their own, or any for admins), newest
         *     first.
         */
        get: operations["listRefunds"];
        put?: never;
        /**
         * Refund a payment
         * @description **Admins only.** Refunds `amount` minor units of a succeeded payment, or all that is
         *     left when `amount` is omitted. Several partial refunds are allowed; together they never
         *     exceed the amount (the payment is locked while a refund is recorded): more than the
         *     remainder is a 422 `amount_exceeds_refundable`. The refund is `succeeded` or `pending`;
         *     a pending one (or one whose provider call had no answer, `reconciliation_pending`) is
         *     settled by Stripe's webhooks. The payer gets a refund notice by e-mail once it succeeds.
         */
        post: operations["createRefund"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/payments/{id}/refund-requests": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Ask for a refund
         * @description The payer asks for a refund of their own succeeded payment, with a reason (1-1000
         *     characters) and optionally an `amount` (default: whatever is left to refund). Every
         *     admin is e-mailed (template `refund_requested`); an admin approves or rejects it. One
         *     request per payment may be open at a time (409 `refund_request_open`); a payment that has
         *     not succeeded, or has less left than `amount`, is a 422 `payment_not_refundable`.
         *     Accepts `Idempotency-Key`: a retry with the same key and body gets the first answer.
         */
        post: operations["createRefundRequest"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/refund-requests": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List refund requests
         * @description **Admins only.** Refund requests, newest first, optionally of one `status`.
         */
        get: operations["listRefundRequests"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/refund-requests/{id}/approve": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The refund request's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Approve a refund request
         * @description **Admins only.** Refunds the payment (`amount`, default what the request asked, else all
         *     that is left) as `POST /payments/{id}/refunds` would, records the refund on the request
         *     and e-mails the payer (template `refund_request_approved`). While the refund runs the
         *     request is `approving`, so a second approval is a 404 and never refunds twice. When the
         *     refund fails (422, 503) the request is pending again and the answer is the refund's.
         */
        post: operations["approveRefundRequest"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/refund-requests/{id}/reject": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The refund request's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Reject a refund request
         * @description **Admins only.** Rejects a pending request with a reason the payer reads in the e-mail
         *     (template `refund_request_rejected`). Nothing is refunded.
         */
        post: operations["rejectRefundRequest"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/payment-methods": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List saved payment methods
         * @description The caller's saved payment methods, newest first; one of them is the default.
         */
        get: operations["listPaymentMethods"];
        put?: never;
        /**
         * Save a payment method
         * @description Attaches a payment method created by Stripe.js (`pm_...`) to the caller's Stripe
         *     customer (created on first use) and saves it. The first saved method becomes the default.
         */
        post: operations["createPaymentMethod"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/payment-methods/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The payment method's id (anything that is not a UUID is a 404).
                 * @example 2b7e1d4c-8a3f-4e6b-9c1d-5f0a7e3b2c19
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete a saved payment method
         * @description Detaches the method from the caller's Stripe customer and forgets it. When it was the
         *     default, the newest remaining method becomes the default.
         */
        delete: operations["deletePaymentMethod"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/payment-methods/{id}/default": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The payment method's id (anything that is not a UUID is a 404).
                 * @example 2b7e1d4c-8a3f-4e6b-9c1d-5f0a7e3b2c19
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Make a payment method the default
         * @description The default is used when a payment is confirmed without `payment_method_id`; it is also
         *     set on the Stripe customer (`invoice_settings.default_payment_method`).
         */
        post: operations["setDefaultPaymentMethod"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/plans": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the plans on offer
         * @description The active subscription plans, newest first.
         */
        get: operations["listPlans"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/plans": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List every plan
         * @description **Admins only.** Every plan, archived ones included, newest first.
         */
        get: operations["listAllPlans"];
        put?: never;
        /**
         * Create a subscription plan
         * @description **Admins only.** Creates the plan at Stripe first (a product and a recurring price; a 503
         *     when Stripe does not answer, and nothing is stored), then in Herald. Amount, currency and
         *     interval never change afterwards: a new price is a new plan (archive the old one).
         */
        post: operations["createPlan"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/plans/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The plan's id (anything that is not a UUID is a 404).
                 * @example 3c1f7a2e-9b4d-4e8a-b6c2-0d5e7f9a1b23
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Rename, change the trial of or archive a plan
         * @description **Admins only.** `name` renames the plan (and its Stripe product), `trial_days` applies to
         *     new subscriptions, `active: false` archives it: no new subscribers, existing subscriptions go on.
         */
        patch: operations["updatePlan"];
        trace?: never;
    };
    "/api/v1/subscriptions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the caller's subscriptions
         * @description The caller's subscriptions, newest first.
         */
        get: operations["listSubscriptions"];
        put?: never;
        /**
         * Subscribe to a plan
         * @description Subscribes the caller to an active plan at Stripe, paying with `payment_method_id` (a saved
         *     method's id) or the default saved method; a plan with a trial needs none until the trial
         *     ends. The answer is the subscription as Stripe made it (`active`, `trialing`, or
         *     `incomplete` when the first payment failed). One subscription that is not over per user
         *     (409 `already_subscribed`: change its plan instead). The status never comes from the client:
         *     Stripe's answers and webhooks (`customer.subscription.*`, `invoice.paid`,
         *     `invoice.payment_failed`) set it. Each failed renewal payment is e-mailed to the user; after
         *     `HERALD_BILLING_MAX_RETRIES` failed attempts of an invoice the subscription is canceled.
         */
        post: operations["createSubscription"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscriptions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The subscription's id (anything that is not a UUID is a 404).
                 * @example 7a9c2e4f-1b3d-4f6a-8c0e-2d4f6a8c0e13
                 */
                id: string;
            };
            cookie?: never;
        };
        /**
         * Read a subscription
         * @description One of the caller's subscriptions (another user's is a 404).
         */
        get: operations["getSubscription"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscriptions/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The subscription's id (anything that is not a UUID is a 404).
                 * @example 7a9c2e4f-1b3d-4f6a-8c0e-2d4f6a8c0e13
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a subscription
         * @description Cancels at the end of the paid period (`at_period_end`, the default: the subscription stays
         *     usable and can be resumed until then) or at once (`at_period_end: false`). 409
         *     `subscription_canceled` when it has ended already.
         */
        post: operations["cancelSubscription"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscriptions/{id}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The subscription's id (anything that is not a UUID is a 404).
                 * @example 7a9c2e4f-1b3d-4f6a-8c0e-2d4f6a8c0e13
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Resume a subscription
         * @description Undoes a cancellation at the period's end (409 `not_canceling` when none is pending).
         */
        post: operations["resumeSubscription"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/subscriptions/{id}/plan": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The subscription's id (anything that is not a UUID is a 404).
                 * @example 7a9c2e4f-1b3d-4f6a-8c0e-2d4f6a8c0e13
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Change the plan of a subscription
         * @description Moves the subscription to another active plan of the same currency (Stripe prorates the
         *     difference). 409 `same_plan`; 422 `plan_archived`, `currency_mismatch`.
         */
        post: operations["changeSubscriptionPlan"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/subscriptions/{id}/sync": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The subscription's id (anything that is not a UUID is a 404).
                 * @example 7a9c2e4f-1b3d-4f6a-8c0e-2d4f6a8c0e13
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sync a subscription with Stripe now
         * @description **Admins only.** Fetches the subscription from Stripe and writes its current state (status,
         *     period, cancellation, plan) as a webhook would: for when events were lost. An ended
         *     subscription stays ended. 409 `not_started` when Stripe never made it.
         */
        post: operations["syncSubscription"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/stripe": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Receive a Stripe event
         * @description Stripe's webhook endpoint. The `Stripe-Signature` header must sign the raw body
         *     (HMAC-SHA256 of `t.body` with `HERALD_STRIPE_WEBHOOK_SECRET`; any `v1` may match, the
         *     timestamp within 300 s either way), else a 400 `invalid_signature`. Each event is applied
         *     once: a redelivery answers 200 with `duplicate: true` and changes nothing. Payment and refund
         *     statuses only move forward; an out-of-order event never undoes a later status, and one that
         *     disagrees with a status not yet final makes Herald fetch the object from Stripe and apply
         *     what it says (a 503 when that fetch fails: Stripe delivers again later). Receipts, failure
         *     and refund notices are queued as e-mails after the answer.
         */
        post: operations["receiveStripeWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/mpesa/{secret}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description HERALD_MPESA_CALLBACK_SECRET. M-Pesa does not sign its callbacks: this secret path
                 *     (and HERALD_MPESA_CALLBACK_ALLOW_IPS) lets them in; any other value is a 404.
                 * @example 6c1f0e0b2c6a4b7e9f3d8a1c5e7b9d2f
                 */
                secret: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Receive an M-Pesa callback
         * @description Daraja's CallBackURL (STK push results) and ResultURL (reversal results). A callback is a
         *     claim: Herald asks M-Pesa (the STK status query) and applies what M-Pesa answers, so a
         *     forged or mistaken callback moves nothing (`outcome: unconfirmed`, logged as a security
         *     event). A payment already final answers `duplicate` without asking again: a replayed
         *     callback changes nothing. A claimed amount that differs from the payment's is a 400
         *     `invalid_callback`; an unknown CheckoutRequestID or ConversationID a 404. Reversal
         *     results move the refund to `succeeded` or `failed`. Receipts and notices are queued as
         *     e-mails after the answer.
         */
        post: operations["receiveMpesaCallback"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read my feed
         * @description The signed-in user's in-app notifications, newest first, with the unread count.
         *     Scheduled ones appear at their `send_at`; deleted ones never.
         *
         *     The first page (no `starting_after`, no filter but `unread=true`) may come from the
         *     API process's copy (`HERALD_FEED_CACHE_MS`): a change made through the API shows at
         *     once on the process that made it and about a millisecond later on the others.
         */
        get: operations["listNotifications"];
        put?: never;
        /**
         * Send a notification
         * @description Creates the notification and one delivery per channel in one transaction, then puts the
         *     queued delivery ids on the e-mail, SMS and push queues. In-app deliveries are done at
         *     once. Deliveries due in the user's quiet hours (non-critical e-mail, SMS, push) wait for
         *     their end. A template is rendered here, in the user's locale; a missing variable is a
         *     422 naming it. Accepts `Idempotency-Key`: a retry with the same key and body gets the
         *     first response again (`Idempotent-Replayed: true`). **Admins or API keys.**
         */
        post: operations["sendNotification"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications/unread-count": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Count my unread notifications
         * @description How many feed notifications are unread (for a badge).
         */
        get: operations["getUnreadCount"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Follow my feed live (Server-Sent Events)
         * @description A `text/event-stream` of the caller's feed. Authenticate with `Authorization: Bearer`
         *     (native clients) or with `?ticket=` from `POST /api/v1/notifications/stream-tickets`
         *     (browsers' `EventSource`, which cannot send headers; never put an access token in a
         *     URL). The stream opens with `retry: 3000`; a fresh one then sends `unread_count`.
         *     Events (each a `NotificationStreamEvent`, its `data` one line of JSON, its `id` a
         *     decimal number that grows with every change of this user's feed): `notification.created`
         *     (data: the feed item, as in `GET /api/v1/notifications`), `notification.updated` (read,
         *     unread or deleted), `unread_count` (on connect and whenever it changes; it repeats the id
         *     of the change it follows), `stream.reset` (the `Last-Event-ID` is more than
         *     `HERALD_STREAM_REPLAY_WINDOW` changes behind, or is no id this feed handed out: fetch
         *     the feed again, then follow),
         *     `session.expired` (the access token behind the stream ended, its session was revoked or
         *     the account disabled; the server then closes: sign in or refresh, then reconnect) and
         *     `stream.overflow` (the client read too slowly; the server closes: reconnect with
         *     `Last-Event-ID`). A comment line `: hb` comes every `HERALD_STREAM_HEARTBEAT_S` (20) s.
         *     Reconnecting with `Last-Event-ID` (header, or `?last_event_id=`) first replays what was
         *     missed, read from PostgreSQL, then continues live: no gap, nothing twice. Any API process
         *     behind the load balancer serves any stream. Errors before the stream starts are the
         *     usual JSON error bodies.
         */
        get: operations["streamNotifications"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications/stream-tickets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Get a ticket to open my stream from a browser
         * @description A single-use ticket for `GET /api/v1/notifications/stream?ticket=...`, valid
         *     `HERALD_STREAM_TICKET_TTL_S` (60) seconds and never past the access token's own end.
         *     The stream it opens belongs to the token's user and session, and ends when the access
         *     token would have. Only its hash is stored. Takes no body.
         */
        post: operations["createStreamTicket"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications/read-all": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Mark my whole feed read
         * @description Marks every unread feed notification read.
         */
        post: operations["markAllNotificationsRead"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications/clear": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Clear my whole feed
         * @description Removes every notification of my feed (archived ones too) at once: a soft delete,
         *     as `DELETE /notifications/{id}` for each.
         */
        post: operations["clearNotifications"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications/bulk": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send to many users
         * @description The same notification to up to 1,000 users. Answers at once; the notifications are
         *     created in the background, in batches (`created_count` grows; read it back with
         *     `getNotificationBatch`). Rules are those of `sendNotification`; a template is checked
         *     against `data` up front. Accepts `Idempotency-Key`: a retry with the same key and body
         *     gets the first response again (`Idempotent-Replayed: true`). **Admins or API keys.**
         */
        post: operations["sendBulkNotification"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notification-batches/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The bulk send's id (anything that is not a UUID is a 404).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        /**
         * Follow a bulk send
         * @description Its progress: `status` and `created_count`.
         */
        get: operations["getNotificationBatch"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The notification's id (anything that is not a UUID is a 404).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        /**
         * Read a notification
         * @description One of my feed notifications; another user's is a 404. Admins can read any notification,
         *     with its deliveries.
         */
        get: operations["getNotification"];
        put?: never;
        post?: never;
        /**
         * Delete a notification
         * @description Removes it from my feed (kept for the audit trail).
         */
        delete: operations["deleteNotification"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications/{id}/read": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The notification's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Mark a notification read
         * @description Sets `read_at` (kept if already read).
         */
        post: operations["markNotificationRead"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications/{id}/unread": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The notification's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Mark a notification unread
         * @description Clears `read_at` (and `archived_at`: an unread notification is in the feed).
         */
        post: operations["markNotificationUnread"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications/{id}/archive": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The notification's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Archive a notification
         * @description Moves it out of the feed into the archive (`GET /notifications?archived=true`) and
         *     marks it read.
         */
        post: operations["archiveNotification"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications/{id}/unarchive": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The notification's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Bring a notification back from the archive
         * @description Clears `archived_at`; it stays read.
         */
        post: operations["unarchiveNotification"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/announcements": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List announcements
         * @description Newest first, with their progress. **Admins or API keys.**
         */
        get: operations["listAnnouncements"];
        put?: never;
        /**
         * Announce to everyone
         * @description A notification to every active user, every `user` or every admin (category
         *     `announcement` unless given). Answers at once; the fan-out runs in the background from
         *     `send_at` (or now), in batches, resumable after a crash. Accepts `Idempotency-Key`: a
         *     retry with the same key and body gets the first response again (`Idempotent-Replayed:
         *     true`). **Admins or API keys.**
         */
        post: operations["createAnnouncement"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/announcements/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The announcement's id (anything that is not a UUID is a 404).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        /**
         * Follow an announcement
         * @description Its progress: `status` and `created_count`.
         */
        get: operations["getAnnouncement"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Change an announcement's content
         * @description Replaces title, body, action_url or data (null removes title, action_url or data) for
         *     the recipients still to come and in the copies already made (their feed shows the new
         *     text; e-mail and push not yet sent carry it). Not for an announcement made from a
         *     template (422 `template_announcement`) or withdrawn (409 `announcement_withdrawn`).
         *     **Admins or API keys.**
         */
        patch: operations["updateAnnouncement"];
        trace?: never;
    };
    "/api/v1/announcements/{id}/withdraw": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The announcement's id (anything that is not a UUID is a 404).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Withdraw an announcement
         * @description Stops its fan-out (status `withdrawn`), removes its copies nobody has read from the
         *     feeds (read ones stay) and skips its e-mail, SMS and push deliveries not yet sent
         *     (reason `withdrawn`). 409 `announcement_withdrawn` the second time. **Admins or API keys.**
         */
        post: operations["withdrawAnnouncement"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/preferences": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read my notification preferences
         * @description With the defaults filled in: every channel on, no quiet hours.
         */
        get: operations["getPreferences"];
        /**
         * Change my notification preferences
         * @description Sections given replace the stored ones; sections left out are kept. Unknown channels,
         *     bad times and unknown zones are 400s. Category `security` (Herald's security alerts:
         *     a sign-in from a new device or network, password changed or reset, two-factor
         *     turned on or off, a refresh token used twice, an API key created) follows these
         *     choices, but when they would turn off every channel the alert still goes in-app and
         *     by e-mail; quiet hours never delay it.
         */
        put: operations["updatePreferences"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/topics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The topics I can subscribe to
         * @description Every topic, by key (at most 1,000). Announcements can target a topic's subscribers.
         */
        get: operations["listTopics"];
        put?: never;
        /**
         * Create a topic
         * @description A key (a-z 0-9 _ . -), a name and a description. **Admins or API keys.**
         */
        post: operations["createTopic"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/topics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The topics I subscribe to
         * @description My subscriptions, by key, with `subscribed_at`.
         */
        get: operations["listMyTopics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/topics/{key}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The topic's key.
                 * @example releases
                 */
                key: string;
            };
            cookie?: never;
        };
        get?: never;
        /**
         * Subscribe to a topic
         * @description Idempotent; 404 for a topic that does not exist.
         */
        put: operations["subscribeTopic"];
        post?: never;
        /**
         * Unsubscribe from a topic
         * @description 404 when I am not subscribed to it.
         */
        delete: operations["unsubscribeTopic"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/devices": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List my devices
         * @description Newest first.
         */
        get: operations["listDevices"];
        put?: never;
        /**
         * Register a push device
         * @description A new token is a 201; a known one is refreshed (200), and moved to the caller if it
         *     belonged to someone else. Accepts `Idempotency-Key`: a retry with the same key and body
         *     gets the first response again (`Idempotent-Replayed: true`).
         */
        post: operations["registerDevice"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/devices/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The device's id (another user's is a 404).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Remove a device
         * @description It no longer receives push notifications.
         */
        delete: operations["deleteDevice"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/webhook-endpoints": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List webhook endpoints
         * @description Newest first; secrets are never listed.
         */
        get: operations["listMyWebhookEndpoints"];
        put?: never;
        /**
         * Register a webhook endpoint
         * @description The caller's endpoints receive the caller's notifications of their categories. The URL must be https (http only with `HERALD_WEBHOOK_ALLOW_HTTP`), and every
         *     address its host resolves to must be public (or inside `HERALD_WEBHOOK_ALLOW_NETS`):
         *     loopback, private, link-local, CGNAT, metadata, ULA, IPv4-mapped and other special
         *     addresses are a 400 `address_not_allowed`. The answer carries the signing `secret`
         *     (`whsec_...`), shown this once. Deliveries are POSTs signed after Standard Webhooks
         *     (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
         *     id.timestamp.body>`). At most `HERALD_WEBHOOK_MAX_ENDPOINTS` (422
         *     `too_many_endpoints`). Accepts `Idempotency-Key`.
         */
        post: operations["createMyWebhookEndpoint"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/webhook-endpoints/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The endpoint's id (another user's is a 404).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Remove a webhook endpoint
         * @description Its queued deliveries end `skipped` (`endpoint_deleted`).
         */
        delete: operations["deleteMyWebhookEndpoint"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/webhook-endpoints/{id}/rotate-secret": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The endpoint's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate a webhook endpoint's secret
         * @description A new secret, shown this once. Until `previous_secret_expires_at`
         *     (`HERALD_WEBHOOK_SECRET_GRACE_S`) deliveries carry two signatures, one per secret, so
         *     the receiver can switch without losing a message.
         */
        post: operations["rotateMyWebhookEndpointSecret"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/users/me/webhook-endpoints/{id}/enable": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The endpoint's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Enable a disabled webhook endpoint
         * @description After `HERALD_WEBHOOK_DISABLE_AFTER` failed attempts in a row the workers disable an
         *     endpoint and its owner is told by e-mail; this enables it again with its run of
         *     failures cleared (its URL is checked again: 400 `address_not_allowed`).
         */
        post: operations["enableMyWebhookEndpoint"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/webhook-endpoints": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List webhook endpoints
         * @description Newest first; secrets are never listed. **Admins only.**
         */
        get: operations["listAdminWebhookEndpoints"];
        put?: never;
        /**
         * Register a webhook endpoint
         * @description System-wide endpoints receive every user's notifications of their categories. The URL must be https (http only with `HERALD_WEBHOOK_ALLOW_HTTP`), and every
         *     address its host resolves to must be public (or inside `HERALD_WEBHOOK_ALLOW_NETS`):
         *     loopback, private, link-local, CGNAT, metadata, ULA, IPv4-mapped and other special
         *     addresses are a 400 `address_not_allowed`. The answer carries the signing `secret`
         *     (`whsec_...`), shown this once. Deliveries are POSTs signed after Standard Webhooks
         *     (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
         *     id.timestamp.body>`). At most `HERALD_WEBHOOK_MAX_ENDPOINTS` (422
         *     `too_many_endpoints`). Accepts `Idempotency-Key`. **Admins only.**
         */
        post: operations["createAdminWebhookEndpoint"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/webhook-endpoints/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The endpoint's id (a user's own is a 404 here).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Remove a webhook endpoint
         * @description Its queued deliveries end `skipped` (`endpoint_deleted`). **Admins only.**
         */
        delete: operations["deleteAdminWebhookEndpoint"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/webhook-endpoints/{id}/rotate-secret": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The endpoint's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate a webhook endpoint's secret
         * @description A new secret, shown this once. Until `previous_secret_expires_at`
         *     (`HERALD_WEBHOOK_SECRET_GRACE_S`) deliveries carry two signatures, one per secret, so
         *     the receiver can switch without losing a message. **Admins only.**
         */
        post: operations["rotateAdminWebhookEndpointSecret"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/webhook-endpoints/{id}/enable": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The endpoint's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Enable a disabled webhook endpoint
         * @description After `HERALD_WEBHOOK_DISABLE_AFTER` failed attempts in a row the workers disable an
         *     endpoint and its owner is told by e-mail; this enables it again with its run of
         *     failures cleared (its URL is checked again: 400 `address_not_allowed`). **Admins only.**
         */
        post: operations["enableAdminWebhookEndpoint"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/templates": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List templates
         * @description Newest first. **Admins only.**
         */
        get: operations["listTemplates"];
        put?: never;
        /**
         * Create a template
         * @description Content per channel with `{{variable}}` placeholders, and per-locale overrides. An
         *     unclosed `{{` is a 400. Accepts `Idempotency-Key`: a retry with the same key and body
         *     gets the first response again (`Idempotent-Replayed: true`). **Admins only.**
         */
        post: operations["createTemplate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/templates/{key}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The template key (anything else is a 404).
                 * @example welcome
                 */
                key: string;
            };
            cookie?: never;
        };
        /**
         * Read a template
         * @description **Admins only.**
         */
        get: operations["getTemplate"];
        /**
         * Replace a template
         * @description Everything but the key. **Admins only.**
         */
        put: operations["replaceTemplate"];
        post?: never;
        /**
         * Delete a template
         * @description Notifications already sent keep their rendered content. **Admins only.**
         */
        delete: operations["deleteTemplate"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/templates/{key}/preview": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The template key (anything else is a 404).
                 * @example welcome
                 */
                key: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Render a template
         * @description Renders every channel with `data` for a locale, as a send would (HTML-escaped in
         *     `html`). A missing variable is a 422 naming it. Nothing is sent. **Admins only.**
         */
        post: operations["previewTemplate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/queues": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Queue lengths
         * @description Per queue: ready, processing, delayed and dead ids in Redis. A 503 when Redis is down.
         *     **Admins only.**
         */
        get: operations["listQueues"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List deliveries
         * @description Newest first; filters combine, time bounds are inclusive. **Admins only.**
         */
        get: operations["listDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/deliveries/stats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Delivery counts
         * @description Counts by channel and status of the deliveries created since `since` (default: 24 hours
         *     ago). **Admins only.**
         */
        get: operations["getDeliveryStats"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/deliveries/{id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The delivery's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Retry a delivery
         * @description A `dead` or `failed` delivery goes back to `queued` (attempts reset) and onto its queue,
         *     and leaves the dead-letter list. Any other status is a 409 `not_retryable`. **Admins
         *     only.**
         */
        post: operations["retryDelivery"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/unsubscribe": {
        parameters: {
            query: {
                /** @description The user the link was sent to. */
                user: string;
                /** @description The notification category the link turns off. */
                category: string;
                /**
                 * @description hex(HMAC-SHA256(key, user + "\n" + category)), the key derived from
                 *     `HERALD_UNSUBSCRIBE_SECRET` (or `HERALD_JWT_SECRET` when that is empty).
                 */
                sig: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Unsubscribe page
         * @description What a browser shows for the `List-Unsubscribe` link of an e-mail: a page with one button
         *     that POSTs the same URL. Opening it changes nothing (RFC 8058: link scanners open links).
         *     400 when a parameter is malformed or the signature does not match; 503 when no key is
         *     configured.
         */
        get: operations["getUnsubscribePage"];
        put?: never;
        /**
         * One-click unsubscribe (RFC 8058)
         * @description The target of the `List-Unsubscribe` header that herald-email adds to e-mails of
         *     non-transactional categories, announced by `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
         *     Mail clients POST the form body `List-Unsubscribe=One-Click` (any body is accepted and
         *     ignored); the signed link is the credential, no login is needed. Turns off e-mail for
         *     that category in the user's preferences (`categories.<category>.email = false`, every
         *     other setting kept), with an audit entry `preferences.unsubscribed`. Repeating it is
         *     harmless. 400 for a malformed parameter or a signature that does not match, 404 when
         *     the account no longer exists, 503 when no key is configured or PostgreSQL is down.
         */
        post: operations["unsubscribeOneClick"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/sms/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Receive an SMS status callback
         * @description The SMS provider's status callback (Twilio-compatible), requested by herald-sms for every
         *     message it sends when `HERALD_SMS_STATUS_CALLBACK_URL` is set. The body is the provider's
         *     form; `X-Twilio-Signature` must be base64(HMAC-SHA1(`HERALD_SMS_AUTH_TOKEN`, URL + every
         *     field name and value sorted by name)) where URL is `HERALD_SMS_STATUS_CALLBACK_URL`, or the
         *     URL this request was made to when that is empty; else a 400 `invalid_signature`. The
         *     status is recorded on the delivery whose provider message id is `MessageSid`
         *     (`provider_status`, `delivered_at`, a delivery event and an audit entry); `undelivered` and
         *     `failed` mark the delivery failed. Statuses only move forward (queued < sending < sent <
         *     final): a late or repeated callback changes nothing. An unknown `MessageSid` is
         *     acknowledged and ignored. Without `HERALD_SMS_AUTH_TOKEN` the endpoint answers 503.
         */
        post: operations["receiveSmsStatus"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/sms/inbound": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Receive an inbound SMS (Twilio)
         * @description A text sent to Herald's number, as Twilio posts it (the number's messaging webhook).
         *     Verified like the status callback (`X-Twilio-Signature` over the URL this request was
         *     made to and the sorted fields, keyed by `HERALD_SMS_AUTH_TOKEN`). A text that is one
         *     keyword sets the SMS preference of every account whose phone is `From`: `STOP`
         *     (`STOPALL`, `UNSUBSCRIBE`, `CANCEL`, `END`, `QUIT`) turns the SMS channel off, `START`
         *     (`YES`, `UNSTOP`) on again, each with an audit entry; `HELP` (`INFO`) is answered in the
         *     TwiML reply with `HERALD_SMS_HELP_TEXT`. Any other text is acknowledged with an empty
         *     `<Response/>`. Without `HERALD_SMS_AUTH_TOKEN` the endpoint answers 503.
         */
        post: operations["receiveInboundSms"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/sms/vonage/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Receive a Vonage delivery receipt
         * @description Vonage's delivery receipt (DLR) of a message herald-sms sent through the `vonage`
         *     provider, requested when `HERALD_VONAGE_STATUS_CALLBACK_URL` is set (the account's
         *     receipt URL, method POST, form). `sig` must be the upper- or lower-case hex HMAC-SHA256, keyed by
         *     `HERALD_VONAGE_SIGNATURE_SECRET`, of every other parameter sorted by name and written as
         *     `&name=value` (`&` and `=` inside values replaced by `_`), and `timestamp` (Unix seconds)
         *     within `HERALD_PROVIDER_WEBHOOK_TOLERANCE_S` of the server's clock; else a 400
         *     `invalid_signature`. Without the secret the endpoint answers 503. The
         *     status is recorded like a Twilio callback on the delivery whose provider message id is
         *     `messageId`: `delivered`; `expired` as undelivered, `failed` and `rejected` as failed
         *     (the delivery becomes failed, with `err-code`); `accepted` and `buffered` as
         *     provisional. An unknown `messageId` is acknowledged and ignored.
         */
        post: operations["receiveVonageReceipt"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/sms/vonage/inbound": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Receive an inbound SMS (Vonage)
         * @description A text sent to Herald's Vonage number (the number's inbound webhook, method POST, form).
         *     `sig` must be the upper- or lower-case hex HMAC-SHA256, keyed by
         *     `HERALD_VONAGE_SIGNATURE_SECRET`, of every other parameter sorted by name and written as
         *     `&name=value` (`&` and `=` inside values replaced by `_`), and `timestamp` (Unix seconds)
         *     within `HERALD_PROVIDER_WEBHOOK_TOLERANCE_S` of the server's clock; else a 400
         *     `invalid_signature`. Without the secret the endpoint answers 503. Keywords as for
         *     `/api/v1/webhooks/sms/inbound` from `msisdn`; Vonage cannot answer in the webhook's
         *     reply, so `HELP` queues `HERALD_SMS_HELP_TEXT` as a critical SMS (category `sms_help`)
         *     to the oldest account with that phone (skipped, like any SMS, when that account has
         *     the SMS channel off).
         */
        post: operations["receiveVonageInbound"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/email/sendgrid": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Receive SendGrid events (bounces, complaints)
         * @description SendGrid's signed Event Webhook: a JSON array of 1-1000 events. The signature is
         *     SendGrid's: `X-Twilio-Email-Event-Webhook-Signature` is the base64 DER ECDSA P-256
         *     signature over `X-Twilio-Email-Event-Webhook-Timestamp` followed by the raw body
         *     (SHA-256), checked against `HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY`; the timestamp must be
         *     within `HERALD_PROVIDER_WEBHOOK_TOLERANCE_S`; else a 400 `invalid_signature`. Hard
         *     bounces (`bounce` other than type `blocked`), `spamreport` and `dropped` for an invalid
         *     or bounced address mark `email` undeliverable: herald-email skips every later e-mail
         *     to it (delivery `skipped`, reason `email_undeliverable`). Other events are acknowledged
         *     and ignored; a repeated event changes nothing. Without the key the endpoint answers 503.
         */
        post: operations["receiveSendgridEvents"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/webhooks/email/mailgun": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Receive a Mailgun event (bounces, complaints)
         * @description Mailgun's signed webhook (JSON): `signature.signature` must be the hex HMAC-SHA256 of
         *     `signature.timestamp` followed by `signature.token`, keyed by
         *     `HERALD_MAILGUN_WEBHOOK_SIGNING_KEY`, and the timestamp within
         *     `HERALD_PROVIDER_WEBHOOK_TOLERANCE_S`; else a 400 `invalid_signature`. `failed` events
         *     of severity `permanent` and `complained` events mark `event-data.recipient`
         *     undeliverable (see `/api/v1/webhooks/email/sendgrid`); others are acknowledged and
         *     ignored. Without the key the endpoint answers 503.
         */
        post: operations["receiveMailgunEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/reconciliations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List reconciliation runs
         * @description **Admins only.** Ledger runs, newest first (without their items).
         */
        get: operations["listReconciliations"];
        put?: never;
        /**
         * Request a ledger reconciliation run
         * @description **Admins only.** Queues a comparison of Herald's succeeded payments and refunds with
         *     Stripe's for the period `[since, until)` (UTC; default: yesterday; `since` alone: that
         *     day; at most 31 days). The run is created `queued` and `herald-reconcile` runs it: each
         *     difference becomes an item (`missing_locally`, `missing_at_provider`, `amount_mismatch`,
         *     `status_mismatch`, `currency_mismatch`) with both sides' values, once per period (a
         *     second run adds nothing new). Admins get an e-mail with the totals.
         */
        post: operations["createReconciliation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/reconciliations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The run's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a41
                 */
                id: string;
            };
            cookie?: never;
        };
        /**
         * Read a reconciliation run with its items
         * @description **Admins only.** The run and the differences found for its period, oldest first,
         *     optionally of one `kind`.
         */
        get: operations["getReconciliation"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/payments/{id}/sync": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sync a payment with Stripe now
         * @description **Admins only.** Queues a sync of the payment: `herald-reconcile` fetches it from
         *     Stripe (or retries a create whose answer was lost, with the same Idempotency-Key) and
         *     moves it forward, never backwards and never over a final status. Queueing twice while
         *     one is open returns the same job.
         */
        post: operations["syncPayment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/payments/summary": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Payment figures over a period
         * @description **Admins only.** Payments created in `[from, to)` by currency and status (count and
         *     volume in minor units), and by currency: collected payments (`succeeded`, or `disputed`
         *     after succeeding) and their volume, succeeded refunds (by their own creation time),
         *     disputes opened in the period (`dispute_count`; `disputed` = the amount of those not
         *     won), the fees of the collected payments (provider and platform) and `net` = volume -
         *     refunded - disputed - fees. Amounts are never
         *     added across currencies. `to` defaults to now, `from` to 30 days before `to`; at most 366
         *     days. The same figures since the first payment are gauges on `/metrics`
         *     (`herald_payments_count` and `_volume` {currency, status}, `_refunded`, `_disputed`,
         *     `_net` {currency}, `_fees` {currency, kind}), refreshed at most once a minute.
         */
        get: operations["getPaymentSummary"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/disputes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List disputes
         * @description **Admins only.** Disputes (chargebacks) Stripe reported, newest first, optionally of
         *     one status. Every active admin gets an e-mail when a dispute opens and when it closes.
         */
        get: operations["listDisputes"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/disputes/{id}/evidence": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The dispute's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a42
                 */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Submit evidence for a dispute
         * @description **Admins only.** Sends the text to Stripe as the dispute's evidence and submits it
         *     for review: the dispute moves to `under_review`. Only while the dispute needs a
         *     response (`needs_response`, `warning_needs_response`; else 409 `dispute_not_open`).
         *     When Stripe refuses it (for instance, the dispute closed there meanwhile) the answer
         *     is 422 with Stripe's code; when Stripe does not answer, 503 with `Retry-After` and
         *     nothing is recorded. Audited as `dispute.evidence_submitted`.
         */
        post: operations["submitDisputeEvidence"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
};
export type webhooks = Record<string, never>;
export type components = {
    schemas: {
        /**
         * @description The one error shape of the API.
         * @example {
         *       "error": {
         *         "type": "invalid_request_error",
         *         "code": "not_found",
         *         "message": "No such route."
         *       }
         *     }
         */
        Error: {
            error: components["schemas"]["ErrorDetail"];
        };
        ErrorDetail: {
            /**
             * @description The family of the error.
             * @enum {string}
             */
            type: "invalid_request_error" | "authentication_error" | "permission_error" | "rate_limit_error" | "idempotency_error" | "card_error" | "api_error";
            /** @description Stable machine-readable reason, e.g. `not_found`, `malformed_json`. */
            code: string;
            /** @description Human-readable explanation; its wording may change. */
            message: string;
            /** @description The request field (or parameter, or header) at fault, when there is one. */
            param?: string;
            /** @description On a 402 `card_error`, the card issuer's reason (`insufficient_funds`, `generic_decline`, ...). */
            decline_code?: string;
            /**
             * Format: uuid
             * @description On a 402 `card_error`, the payment that was declined (it is kept; confirm it with another method).
             */
            payment_id?: string;
            /** @description On a 400 for invalid input, every field error (the first is also in `code`, `message` and `param`). */
            errors?: components["schemas"]["FieldError"][];
        };
        /**
         * @example {
         *       "param": "email",
         *       "code": "invalid_format",
         *       "message": "email must be an e-mail address."
         *     }
         */
        FieldError: {
            /** @description The field at fault (`email`, `items[2].amount`). */
            param: string;
            /** @description Why, e.g. `required`, `invalid_type`, `too_long`, `out_of_range`, `invalid_format`. */
            code: string;
            message: string;
        };
        /**
         * @description The envelope of every list. A concrete list narrows `data` with `allOf`:
         *     `allOf: [{$ref: List}, {properties: {data: {items: {$ref: Thing}}}}]`.
         * @example {
         *       "object": "list",
         *       "data": [],
         *       "has_more": false
         *     }
         */
        List: {
            /** @constant */
            object: "list";
            /** @description This page, newest first. */
            data: unknown[];
            /** @description Whether a next page exists (request it with `starting_after` = the last item's `id`). */
            has_more: boolean;
        };
        Unsubscribe: {
            /** @constant */
            object: "unsubscribe";
            category: string;
            /** @constant */
            channel: "email";
            /** @constant */
            subscribed: false;
        };
        Health: {
            /** @constant */
            status: "ok";
            /** @description What this process is (the same as `herald-api --version`). */
            version: {
                /**
                 * @description The release.
                 * @example 0.1.0
                 */
                version: string;
                /**
                 * @description The git commit it was built from (`-dirty` when modified), or `unknown`.
                 * @example 2fee9f5a1b2c
                 */
                commit: string;
                /**
                 * @description The CMake build type.
                 * @example RelWithDebInfo
                 */
                build_type: string;
            };
        };
        Readiness: {
            /** @constant */
            status: "ready";
            checks: {
                /** @constant */
                postgres: "ok";
                /** @constant */
                redis: "ok";
            };
        };
        NotReady: {
            /** @constant */
            status: "unavailable";
            /** @description Each dependency's state; at least one is `down`. */
            checks: {
                postgres: components["schemas"]["CheckState"];
                redis: components["schemas"]["CheckState"];
            };
        };
        /** @enum {string} */
        CheckState: "ok" | "down";
        /** @description An OpenAPI 3.1 document (this one); its full schema is the OpenAPI specification's. */
        OpenApiDocument: {
            openapi: string;
            info: {
                title: string;
                version: string;
            } & {
                [key: string]: unknown;
            };
            paths: {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /**
         * @description An account. `email_verified` turns true once the link of the verification e-mail is
         *     used. Deleted accounts keep their id and dates; their address becomes
         *     `deleted-<id>@deleted.invalid` and their name and phone are erased.
         * @example {
         *       "id": "1f7b874d-fddb-4e44-babf-d868c49fc2ce",
         *       "object": "user",
         *       "email": "ada@example.com",
         *       "name": "Ada Lovelace",
         *       "phone": "+14155550123",
         *       "timezone": "Europe/London",
         *       "locale": "en-GB",
         *       "role": "user",
         *       "status": "active",
         *       "email_verified": false,
         *       "created_at": "2026-11-22T01:37:46Z",
         *       "updated_at": "2026-11-22T01:37:46Z"
         *     }
         */
        User: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "user";
            /** @description The e-mail address, as registered (compared case-insensitively). */
            email: string;
            name: string | null;
            /** @description E.164 phone number. */
            phone: string | null;
            /** @description IANA time zone (quiet hours and dates are computed in it). */
            timezone: string;
            /** @description Language of the messages sent to this user (`en`, `pt-BR`). */
            locale: string;
            /** @enum {string} */
            role: "user" | "admin";
            /** @enum {string} */
            status: "active" | "disabled" | "deleted";
            email_verified: boolean;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        /**
         * @description Credentials of a signed-in user. Send the access token as `Authorization: Bearer
         *     <access_token>`; when it expires, exchange the refresh token (single use) for a new
         *     pair at `POST /api/v1/auth/refresh`.
         * @example {
         *       "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxZjdiODc0ZCJ9.c2lnbmF0dXJlLWZvci1kb2Nz",
         *       "refresh_token": "rt_Qm9ndXNUb2tlbkZvckRvY3NPbmx5MDEyMzQ1Njc4OWFi",
         *       "token_type": "Bearer",
         *       "expires_in": 900
         *     }
         */
        TokenPair: {
            /** @description A JWT carrying the user id (`sub`) and role. */
            access_token: string;
            /** @description An opaque single-use token; keep it secret. */
            refresh_token: string;
            /** @constant */
            token_type: "Bearer";
            /** @description Seconds until the access token expires (`HERALD_ACCESS_TOKEN_TTL_S`). */
            expires_in: number;
        };
        Accepted: {
            /** @constant */
            status: "accepted";
        };
        /**
         * @description A service API key, without its secret.
         * @example {
         *       "id": "6f3100c2-8f44-4886-829b-e5aa4c375510",
         *       "object": "api_key",
         *       "name": "billing-service",
         *       "prefix": "hk_7GI8xDdd",
         *       "created_by": "7fbcee05-b645-4c2b-a4ed-291a2df4b57b",
         *       "created_at": "2026-11-22T01:37:58Z",
         *       "last_used_at": null,
         *       "revoked_at": null
         *     }
         */
        ApiKey: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "api_key";
            name: string;
            /** @description The first characters of the secret, to recognise it. */
            prefix: string;
            /**
             * Format: uuid
             * @description The admin who created it (null once that account is gone).
             */
            created_by: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            last_used_at: string | null;
            /** Format: date-time */
            revoked_at: string | null;
        };
        /**
         * @description A new API key (see `ApiKey`) with its secret, which is never shown again.
         * @example {
         *       "id": "6f3100c2-8f44-4886-829b-e5aa4c375510",
         *       "object": "api_key",
         *       "name": "billing-service",
         *       "prefix": "hk_7GI8xDdd",
         *       "created_by": "7fbcee05-b645-4c2b-a4ed-291a2df4b57b",
         *       "created_at": "2026-11-22T01:37:58Z",
         *       "last_used_at": null,
         *       "revoked_at": null,
         *       "secret": "hk_7GI8xDddRm9yRG9jc09ubHlOb3RBUmVhbEtleTAxMjM0NTY3"
         *     }
         */
        ApiKeyWithSecret: {
            id: components["schemas"]["ApiKey"]["id"];
            object: components["schemas"]["ApiKey"]["object"];
            name: components["schemas"]["ApiKey"]["name"];
            prefix: components["schemas"]["ApiKey"]["prefix"];
            created_by: components["schemas"]["ApiKey"]["created_by"];
            created_at: components["schemas"]["ApiKey"]["created_at"];
            last_used_at: components["schemas"]["ApiKey"]["last_used_at"];
            revoked_at: components["schemas"]["ApiKey"]["revoked_at"];
            /** @description The key: send it as `Authorization: Bearer <secret>`. */
            secret: string;
        };
        /**
         * @description One recorded state change or security event.
         * @example {
         *       "id": "767de0b4-bc65-4b5d-9041-8bbd8c3d2a34",
         *       "object": "audit_log_entry",
         *       "actor_id": "7fbcee05-b645-4c2b-a4ed-291a2df4b57b",
         *       "actor_type": "user",
         *       "action": "api_key.created",
         *       "target_type": "api_key",
         *       "target_id": "6f3100c2-8f44-4886-829b-e5aa4c375510",
         *       "ip": "203.0.113.7",
         *       "request_id": "58bc21a4-8043-4aa9-af4c-eff20cde2502",
         *       "details": {
         *         "name": "billing-service"
         *       },
         *       "created_at": "2026-11-22T01:38:03Z"
         *     }
         */
        AuditLogEntry: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "audit_log_entry";
            /**
             * Format: uuid
             * @description The user or API key that acted (null when anonymous, e.g. a sign-in with an unknown address).
             */
            actor_id: string | null;
            /** @enum {string} */
            actor_type: "user" | "api_key" | "system";
            /** @description What happened, `<object>.<verb>` (e.g. `auth.login`, `user.deleted`, `api_key.created`). */
            action: string;
            /** @description The kind of object acted on (`user`, `api_key`, ...). */
            target_type: string | null;
            /** @description The id of the object acted on. */
            target_id: string | null;
            /** @description The client IP address. */
            ip: string | null;
            /** @description The `X-Request-Id` of the request, to find its log lines. */
            request_id: string | null;
            /** @description Action-specific details (free-form; each action records its own fields). */
            details: {
                [key: string]: unknown;
            };
            /** Format: date-time */
            created_at: string;
        };
        /**
         * @description Everything Herald stores about one account (`GET /api/v1/users/me/export`). Secrets are
         *     never in it: device tokens show their last 6 characters, payment methods their brand and
         *     last 4 digits, sessions no tokens, one-time tokens only their kind and dates.
         * @example {
         *       "object": "user_export",
         *       "generated_at": "2026-11-22T01:40:00Z",
         *       "format": "herald.v1",
         *       "note": "Everything Herald stores about this account.",
         *       "user": {
         *         "id": "1f7b874d-fddb-4e44-babf-d868c49fc2ce",
         *         "object": "user",
         *         "email": "ada@example.com",
         *         "name": "Ada Lovelace",
         *         "phone": null,
         *         "timezone": "UTC",
         *         "locale": "en",
         *         "role": "user",
         *         "status": "active",
         *         "email_verified": true,
         *         "created_at": "2026-11-22T01:37:46Z",
         *         "updated_at": "2026-11-22T01:37:54Z"
         *       },
         *       "preferences": null,
         *       "devices": [],
         *       "notifications": [],
         *       "deliveries": [],
         *       "payments": [],
         *       "refunds": [],
         *       "payment_methods": [
         *         {
         *           "id": "0b0a3c55-5b7e-4f0e-8f43-1e6d3c0a8a11",
         *           "type": "card",
         *           "brand": "visa",
         *           "last4": "4242",
         *           "exp_month": 12,
         *           "exp_year": 2030,
         *           "is_default": true,
         *           "created_at": "2026-11-22T01:38:10Z"
         *         }
         *       ],
         *       "payment_customer": null,
         *       "sessions": [
         *         {
         *           "id": "8b3c4b26-0a09-4156-90bc-44e150338ea3",
         *           "ip": "203.0.113.7",
         *           "created_at": "2026-11-22T01:37:46Z",
         *           "last_used_at": "2026-11-22T01:37:46Z",
         *           "expires_at": "2026-12-22T01:37:46Z",
         *           "revoked": false
         *         }
         *       ],
         *       "one_time_tokens": [],
         *       "api_keys_created": [],
         *       "audit_log": [
         *         {
         *           "action": "user.registered",
         *           "target_type": "user",
         *           "target_id": "1f7b874d-fddb-4e44-babf-d868c49fc2ce",
         *           "ip": "203.0.113.7",
         *           "created_at": "2026-11-22T01:37:46Z"
         *         }
         *       ]
         *     }
         */
        UserExport: {
            /** @constant */
            object: "user_export";
            /** Format: date-time */
            generated_at: string;
            /**
             * @description The version of this document's layout.
             * @constant
             */
            format: "herald.v1";
            note: string;
            user: components["schemas"]["User"];
            /** @description The notification settings, null when never changed (the defaults apply). */
            preferences: null | {
                channels: {
                    [key: string]: unknown;
                };
                categories: {
                    [key: string]: unknown;
                };
                quiet_enabled: boolean;
                quiet_start: string | null;
                quiet_end: string | null;
                quiet_timezone: string | null;
                /** Format: date-time */
                updated_at: string;
            };
            /** @description Push devices, oldest first; the token masked to its last 6 characters. */
            devices: {
                /** Format: uuid */
                id: string;
                /** @enum {string} */
                platform: "ios" | "android" | "web";
                /** @description "..." and the last 6 characters of the token. */
                token_hint: string;
                app_version: string | null;
                active: boolean;
                /** Format: date-time */
                last_seen_at: string;
                /** Format: date-time */
                created_at: string;
            }[];
            /** @description The account's notifications (deleted ones included, with `deleted_at`), oldest first. */
            notifications: {
                /** Format: uuid */
                id: string;
                category: string;
                /** @enum {string} */
                priority: "low" | "normal" | "high" | "critical";
                template_key: string | null;
                title: string | null;
                body: string | null;
                /** @description The notification's template data (free-form, as sent). */
                data: {
                    [key: string]: unknown;
                };
                action_url: string | null;
                /** Format: date-time */
                send_at: string | null;
                /** Format: date-time */
                created_at: string;
                /** Format: date-time */
                read_at: string | null;
                /** Format: date-time */
                deleted_at: string | null;
            }[];
            /** @description One per notification and channel, oldest first. */
            deliveries: {
                /** Format: uuid */
                id: string;
                /** Format: uuid */
                notification_id: string;
                /** @enum {string} */
                channel: "in_app" | "email" | "sms" | "push" | "webhook";
                status: string;
                reason: string | null;
                attempts: number;
                provider: string | null;
                /** Format: date-time */
                sent_at: string | null;
                /** Format: date-time */
                created_at: string;
                /** Format: date-time */
                updated_at: string;
            }[];
            /** @description The account's payments, oldest first. */
            payments: {
                /** Format: uuid */
                id: string;
                payment_type: string;
                amount: number;
                currency: string;
                description: string | null;
                metadata: {
                    [key: string]: unknown;
                };
                status: string;
                amount_refunded: number;
                cancellation_reason: string | null;
                /** Format: date-time */
                created_at: string;
                /** Format: date-time */
                succeeded_at: string | null;
                /** Format: date-time */
                canceled_at: string | null;
            }[];
            /** @description Refunds of the account's payments, oldest first. */
            refunds: {
                /** Format: uuid */
                id: string;
                /** Format: uuid */
                payment_id: string;
                amount: number;
                currency: string;
                reason: string | null;
                status: string;
                /** Format: date-time */
                created_at: string;
            }[];
            /** @description Saved payment methods, masked (brand, last 4 digits, expiry), oldest first. */
            payment_methods: {
                /** Format: uuid */
                id: string;
                type: string;
                brand: string | null;
                last4: string | null;
                exp_month: number | null;
                exp_year: number | null;
                is_default: boolean;
                /** Format: date-time */
                created_at: string;
            }[];
            /** @description The account's customer at the payment provider, null when none. */
            payment_customer: null | {
                provider: string;
                provider_customer_id: string;
                /** Format: date-time */
                created_at: string;
            };
            /**
             * @description Sign-in sessions (refresh-token families: one per sign-in, renewed by each refresh),
             *     without the tokens, oldest first. `ip` is the address of the sign-in.
             */
            sessions: {
                /** Format: uuid */
                id: string;
                ip: string | null;
                /** Format: date-time */
                created_at: string;
                /**
                 * Format: date-time
                 * @description When the session's newest refresh token was issued.
                 */
                last_used_at: string;
                /** Format: date-time */
                expires_at: string;
                revoked: boolean;
            }[];
            /** @description Password-reset and verification tokens issued (kind and dates only). */
            one_time_tokens: {
                /** @enum {string} */
                kind: "password_reset" | "email_verification";
                /** Format: date-time */
                created_at: string;
                /** Format: date-time */
                expires_at: string;
                /** Format: date-time */
                used_at: string | null;
            }[];
            /** @description API keys this account (an admin) created, without the keys. */
            api_keys_created: {
                /** Format: uuid */
                id: string;
                name: string;
                prefix: string;
                /** Format: date-time */
                created_at: string;
                /** Format: date-time */
                revoked_at: string | null;
            }[];
            /** @description Audit log entries made by the account or about it, oldest first. */
            audit_log: {
                action: string;
                target_type: string | null;
                target_id: string | null;
                ip: string | null;
                /** Format: date-time */
                created_at: string;
            }[];
        };
        RegisterRequest: {
            /** Format: email */
            email: string;
            password: components["schemas"]["NewPassword"];
            /** @description Display name; `null` is the same as leaving it out. */
            name?: string | null;
            /** @description E.164 phone number, for SMS; `null` is the same as leaving it out. */
            phone?: string | null;
            /** @description IANA time zone (default `UTC`); `null` is the same as leaving it out. */
            timezone?: string | null;
            /** @description Language, `ll` or `ll-CC` (default `en`); `null` is the same as leaving it out. */
            locale?: string | null;
        };
        /**
         * @description 10 to 256 bytes (UTF-8), not a single repeated character, not one of the 1,000 most
         *     common passwords.
         */
        NewPassword: string;
        /**
         * @description The answer of a sign-in to an account with two-factor authentication: no tokens yet.
         *     Send `challenge` with a code to `POST /api/v1/auth/mfa/verify` within `expires_in`
         *     seconds.
         * @example {
         *       "object": "mfa_challenge",
         *       "mfa_required": true,
         *       "challenge": "mc_Qm9ndXNDaGFsbGVuZ2VGb3JEb2NzT25seTAxMjM0NTY3",
         *       "expires_in": 300
         *     }
         */
        MfaChallenge: {
            /** @constant */
            object: "mfa_challenge";
            /** @constant */
            mfa_required: true;
            /** @description An opaque single-use token; keep it secret. */
            challenge: string;
            /** @description Seconds the challenge stays valid (`HERALD_MFA_CHALLENGE_TTL_S`). */
            expires_in: number;
        };
        MfaVerifyRequest: {
            /** @description The `challenge` of the sign-in. */
            challenge: string;
            /** @description The 6-digit code of the authenticator app (or send `recovery_code`). */
            code?: string;
            /** @description One unused recovery code, such as `ABCD-EFGH-IJKL-MNOP` (or send `code`). */
            recovery_code?: string;
        };
        TotpCodeRequest: {
            /** @description The 6-digit code the authenticator app shows now. */
            code: string;
        };
        TotpDisableRequest: {
            /** @description A fresh 6-digit code (or send `recovery_code`). */
            code?: string;
            /** @description An unused recovery code (or send `code`). */
            recovery_code?: string;
        };
        /**
         * @description A pending TOTP secret, for the authenticator app.
         * @example {
         *       "object": "totp_enrollment",
         *       "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
         *       "otpauth_uri": "otpauth://totp/Herald:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Herald&algorithm=SHA1&digits=6&period=30",
         *       "digits": 6,
         *       "period": 30
         *     }
         */
        TotpEnrollment: {
            /** @constant */
            object: "totp_enrollment";
            /** @description The secret in base32 (RFC 4648, no padding), 160 bits. */
            secret: string;
            /** @description The `otpauth://totp/...` URI authenticator apps read from a QR code. */
            otpauth_uri: string;
            /** @constant */
            digits: 6;
            /** @constant */
            period: 30;
        };
        /**
         * @description Single-use recovery codes, shown once.
         * @example {
         *       "object": "recovery_codes",
         *       "codes": [
         *         "ABCD-EFGH-IJKL-MNOP",
         *         "QRST-UVWX-YZ23-4567",
         *         "AAAA-BBBB-CCCC-DDDD",
         *         "EEEE-FFFF-GGGG-HHHH",
         *         "IIII-JJJJ-KKKK-LLLL",
         *         "MMMM-NNNN-OOOO-PPPP",
         *         "QQQQ-RRRR-SSSS-TTTT",
         *         "UUUU-VVVV-WWWW-XXXX",
         *         "YYYY-ZZZZ-2222-3333",
         *         "4444-5555-6666-7777"
         *       ]
         *     }
         */
        RecoveryCodes: {
            /** @constant */
            object: "recovery_codes";
            codes: string[];
        };
        /**
         * @description A signed-in device (a refresh-token family).
         * @example {
         *       "id": "6f3100c2-8f44-4886-829b-e5aa4c375510",
         *       "object": "session",
         *       "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
         *       "ip": "203.0.113.7",
         *       "created_at": "2026-03-01T09:30:00Z",
         *       "last_used_at": "2026-03-02T18:04:11Z",
         *       "expires_at": "2026-04-01T18:04:11Z",
         *       "current": true
         *     }
         */
        Session: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "session";
            /** @description The User-Agent of the last sign-in or refresh (null when none was sent). */
            user_agent: string | null;
            /** @description The client IP of the last sign-in or refresh. */
            ip: string | null;
            /**
             * Format: date-time
             * @description When the sign-in happened.
             */
            created_at: string;
            /**
             * Format: date-time
             * @description When the session last got tokens (sign-in or refresh).
             */
            last_used_at: string;
            /**
             * Format: date-time
             * @description When its refresh token expires unless used.
             */
            expires_at: string;
            /** @description The session of the access token of this call. */
            current: boolean;
        };
        SessionList: components["schemas"]["List"] & {
            data?: unknown;
        };
        LoginRequest: {
            email: string;
            password: string;
        };
        RefreshTokenRequest: {
            /** @description The `refresh_token` of the last sign-in or refresh. */
            refresh_token: string;
        };
        PasswordResetRequest: {
            /** Format: email */
            email: string;
        };
        PasswordResetConfirmRequest: {
            /** @description The token of the password-reset e-mail (the `token` of its link). */
            token: string;
            new_password: components["schemas"]["NewPassword"];
        };
        VerifyEmailRequest: {
            /** @description The token of the verification e-mail (the `token` of its link). */
            token: string;
        };
        UpdateMeRequest: {
            /** @description Display name; `null` clears it. */
            name?: string | null;
            /** @description E.164 phone number; `null` clears it. */
            phone?: string | null;
            /** @description IANA time zone. */
            timezone?: string;
            /** @description Language, `ll` or `ll-CC`. */
            locale?: string;
        };
        ChangePasswordRequest: {
            current_password: string;
            new_password: components["schemas"]["NewPassword"];
        };
        /** @description At least one of `role` and `disabled`. */
        AdminUserUpdateRequest: {
            /**
             * @description The new role; `null` leaves it unchanged.
             * @enum {string|null}
             */
            role?: "user" | "admin" | null;
            /** @description `true` disables the account, `false` re-enables it. */
            disabled?: boolean;
        };
        ApiKeyCreateRequest: {
            /** @description What the key is for (shown in the list). */
            name: string;
        };
        /** @description A subscription plan, billed at Stripe as a product with one recurring price. */
        Plan: {
            /** @constant */
            object: "plan";
            /** Format: uuid */
            id: string;
            name: string;
            /** @description Price of one interval in minor units of `currency`. */
            amount: number;
            currency: string;
            /** @enum {string} */
            interval: "day" | "week" | "month" | "year";
            interval_count: number;
            trial_days: number;
            /** @description false once archived (no new subscribers). */
            active: boolean;
            /** @example stripe */
            provider: string;
            provider_product_id: string | null;
            provider_price_id: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        PlanCreateRequest: {
            name: string;
            /** @description Minor units of `currency`. */
            amount: number;
            /** @description An accepted ISO 4217 code (HERALD_PAYMENT_CURRENCIES). */
            currency: string;
            /** @enum {string} */
            interval: "day" | "week" | "month" | "year";
            /**
             * @description Intervals between bills (null is the same as absent).
             * @default 1
             */
            interval_count: number | null;
            /**
             * @description Free days before the first bill (null is the same as absent).
             * @default 0
             */
            trial_days: number | null;
        };
        PlanUpdateRequest: {
            name?: string;
            /** @description null is the same as absent. */
            trial_days?: number | null;
            /** @description false archives the plan; null is the same as absent. */
            active?: boolean | null;
        };
        /**
         * @description A user's subscription to a plan. `status` is Stripe's: `trialing`, `active`,
         *     `past_due` (a renewal payment failed; Stripe retries), `canceled`, `incomplete` (the
         *     first payment failed), `incomplete_expired`, `unpaid`, `paused`.
         */
        Subscription: {
            /** @constant */
            object: "subscription";
            /** Format: uuid */
            id: string;
            /** Format: uuid */
            user_id: string;
            /** Format: uuid */
            plan_id: string;
            /** @enum {string} */
            status: "incomplete" | "incomplete_expired" | "trialing" | "active" | "past_due" | "unpaid" | "canceled" | "paused";
            cancel_at_period_end: boolean;
            /** Format: date-time */
            current_period_start: string | null;
            /** Format: date-time */
            current_period_end: string | null;
            /** Format: date-time */
            trial_end: string | null;
            /**
             * Format: date-time
             * @description When it was canceled (or set to cancel at the period's end).
             */
            canceled_at: string | null;
            /** @description Failed payment attempts of the latest unpaid invoice. */
            failed_attempts: number;
            /** @example stripe */
            provider: string;
            provider_subscription_id: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        SubscriptionCreateRequest: {
            /** Format: uuid */
            plan_id: string;
            /**
             * @description A saved payment method's id or a Stripe `pm_...` id; absent or null: the default
             *     saved method.
             */
            payment_method_id?: string | null;
        };
        SubscriptionCancelRequest: {
            /**
             * @description null is the same as absent.
             * @default true
             */
            at_period_end: boolean | null;
        };
        SubscriptionResumeRequest: Record<string, never>;
        SubscriptionPlanRequest: {
            /** Format: uuid */
            plan_id: string;
        };
        /**
         * @description A payment through one provider (`provider`): a Stripe PaymentIntent, or an M-Pesa STK
         *     push. Money is integer minor units of `currency`. `refunds` is present when one payment
         *     is read.
         * @example {
         *       "id": "6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40",
         *       "object": "payment",
         *       "user_id": "1f7b874d-fddb-4e44-babf-d868c49fc2ce",
         *       "status": "succeeded",
         *       "amount": 2500,
         *       "currency": "USD",
         *       "payment_type": "tournament_fee",
         *       "description": "Spring open entry",
         *       "metadata": {
         *         "team": "Falcons"
         *       },
         *       "client_secret": "pi_3Q2w3E4r5T6y7U8i_secret_9o0p",
         *       "fees": {
         *         "provider": 103,
         *         "platform": 25,
         *         "net": 2372
         *       },
         *       "amount_refunded": 0,
         *       "amount_refundable": 2500,
         *       "payment_method": "pm_1Q2w3E4r5T6y7U8i",
         *       "last_payment_error": null,
         *       "cancellation_reason": null,
         *       "provider": "stripe",
         *       "provider_payment_intent_id": "pi_3Q2w3E4r5T6y7U8i",
         *       "provider_reference": null,
         *       "reconciliation_pending": false,
         *       "created_at": "2026-03-01T10:00:00Z",
         *       "updated_at": "2026-03-01T10:00:01Z",
         *       "succeeded_at": "2026-03-01T10:00:01Z",
         *       "canceled_at": null,
         *       "failed_at": null
         *     }
         */
        Payment: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "payment";
            /**
             * Format: uuid
             * @description The payer.
             */
            user_id: string;
            /**
             * @description Statuses only move forward (a card decline sends a payment back to
             *     `requires_payment_method`); `succeeded`, `canceled` and `failed` are final, except
             *     that a dispute (chargeback) moves a succeeded payment to `disputed`, where it stays
             *     whatever the dispute's outcome (see `GET /api/v1/admin/disputes`). Stripe's
             *     PaymentIntent statuses are Herald's; an M-Pesa push is `processing` until the payer
             *     answers, then `succeeded` (ResultCode 0), `canceled` (1032, cancelled on the phone,
             *     `cancellation_reason: canceled_by_payer`) or `failed` (1037 no answer, 1 insufficient
             *     funds, 2001 wrong PIN, any other code; `last_payment_error` says which).
             * @enum {string}
             */
            status: "requires_payment_method" | "requires_confirmation" | "requires_action" | "processing" | "succeeded" | "canceled" | "failed" | "disputed";
            /** @description Minor units of `currency` (2500 USD is $25.00; 2500 JPY is ¥2500). */
            amount: number;
            /** @description ISO 4217, upper case. */
            currency: string;
            /** @enum {string} */
            payment_type: "tournament_fee" | "coaching_session" | "venue_booking" | "subscription" | "other";
            description: string | null;
            /** @description Your key-value pairs (any keys; values are strings), sent to Stripe too. */
            metadata: {
                [key: string]: string;
            };
            /** @description For Stripe.js (confirming in the app); shown to the payer only. */
            client_secret: string | null;
            fees: components["schemas"]["PaymentFees"];
            /** @description Refunded or being refunded (pending refunds count). */
            amount_refunded: number;
            /** @description What a refund may still take (0 unless `succeeded`). */
            amount_refundable: number;
            /**
             * @description The Stripe payment method (`pm_...`) last used; for M-Pesa, the payer's number
             *     (2547XXXXXXXX).
             */
            payment_method: string | null;
            /** @description Why the last attempt failed (a decline), or null. */
            last_payment_error: components["schemas"]["PaymentError"] | null;
            cancellation_reason: string | null;
            /** @enum {string} */
            provider: "stripe" | "mpesa";
            /**
             * @description The provider's id: Stripe's `pi_...`, M-Pesa's CheckoutRequestID `ws_CO_...` (null
             *     until the provider has answered).
             */
            provider_payment_intent_id: string | null;
            /**
             * @description The provider's transaction reference, where it has one: the M-Pesa receipt number
             *     (what a reversal names), taken from a callback the status query confirmed.
             */
            provider_reference: string | null;
            /**
             * @description True while the outcome of Herald's last call to Stripe is unknown (a timeout): the
             *     status is then provisional until a webhook or reconciliation settles it.
             */
            reconciliation_pending: boolean;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            /** Format: date-time */
            succeeded_at: string | null;
            /** Format: date-time */
            canceled_at: string | null;
            /** Format: date-time */
            failed_at: string | null;
            refunds?: components["schemas"]["List"] & {
                data?: unknown;
            };
        };
        Receipt: {
            /** @constant */
            object: "receipt";
            /** @description Sequential per calendar year (UTC), no gaps. */
            number: string;
            /** Format: uuid */
            payment_id: string;
            /** Format: date-time */
            issued_at: string;
            /** @description HERALD_PRODUCT_NAME. */
            merchant: string;
            payer_email: string;
            amount: number;
            /** @description `25.00 USD` */
            amount_display: string;
            amount_refunded: number;
            amount_refunded_display: string;
            currency: string;
            /** @description The payment's status now (`succeeded`; refunds do not change it). */
            status: string;
            payment_type: string;
            description: string | null;
            /** @enum {string} */
            provider: "stripe" | "mpesa";
            /** @description The M-Pesa receipt number, where the provider has one. */
            provider_reference: string | null;
            fees: components["schemas"]["PaymentFees"];
        };
        PaymentSummary: {
            /** @constant */
            object: "payment_summary";
            /** Format: date-time */
            from: string;
            /** Format: date-time */
            to: string;
            by_status: {
                currency: string;
                status: string;
                count: number;
                volume: number;
            }[];
            by_currency: {
                currency: string;
                succeeded_count: number;
                /** @description Collected payments (succeeded or disputed), minor units. */
                volume: number;
                refund_count: number;
                refunded: number;
                dispute_count: number;
                disputed: number;
                fees: components["schemas"]["SummaryFees"];
                net: number;
            }[];
        };
        SummaryFees: {
            provider: number;
            platform: number;
        };
        /**
         * @description Minor units of the payment's currency: the provider's fee (an estimate from
         *     HERALD_PAYMENT_PROVIDER_FEES, percent + fixed per currency), the platform's
         *     (HERALD_PAYMENT_PLATFORM_FEES), and what remains (may be negative for tiny amounts).
         */
        PaymentFees: {
            provider: number;
            platform: number;
            net: number;
        };
        PaymentError: {
            /**
             * @description "`card_declined`, `expired_card`, ... (Stripe); `insufficient_funds`,
             *     `payer_unreachable`, `canceled_by_payer`, `mpesa_<ResultCode>` (M-Pesa)"
             */
            code: string | null;
            /** @description The issuer's reason, e.g. `insufficient_funds`. */
            decline_code: string | null;
            message: string | null;
            /** @description M-Pesa's ResultCode. */
            result_code?: number;
        };
        RefundRequest: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "refund_request";
            /** Format: uuid */
            payment_id: string;
            /**
             * Format: uuid
             * @description The payer who asked.
             */
            user_id: string;
            /** @description Minor units asked for; null for whatever is left. */
            amount: number | null;
            currency: string;
            reason: string;
            /** @enum {string} */
            status: "pending" | "approving" | "approved" | "rejected";
            /** Format: uuid */
            decided_by: string | null;
            decision_reason: string | null;
            /**
             * Format: uuid
             * @description The refund an approval made.
             */
            refund_id: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            decided_at: string | null;
        };
        RefundRequestCreate: {
            reason: string;
            amount?: number | null;
        };
        RefundRequestApprove: {
            amount?: number | null;
        };
        RefundRequestReject: {
            reason: string;
        };
        Refund: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "refund";
            /** Format: uuid */
            payment_id: string;
            amount: number;
            currency: string;
            /** @description Null for refunds made outside Herald without a reason. */
            reason: ("duplicate" | "fraudulent" | "requested_by_customer") | null;
            /**
             * @description `pending` and `requires_action` count against the refundable remainder; `succeeded`, `failed` and `canceled` are final.
             * @enum {string}
             */
            status: "pending" | "requires_action" | "succeeded" | "failed" | "canceled";
            failure_reason: string | null;
            /** @description Stripe's `re_...` id. */
            provider_refund_id: string | null;
            /**
             * Format: uuid
             * @description The admin who refunded (null when made outside Herald).
             */
            created_by: string | null;
            /** @description True while Stripe's answer to the refund is unknown. */
            reconciliation_pending: boolean;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        PaymentMethod: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "payment_method";
            /** @description `card` for cards. */
            type: string;
            card: {
                brand: string | null;
                last4: string | null;
                exp_month: number | null;
                exp_year: number | null;
            };
            is_default: boolean;
            /** @description Stripe's `pm_...` id. */
            provider_payment_method_id: string;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        /**
         * @example {
         *       "object": "payment_config",
         *       "default_provider": "stripe",
         *       "providers": [
         *         {
         *           "name": "stripe",
         *           "enabled": true,
         *           "currencies": [
         *             "EUR",
         *             "KES",
         *             "USD"
         *           ],
         *           "needs": "payment_method",
         *           "publishable_key": "pk_test_51H"
         *         },
         *         {
         *           "name": "mpesa",
         *           "enabled": true,
         *           "currencies": [
         *             "KES"
         *           ],
         *           "needs": "phone"
         *         }
         *       ]
         *     }
         */
        PaymentConfig: {
            /** @constant */
            object: "payment_config";
            /** @enum {string} */
            default_provider: "stripe" | "mpesa";
            providers: {
                /** @enum {string} */
                name: "stripe" | "mpesa";
                /** @description Configured on this server (payments through it are accepted). */
                enabled: boolean;
                currencies: string[];
                /**
                 * @description What POST /payments needs besides the amount.
                 * @enum {string}
                 */
                needs: "payment_method" | "phone";
                /** @description Stripe's publishable key (`pk_...`), when configured. */
                publishable_key?: string;
            }[];
        };
        /**
         * @description Daraja's STK push result (`{"Body": {"stkCallback": {"CheckoutRequestID",
         *     "ResultCode", "ResultDesc", "CallbackMetadata": {"Item": [...]}}}}`) or reversal result
         *     (`{"Result": {"ConversationID", "ResultCode", "ResultDesc", ...}}`), in M-Pesa's own
         *     field names; other members are M-Pesa's too and are ignored (additionalProperties).
         */
        MpesaCallback: {
            [key: string]: unknown;
        };
        MpesaCallbackReceipt: {
            /** @constant */
            received: true;
            /**
             * @description `applied` (a status moved), `unchanged`, `duplicate` (already final: nothing asked
             *     or changed), `unconfirmed` (M-Pesa does not confirm the claim: nothing moved).
             * @enum {string}
             */
            outcome: "applied" | "unchanged" | "duplicate" | "unconfirmed";
            duplicate: boolean;
        };
        StripeWebhookReceipt: {
            /** @constant */
            received: true;
            /** @description The event was applied before; nothing changed. */
            duplicate: boolean;
            /**
             * @description `applied` (a status moved), `refetched` (applied after fetching the object),
             *     `unchanged`, `stale` (older than what Herald knows), `unknown_object`, `ignored`
             *     (an event type Herald does not use) or `duplicate`.
             * @enum {string}
             */
            outcome: "applied" | "refetched" | "unchanged" | "stale" | "unknown_object" | "ignored" | "duplicate";
        };
        PaymentCreateRequest: {
            /**
             * @description Minor units of `currency`; at least the currency's minimum (50 for USD) and at most
             *     HERALD_PAYMENT_MAX_AMOUNT (default 99999999).
             */
            amount: number;
            /** @description ISO 4217 code (either case), one of HERALD_PAYMENT_CURRENCIES. */
            currency: string;
            /** @enum {string} */
            payment_type: "tournament_fee" | "coaching_session" | "venue_booking" | "subscription" | "other";
            description?: string | null;
            /**
             * @description Up to 20 string values; keys of 1-40 characters without `[` `]`, not starting with
             *     `herald_` (Herald's own keys); values up to 500 characters.
             */
            metadata?: {
                [key: string]: string;
            } | null;
            /** @description A saved payment method's id, or a Stripe `pm_...` id. */
            payment_method_id?: string | null;
            /** @description Charge now (default false; null is the same as absent). M-Pesa always pushes at once. */
            confirm?: boolean | null;
            /**
             * @description The provider (default HERALD_PAYMENT_DEFAULT_PROVIDER; null is the same as absent).
             * @enum {string|null}
             */
            provider?: "stripe" | "mpesa" | null;
            /**
             * @description M-Pesa only (required there): the payer's Kenyan mobile number in E.164; the STK
             *     push rings it. M-Pesa takes `KES` in whole shillings (`amount` a multiple of 100)
             *     and no `payment_method_id`.
             */
            phone?: string | null;
        };
        PaymentConfirmRequest: {
            /** @description A saved payment method's id, or a Stripe `pm_...` id. */
            payment_method_id?: string | null;
        };
        PaymentCancelRequest: {
            cancellation_reason?: ("duplicate" | "fraudulent" | "requested_by_customer" | "abandoned") | null;
        };
        RefundCreateRequest: {
            /** @description Minor units; omit to refund all that is left. */
            amount?: number | null;
            /** @enum {string} */
            reason: "duplicate" | "fraudulent" | "requested_by_customer";
        };
        PaymentMethodCreateRequest: {
            /** @description The `pm_...` id Stripe.js returned. */
            provider_payment_method_id: string;
        };
        /**
         * @description A Stripe event as Stripe sends it. Only `id`, `type`, `created` and `data.object` are
         *     read, and every other member Stripe adds is accepted (additionalProperties: true), so
         *     new Stripe API versions do not break delivery.
         */
        StripeEvent: {
            id: string;
            type: string;
            created?: number;
            /** @description The event's payload; further members are accepted as Stripe sends them. */
            data: {
                /** @description The object the event is about (a PaymentIntent, a refund...), as Stripe sends it. */
                object: {
                    [key: string]: unknown;
                };
            } & {
                [key: string]: unknown;
            };
        } & {
            [key: string]: unknown;
        };
        /**
         * @description One notification to one user. Give a `template` (with `data`) or a `body`.
         * @example {
         *       "user_id": "1f7b874d-fddb-4e44-babf-d868c49fc2ce",
         *       "category": "billing",
         *       "priority": "high",
         *       "title": "Your invoice",
         *       "body": "Invoice 2027-001 is ready.",
         *       "action_url": "https://app.example.com/invoices/2027-001",
         *       "data": {
         *         "invoice": "2027-001"
         *       }
         *     }
         */
        SendNotificationRequest: {
            /**
             * Format: uuid
             * @description The recipient.
             */
            user_id: string;
            /**
             * @description What the notification is about; preferences are set per category. `security` is
             *     Herald's own (its security alerts): refused with `reserved_category`.
             * @example billing
             */
            category: string;
            /**
             * @description `critical` ignores quiet hours. Default (or null) `normal`.
             * @enum {string|null}
             */
            priority?: "low" | "normal" | "high" | "critical" | null;
            /**
             * @description The channels to use; without it, every channel the user's preferences allow for the
             *     category (webhook only when an endpoint takes the category). A channel the user
             *     turned off, SMS without a phone, push without an active device and webhook without
             *     an endpoint get a `skipped` delivery with a reason; webhook gets one delivery per
             *     endpoint.
             */
            channels?: ("in_app" | "email" | "sms" | "push" | "webhook")[];
            /**
             * @description A template key: its content is rendered with `data` in the user's locale. Give
             *     either `template` or `title`/`body`.
             */
            template?: string | null;
            /**
             * @description Values for the template's `{{variables}}` (dots walk nested objects), and stored
             *     with the notification. Free-form: any JSON object. It is also the push
             *     notification's FCM `data` payload, every value as a string (numbers, booleans and
             *     objects as their JSON text): when push may be sent, keys FCM or Herald reserve
             *     (`from`, `notification`, `message_type`, `collapse_key`, `delivery_id`,
             *     `notification_id`, `google*`, `gcm*`) are refused (`reserved_key`) and the keys and
             *     values together may hold at most 4,096 bytes (`push_data_too_large`).
             */
            data?: {
                [key: string]: unknown;
            };
            /** @description Without a template: the title (e-mail subject, push and in-app title). */
            title?: string | null;
            /** @description Without a template: the text (required then). */
            body?: string | null;
            /** @description Where a tap or click leads (http or https). */
            action_url?: string | null;
            /**
             * Format: date-time
             * @description When to send (RFC 3339, in the future, at most a year ahead); deliveries are
             *     `scheduled` until then. Quiet hours still apply at that time.
             */
            send_at?: string | null;
            push?: components["schemas"]["PushOptions"];
        };
        /**
         * @description The same notification to up to 1,000 users (duplicates are ignored).
         * @example {
         *       "user_ids": [
         *         "1f7b874d-fddb-4e44-babf-d868c49fc2ce"
         *       ],
         *       "category": "digest",
         *       "title": "Your week",
         *       "body": "Three new comments.",
         *       "channels": [
         *         "in_app",
         *         "email"
         *       ]
         *     }
         */
        BulkNotificationRequest: {
            /** @description The recipients. */
            user_ids: string[];
            /**
             * @description What the notification is about; preferences are set per category. `security` is
             *     Herald's own (its security alerts): refused with `reserved_category`.
             * @example billing
             */
            category: string;
            /**
             * @description `critical` ignores quiet hours. Default (or null) `normal`.
             * @enum {string|null}
             */
            priority?: "low" | "normal" | "high" | "critical" | null;
            /**
             * @description The channels to use; without it, every channel the user's preferences allow for the
             *     category (webhook only when an endpoint takes the category). A channel the user
             *     turned off, SMS without a phone, push without an active device and webhook without
             *     an endpoint get a `skipped` delivery with a reason; webhook gets one delivery per
             *     endpoint.
             */
            channels?: ("in_app" | "email" | "sms" | "push" | "webhook")[];
            /**
             * @description A template key: its content is rendered with `data` in the user's locale. Give
             *     either `template` or `title`/`body`.
             */
            template?: string | null;
            /**
             * @description Values for the template's `{{variables}}` (dots walk nested objects), and stored
             *     with the notification. Free-form: any JSON object. It is also the push
             *     notification's FCM `data` payload, every value as a string (numbers, booleans and
             *     objects as their JSON text): when push may be sent, keys FCM or Herald reserve
             *     (`from`, `notification`, `message_type`, `collapse_key`, `delivery_id`,
             *     `notification_id`, `google*`, `gcm*`) are refused (`reserved_key`) and the keys and
             *     values together may hold at most 4,096 bytes (`push_data_too_large`).
             */
            data?: {
                [key: string]: unknown;
            };
            /** @description Without a template: the title (e-mail subject, push and in-app title). */
            title?: string | null;
            /** @description Without a template: the text (required then). */
            body?: string | null;
            /** @description Where a tap or click leads (http or https). */
            action_url?: string | null;
            /**
             * Format: date-time
             * @description When to send (RFC 3339, in the future, at most a year ahead); deliveries are
             *     `scheduled` until then. Quiet hours still apply at that time.
             */
            send_at?: string | null;
            push?: components["schemas"]["PushOptions"];
        };
        /**
         * @description A notification to every active user of a target. With `send_at`, the fan-out starts then.
         * @example {
         *       "target": "all",
         *       "title": "Maintenance",
         *       "body": "Herald is down for 10 minutes at 02:00 UTC.",
         *       "channels": [
         *         "in_app"
         *       ]
         *     }
         */
        AnnouncementRequest: {
            /**
             * @description Every active account, only role `user`, only admins, or the accounts of `user_ids`.
             * @enum {string}
             */
            target: "all" | "users" | "admins" | "list";
            /** @description With target `list` only: the recipients (duplicates are ignored). */
            user_ids?: string[];
            /**
             * @description Only recipients with one of these locales, or of one of these languages ("de" takes
             *     de-AT and de-CH).
             */
            locales?: string[];
            /** @description Only recipients subscribed to at least one of these topics (see `listTopics`). */
            topics?: string[];
            /**
             * @description What the notification is about; preferences are set per category. Default `announcement`; `security` is reserved (`reserved_category`).
             * @example billing
             */
            category?: string | null;
            /**
             * @description `critical` ignores quiet hours. Default (or null) `normal`.
             * @enum {string|null}
             */
            priority?: "low" | "normal" | "high" | "critical" | null;
            /**
             * @description The channels to use; without it, every channel the user's preferences allow for the
             *     category (webhook only when an endpoint takes the category). A channel the user
             *     turned off, SMS without a phone, push without an active device and webhook without
             *     an endpoint get a `skipped` delivery with a reason; webhook gets one delivery per
             *     endpoint.
             */
            channels?: ("in_app" | "email" | "sms" | "push" | "webhook")[];
            /**
             * @description A template key: its content is rendered with `data` in the user's locale. Give
             *     either `template` or `title`/`body`.
             */
            template?: string | null;
            /**
             * @description Values for the template's `{{variables}}` (dots walk nested objects), and stored
             *     with the notification. Free-form: any JSON object. It is also the push
             *     notification's FCM `data` payload, every value as a string (numbers, booleans and
             *     objects as their JSON text): when push may be sent, keys FCM or Herald reserve
             *     (`from`, `notification`, `message_type`, `collapse_key`, `delivery_id`,
             *     `notification_id`, `google*`, `gcm*`) are refused (`reserved_key`) and the keys and
             *     values together may hold at most 4,096 bytes (`push_data_too_large`).
             */
            data?: {
                [key: string]: unknown;
            };
            /** @description Without a template: the title (e-mail subject, push and in-app title). */
            title?: string | null;
            /** @description Without a template: the text (required then). */
            body?: string | null;
            /** @description Where a tap or click leads (http or https). */
            action_url?: string | null;
            /**
             * Format: date-time
             * @description When to send (RFC 3339, in the future, at most a year ahead); deliveries are
             *     `scheduled` until then. Quiet hours still apply at that time.
             */
            send_at?: string | null;
            push?: components["schemas"]["PushOptions"];
        };
        /**
         * @description The content to change; at least one member.
         * @example {
         *       "body": "Herald is down for 10 minutes at 03:00 UTC (not 02:00)."
         *     }
         */
        AnnouncementUpdateRequest: {
            title?: string | null;
            body?: string;
            action_url?: string | null;
            data?: {
                [key: string]: unknown;
            } | null;
        };
        Topic: {
            key: string;
            /** @constant */
            object: "topic";
            name: string;
            description: string | null;
            /** Format: date-time */
            created_at: string;
            /**
             * Format: date-time
             * @description In my subscriptions only.
             */
            subscribed_at?: string;
        };
        TopicList: {
            /** @constant */
            object: "list";
            data: components["schemas"]["Topic"][];
            /** @constant */
            has_more: false;
        };
        /**
         * @example {
         *       "key": "releases",
         *       "name": "Product releases",
         *       "description": "A note when a new version ships."
         *     }
         */
        TopicCreateRequest: {
            key: string;
            name: string;
            description?: string | null;
        };
        /**
         * @description How the push notification is shown (FCM HTTP v1). Every option is optional.
         * @example {
         *       "priority": "high",
         *       "ttl": 3600,
         *       "collapse_key": "order-2027-001",
         *       "android": {
         *         "notification": {
         *           "channel_id": "orders"
         *         }
         *       }
         *     }
         */
        PushOptions: {
            /**
             * @description Data-only: no `notification` block (the app handles `data` itself); APNs gets
             *     `apns-push-type: background`, priority 5 and `content-available: 1`.
             */
            silent?: boolean;
            /**
             * @description Delivery priority; default `high` for high and critical notifications, else `normal`.
             * @enum {string}
             */
            priority?: "high" | "normal";
            /** @description Seconds the message is kept for an offline device (Android `ttl`, APNs `apns-expiration`). */
            ttl?: number;
            /** @description Newer messages with the same key replace older ones (`apns-collapse-id` on iOS). */
            collapse_key?: string;
            /**
             * @description Default true: the badge (`aps.badge`, Android `notification_count`) is the user's
             *     unread in-app count when the message is sent.
             */
            badge?: boolean;
            /** @description FCM AndroidConfig members merged over Herald's (yours win). */
            android?: {
                collapse_key?: string;
                /** @enum {string} */
                priority?: "HIGH" | "NORMAL";
                ttl?: string;
                restricted_package_name?: string;
                notification?: {
                    [key: string]: unknown;
                };
                fcm_options?: {
                    [key: string]: unknown;
                };
                direct_boot_ok?: boolean;
            };
            /** @description FCM ApnsConfig members merged over Herald's (yours win). */
            apns?: {
                /** @description `apns-*` headers. */
                headers?: {
                    [key: string]: string;
                };
                payload?: {
                    [key: string]: unknown;
                };
                fcm_options?: {
                    [key: string]: unknown;
                };
            };
        };
        /** @description A delivery as created by a send. */
        DeliverySummary: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "delivery";
            /** @enum {string} */
            channel: "in_app" | "email" | "sms" | "push" | "webhook";
            /**
             * @description `sent` for in-app; `queued` for the workers; `scheduled` (send_at or quiet hours);
             *     `skipped`; `digest`: e-mail or push waiting for the category's digest
             *     (`HERALD_DIGEST_WINDOWS`).
             * @enum {string}
             */
            status: "queued" | "scheduled" | "sent" | "skipped" | "digest";
            /** @enum {string} */
            reason?: "channel_disabled" | "no_phone" | "no_device" | "no_endpoint" | "quiet_hours" | "digest";
            /** Format: date-time */
            due_at: string;
            /**
             * Format: uuid
             * @description webhook: the endpoint of this delivery.
             */
            endpoint_id?: string;
        };
        /**
         * @description The accepted notification: its deliveries are written, the queued ones are on their
         *     queues.
         * @example {
         *       "id": "6ae98223-d6a7-4fb7-a874-27378e596f47",
         *       "object": "notification",
         *       "status": "queued",
         *       "user_id": "1f7b874d-fddb-4e44-babf-d868c49fc2ce",
         *       "category": "billing",
         *       "priority": "high",
         *       "template": null,
         *       "send_at": null,
         *       "created_at": "2027-01-05T10:00:00Z",
         *       "deliveries": [
         *         {
         *           "id": "05db4577-a935-400a-8dc2-936bad3b948f",
         *           "object": "delivery",
         *           "channel": "in_app",
         *           "status": "sent",
         *           "due_at": "2027-01-05T10:00:00Z"
         *         },
         *         {
         *           "id": "ac3a5f73-5793-4c1e-b918-f9752cebccdd",
         *           "object": "delivery",
         *           "channel": "email",
         *           "status": "queued",
         *           "due_at": "2027-01-05T10:00:00Z"
         *         },
         *         {
         *           "id": "04deb594-b655-48c1-9afa-8a1f9e132790",
         *           "object": "delivery",
         *           "channel": "push",
         *           "status": "skipped",
         *           "reason": "no_device",
         *           "due_at": "2027-01-05T10:00:00Z"
         *         }
         *       ]
         *     }
         */
        NotificationCreated: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "notification";
            /**
             * @description `scheduled` when every delivery waits (send_at, quiet hours).
             * @enum {string}
             */
            status: "queued" | "scheduled";
            /** Format: uuid */
            user_id: string;
            category: string;
            /** @enum {string} */
            priority: "low" | "normal" | "high" | "critical";
            template: string | null;
            /** Format: date-time */
            send_at: string | null;
            /** Format: date-time */
            created_at: string;
            deliveries: components["schemas"]["DeliverySummary"][];
        };
        /**
         * @description A notification of the feed. Admins also see who it is for, how it was rendered and its
         *     deliveries.
         */
        Notification: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "notification";
            /** @description In the archive (out of the feed; `?archived=true` lists them). */
            archived: boolean;
            /** Format: date-time */
            archived_at: string | null;
            category: string;
            /** @enum {string} */
            priority: "low" | "normal" | "high" | "critical";
            title: string | null;
            body: string | null;
            action_url: string | null;
            /** @description The data it was sent with (free-form). */
            data: {
                [key: string]: unknown;
            };
            read: boolean;
            /** Format: date-time */
            read_at: string | null;
            /** Format: date-time */
            send_at: string | null;
            /** Format: date-time */
            created_at: string;
            /**
             * Format: uuid
             * @description Admins only: the recipient.
             */
            user_id?: string;
            /** @description Admins only: the template key. */
            template?: string | null;
            /** @description Admins only: the template variant used (null: its base content). */
            locale?: string | null;
            /** @description Admins only: the rendered HTML part of the e-mail. */
            html?: string | null;
            /** @description Admins only: the content rendered for each channel when sent (what the workers send). */
            rendered?: {
                [key: string]: unknown;
            } | null;
            /**
             * @description Admins only: it carries a secret (the one-time link of a password reset or an e-mail
             *     verification), so its body, action_url, data, html and rendered content are never
             *     shown (null or empty), and they are cleared once the e-mail is sent or dead, or the
             *     link has expired.
             */
            sensitive?: boolean;
            /** @description Admins only: whether it shows in the user's feed. */
            in_app?: boolean;
            /**
             * Format: uuid
             * @description Admins only: the bulk send or announcement it came from.
             */
            broadcast_id?: string | null;
            /**
             * Format: date-time
             * @description Admins only: when the user deleted it.
             */
            deleted_at?: string | null;
            /** @description Admins only: one per channel. */
            deliveries?: components["schemas"]["Delivery"][];
        };
        /** @description A page of the feed (the List envelope plus the number of unread notifications). */
        NotificationFeed: {
            /** @constant */
            object: "list";
            data: components["schemas"]["Notification"][];
            has_more: boolean;
            /** @description Unread in the whole feed (not only this page). */
            unread_count: number;
        };
        StreamTicket: {
            /** @constant */
            object: "stream_ticket";
            /** @description Opaque, single use. */
            ticket: string;
            /** Format: date-time */
            expires_at: string;
            /**
             * @description The stream's path with the ticket, relative to the API's origin.
             * @example /api/v1/notifications/stream?ticket=XTZVm9Vboiofbir-WTXkETYqmYkrpsHZTpWucKzg6tQ
             */
            url: string;
        };
        /**
         * @description One event of `GET /api/v1/notifications/stream`, as an `EventSource` hands it over: the
         *     `id`, `event` and `data` lines of the SSE text, `data` parsed as JSON. (The body itself
         *     is SSE text: `id: 7`, `event: notification.created`, `data: {...}`, a blank line.)
         */
        NotificationStreamEvent: components["schemas"]["StreamNotificationCreated"] | components["schemas"]["StreamNotificationUpdated"] | components["schemas"]["StreamUnreadCount"] | components["schemas"]["StreamReset"] | components["schemas"]["StreamEnd"];
        /** @description Orders this user's changes; send it back as `Last-Event-ID` to resume. */
        StreamEventId: string;
        StreamNotificationCreated: {
            id: components["schemas"]["StreamEventId"];
            /** @constant */
            event: "notification.created";
            data: components["schemas"]["Notification"];
        };
        StreamNotificationUpdated: {
            id: components["schemas"]["StreamEventId"];
            /** @constant */
            event: "notification.updated";
            data: {
                /** Format: uuid */
                id: string;
                read: boolean;
                /** Format: date-time */
                read_at: string | null;
                /**
                 * @description Deleted from the feed (remove it from the list): by the user, by clearing the
                 *     feed, or by the withdrawal of its announcement.
                 */
                deleted: boolean;
                /** @description Moved to the archive (out of the feed) or back. */
                archived: boolean;
            };
        };
        StreamUnreadCount: {
            id: components["schemas"]["StreamEventId"];
            /** @constant */
            event: "unread_count";
            data: {
                unread: number;
            };
        };
        /** @description The replay window was exceeded; fetch the feed, then keep following. */
        StreamReset: {
            id: components["schemas"]["StreamEventId"];
            /** @constant */
            event: "stream.reset";
            data: {
                /** @enum {string} */
                reason: "replay_window" | "unknown_event_id";
            };
        };
        /** @description The last event before the server closes the stream. */
        StreamEnd: {
            id: components["schemas"]["StreamEventId"];
            /** @enum {string} */
            event: "session.expired" | "stream.overflow";
            data: {
                /** @enum {string} */
                reason: "token_expired" | "session_revoked" | "account_disabled" | "slow_client";
            };
        };
        UnreadCount: {
            /** @constant */
            object: "unread_count";
            unread_count: number;
        };
        ReadAllResult: {
            /** @constant */
            object: "notification_read_all";
            /** @description How many were marked read. */
            updated: number;
            /** @constant */
            unread_count: 0;
        };
        ClearResult: {
            /** @constant */
            object: "notification_clear";
            /** @description How many notifications left the feed. */
            cleared: number;
            /** @constant */
            unread_count: 0;
        };
        /** @description One channel of one notification: the unit the queues carry. */
        Delivery: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "delivery";
            /** Format: uuid */
            notification_id: string;
            /** Format: uuid */
            user_id: string;
            /** @enum {string} */
            channel: "in_app" | "email" | "sms" | "push" | "webhook";
            /** @enum {string} */
            status: "queued" | "scheduled" | "processing" | "sent" | "failed" | "dead" | "skipped" | "held" | "digest" | "digested" | "throttled" | "capped";
            /**
             * @description Why it was skipped (`channel_disabled`, `no_phone`, `no_device`, `no_endpoint`,
             *     `endpoint_disabled`, `endpoint_deleted`, `email_undeliverable`: a provider reported
             *     the address bounced or complained), delayed (`quiet_hours`), held back (`digest`,
             *     `throttled`, `daily_cap`) or failed.
             */
            reason: string | null;
            attempts: number;
            /** Format: date-time */
            due_at: string;
            /** Format: date-time */
            sent_at: string | null;
            provider: string | null;
            provider_message_id: string | null;
            /**
             * @description Every provider call, oldest first. With ordered providers (`HERALD_EMAIL_PROVIDERS`,
             *     `HERALD_SMS_PROVIDERS`) one attempt may hold several calls: a provider whose
             *     breaker was open (`breaker_open`, not called), one that failed retryably (`retry`:
             *     timeout, 5xx, 429) and the next one's answer. `provider` is the one whose answer
             *     settled the delivery.
             */
            provider_attempts: {
                attempt: number;
                /**
                 * @example smtp
                 * @example sendgrid
                 * @example mailgun
                 * @example twilio
                 * @example vonage
                 */
                provider: string;
                /** @enum {string} */
                status: "sent" | "retry" | "failed" | "skipped" | "breaker_open";
                error?: string;
                duration_ms: number;
                /** Format: date-time */
                at: string;
            }[];
            last_error: string | null;
            /**
             * Format: uuid
             * @description webhook: the endpoint (null once deleted).
             */
            endpoint_id?: string | null;
            /**
             * Format: uuid
             * @description digested: the delivery of the digest that listed it.
             */
            digest_delivery_id?: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        WebhookEndpointRequest: {
            /**
             * @description Absolute https URL (no user name, password or fragment).
             * @example https://hooks.example.com/herald
             */
            url: string;
            /**
             * @description `json` (default, also for null): `{"type":"notification.created","timestamp","data":{...}}`;
             *     `slack`: an incoming-webhook message with blocks; `discord`: one embed, mentions off.
             * @enum {string|null}
             */
            format?: "json" | "slack" | "discord" | null;
            description?: string | null;
            /** @description Only these categories (null or absent: every category). */
            categories?: string[] | null;
        };
        WebhookEndpoint: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "webhook_endpoint";
            url: string;
            /** @enum {string} */
            format: "json" | "slack" | "discord";
            description: string | null;
            categories: string[] | null;
            /** @description A system-wide endpoint (an admin's), receiving every user's notifications. */
            system: boolean;
            enabled: boolean;
            consecutive_failures: number;
            /** @description `consecutive_failures` when the workers disabled it. */
            disabled_reason: string | null;
            /** Format: date-time */
            disabled_at: string | null;
            /** Format: date-time */
            last_success_at: string | null;
            /** Format: date-time */
            last_failure_at: string | null;
            /**
             * Format: date-time
             * @description Until then the rotated-out secret also signs deliveries.
             */
            previous_secret_expires_at: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        /** @description An endpoint as created or rotated, with its secret (shown this once). */
        WebhookEndpointWithSecret: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "webhook_endpoint";
            url: string;
            /** @enum {string} */
            format: "json" | "slack" | "discord";
            description: string | null;
            categories: string[] | null;
            /** @description A system-wide endpoint (an admin's), receiving every user's notifications. */
            system: boolean;
            enabled: boolean;
            consecutive_failures: number;
            /** @description `consecutive_failures` when the workers disabled it. */
            disabled_reason: string | null;
            /** Format: date-time */
            disabled_at: string | null;
            /** Format: date-time */
            last_success_at: string | null;
            /** Format: date-time */
            last_failure_at: string | null;
            /**
             * Format: date-time
             * @description Until then the rotated-out secret also signs deliveries.
             */
            previous_secret_expires_at: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            secret: string;
        };
        /**
         * @description A bulk send (`notification_batch`) or an announcement: accepted at once, fanned out in
         *     the background. `created_count` grows to `recipients`.
         */
        Broadcast: {
            /** Format: uuid */
            id: string;
            /** @enum {string} */
            object: "notification_batch" | "announcement";
            /** @enum {string} */
            target: "list" | "all" | "users" | "admins";
            /**
             * @description `scheduled` until send_at, then `pending`, `running`, `completed` (or `failed`, see
             *     `error`); `withdrawn` once withdrawn.
             * @enum {string}
             */
            status: "scheduled" | "pending" | "running" | "completed" | "failed" | "withdrawn";
            /** @description Announcements: the locales or languages targeted (lower case), or null. */
            locales: string[] | null;
            /** @description Announcements: the topics targeted, or null. */
            topics: string[] | null;
            /** Format: date-time */
            withdrawn_at: string | null;
            /** @description Active users targeted (counted again when the fan-out starts). */
            recipients: number;
            /** @description Notifications created so far. */
            created_count: number;
            /** @description Bulk: distinct user ids given (0 for announcements). */
            requested: number;
            category: string;
            /** @enum {string} */
            priority: "low" | "normal" | "high" | "critical";
            channels: ("in_app" | "email" | "sms" | "push" | "webhook")[] | null;
            template: string | null;
            title: string | null;
            body: string | null;
            action_url: string | null;
            /** @description The data sent with it (free-form). */
            data?: {
                [key: string]: unknown;
            } | null;
            error: string | null;
            /** Format: date-time */
            send_at: string | null;
            /** Format: date-time */
            started_at: string | null;
            /** Format: date-time */
            completed_at: string | null;
            /** Format: date-time */
            created_at: string;
        };
        /**
         * @description What a user receives. A category's setting for a channel overrides the global one;
         *     anything unset is on.
         */
        NotificationPreferences: {
            /** @constant */
            object: "notification_preferences";
            /** @description Every channel, on or off. */
            channels: {
                in_app: boolean;
                email: boolean;
                sms: boolean;
                push: boolean;
                webhook: boolean;
            };
            /** @description Per-category overrides. */
            categories: {
                [key: string]: {
                    in_app?: boolean;
                    email?: boolean;
                    sms?: boolean;
                    push?: boolean;
                };
            };
            quiet_hours: {
                enabled: boolean;
                start: string | null;
                end: string | null;
                /** @description IANA zone (the profile's unless set here). */
                timezone: string | null;
            };
            /** Format: date-time */
            updated_at: string | null;
        };
        /**
         * @description Any of the sections; a section given replaces the stored one, a section left out is kept.
         * @example {
         *       "channels": {
         *         "sms": false
         *       },
         *       "categories": {
         *         "marketing": {
         *           "email": false
         *         }
         *       },
         *       "quiet_hours": {
         *         "enabled": true,
         *         "start": "22:00",
         *         "end": "07:00",
         *         "timezone": "Europe/Paris"
         *       }
         *     }
         */
        PreferencesUpdateRequest: {
            /** @description Global switches; a channel left out is on. */
            channels?: {
                in_app?: boolean;
                email?: boolean;
                sms?: boolean;
                push?: boolean;
            };
            /** @description Per-category overrides (at most 100 categories; names as in `category`). */
            categories?: {
                [key: string]: {
                    in_app?: boolean;
                    email?: boolean;
                    sms?: boolean;
                    push?: boolean;
                };
            };
            /**
             * @description Non-critical e-mail, SMS and push due inside [start, end) (local time, may cross
             *     midnight) wait for its end. start and end are required when enabled, and differ.
             */
            quiet_hours?: {
                enabled: boolean;
                /** @example 22:00 */
                start?: string | null;
                /** @example 07:00 */
                end?: string | null;
                /** @description IANA zone; null: the profile's. */
                timezone?: string | null;
            };
        };
        /** @description A push target of the signed-in user. */
        Device: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "device";
            token: string;
            /** @enum {string} */
            platform: "ios" | "android" | "web";
            app_version: string | null;
            active: boolean;
            /** Format: date-time */
            last_seen_at: string;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        /**
         * @example {
         *       "token": "fcm-registration-token-example",
         *       "platform": "android",
         *       "app_version": "3.2.1"
         *     }
         */
        DeviceRequest: {
            /** @description The FCM/APNs registration token. */
            token: string;
            /** @enum {string} */
            platform: "ios" | "android" | "web";
            app_version?: string | null;
        };
        /** @description Content per channel (at least one). Fields may use `{{variable}}`. */
        TemplateChannels: {
            email?: {
                /** @description Subject line. */
                subject: string;
                /** @description Plain-text part. */
                text: string;
                /** @description HTML part (values are HTML-escaped in it). */
                html?: string;
            };
            sms?: {
                /** @description Message text. */
                text: string;
            };
            push?: {
                /** @description Title. */
                title: string;
                /** @description Body. */
                body: string;
            };
            in_app?: {
                /** @description Title. */
                title: string;
                /** @description Body. */
                body: string;
            };
        };
        /** @description A locale's overrides, field by field, of the base content. */
        TemplateLocaleChannels: {
            email?: {
                /** @description Subject line. */
                subject?: string;
                /** @description Plain-text part. */
                text?: string;
                /** @description HTML part (values are HTML-escaped in it). */
                html?: string;
            };
            sms?: {
                /** @description Message text. */
                text?: string;
            };
            push?: {
                /** @description Title. */
                title?: string;
                /** @description Body. */
                body?: string;
            };
            in_app?: {
                /** @description Title. */
                title?: string;
                /** @description Body. */
                body?: string;
            };
        };
        /** @description Rendered content per channel. */
        RenderedChannels: {
            email?: {
                /** @description Subject line. */
                subject?: string;
                /** @description Plain-text part. */
                text?: string;
                /** @description HTML part (values are HTML-escaped in it). */
                html?: string;
            };
            sms?: {
                /** @description Message text. */
                text?: string;
            };
            push?: {
                /** @description Title. */
                title?: string;
                /** @description Body. */
                body?: string;
            };
            in_app?: {
                /** @description Title. */
                title?: string;
                /** @description Body. */
                body?: string;
            };
        };
        Template: {
            /** Format: uuid */
            id: string;
            /** @constant */
            object: "template";
            key: string;
            name: string | null;
            description: string | null;
            /** @description The language of `channels`. */
            default_locale: string;
            channels: components["schemas"]["TemplateChannels"];
            locales: {
                [key: string]: components["schemas"]["TemplateLocaleChannels"];
            };
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        /**
         * @example {
         *       "key": "welcome",
         *       "name": "Welcome",
         *       "channels": {
         *         "email": {
         *           "subject": "Welcome {{name}}",
         *           "text": "Hi {{name}}!",
         *           "html": "<p>Hi {{name}}!</p>"
         *         },
         *         "push": {
         *           "title": "Welcome",
         *           "body": "Hi {{name}}!"
         *         }
         *       },
         *       "locales": {
         *         "fr": {
         *           "email": {
         *             "subject": "Bienvenue {{name}}"
         *           }
         *         }
         *       }
         *     }
         */
        TemplateRequest: {
            /** @description The name senders use; fixed once created. */
            key: string;
            name?: string | null;
            description?: string | null;
            /**
             * @description The language of `channels` (default `en`).
             * @example en
             */
            default_locale?: string | null;
            channels: components["schemas"]["TemplateChannels"];
            /**
             * @description Overrides per locale (`fr`, `pt-BR`); a user gets their locale, else their language,
             *     else the base.
             */
            locales?: {
                [key: string]: components["schemas"]["TemplateLocaleChannels"];
            };
        };
        /**
         * @example {
         *       "name": "Welcome",
         *       "channels": {
         *         "email": {
         *           "subject": "Welcome {{name}}",
         *           "text": "Hi {{name}}!",
         *           "html": "<p>Hi {{name}}!</p>"
         *         },
         *         "push": {
         *           "title": "Welcome",
         *           "body": "Hi {{name}}!"
         *         }
         *       },
         *       "locales": {
         *         "fr": {
         *           "email": {
         *             "subject": "Bienvenue {{name}}"
         *           }
         *         }
         *       }
         *     }
         */
        TemplateUpdateRequest: {
            /** @description The name senders use; fixed once created. Optional here; must match the path. */
            key?: string;
            name?: string | null;
            description?: string | null;
            /**
             * @description The language of `channels` (default `en`).
             * @example en
             */
            default_locale?: string | null;
            channels: components["schemas"]["TemplateChannels"];
            /**
             * @description Overrides per locale (`fr`, `pt-BR`); a user gets their locale, else their language,
             *     else the base.
             */
            locales?: {
                [key: string]: components["schemas"]["TemplateLocaleChannels"];
            };
        };
        /**
         * @example {
         *       "data": {
         *         "name": "Ada"
         *       },
         *       "locale": "fr"
         *     }
         */
        TemplatePreviewRequest: {
            /** @description Values for the variables (free-form). */
            data?: {
                [key: string]: unknown;
            };
            /**
             * @description Render this locale's variant (with the usual fallback); default: the template's.
             * @example fr
             */
            locale?: string | null;
        };
        TemplatePreview: {
            /** @constant */
            object: "template_preview";
            key: string;
            /** @description The variant used. */
            locale: string;
            channels: components["schemas"]["RenderedChannels"];
        };
        /** @description Lengths of one queue's Redis structures (ids, not jobs: PostgreSQL holds the truth). */
        Queue: {
            /** @constant */
            object: "queue";
            /** @enum {string} */
            name: "email" | "sms" | "push" | "webhook" | "reconcile";
            /** @description herald:q:{name} */
            ready: number;
            /** @description Sum over the workers' herald:q:{name}:proc:* lists. */
            processing: number;
            /** @description herald:delayed:{name} (scheduled and retries). */
            delayed: number;
            /** @description herald:dlq:{name} */
            dead: number;
            /** @description Processing lists found. */
            workers: number;
        };
        /** @description How many deliveries have each status. */
        DeliveryStatusCounts: {
            queued: number;
            scheduled: number;
            processing: number;
            sent: number;
            failed: number;
            dead: number;
            skipped: number;
            held: number;
            digest: number;
            digested: number;
            throttled: number;
            capped: number;
        };
        DeliveryStats: {
            /** @constant */
            object: "delivery_stats";
            /** Format: date-time */
            since: string;
            total: number;
            by_status: components["schemas"]["DeliveryStatusCounts"];
            by_channel: {
                in_app: components["schemas"]["DeliveryStatusCounts"];
                email: components["schemas"]["DeliveryStatusCounts"];
                sms: components["schemas"]["DeliveryStatusCounts"];
                push: components["schemas"]["DeliveryStatusCounts"];
                webhook: components["schemas"]["DeliveryStatusCounts"];
            };
        };
        ReconciliationRequest: {
            /** @description Start of the period (inclusive), a UTC date or time; default yesterday. */
            since?: string;
            /** @description End of the period (exclusive); after since, at most 31 days later. */
            until?: string;
        };
        ReconciliationTotals: {
            /** @description Succeeded payments and refunds in Herald. */
            local_count: number;
            /** @description Succeeded payment intents and refunds at Stripe. */
            provider_count: number;
            /** @description Payments minus refunds, minor units (all currencies added). */
            local_amount: number;
            provider_amount: number;
            /** @description Differences this run saw. */
            items_found: number;
            /** @description Of which no earlier run over the period had reported. */
            items_new: number;
            /**
             * @description Dispute outcomes of the period (empty until the run has finished): disputes
             *     opened in it, and disputes closed in it as won or lost, with the amount lost.
             */
            disputes: {
                opened?: number;
                won?: number;
                lost?: number;
                /** @description Minor units (all currencies added). */
                lost_amount?: number;
            };
        };
        ReconciliationItem: {
            /** @constant */
            object: "reconciliation_item";
            /** Format: uuid */
            id: string;
            /**
             * Format: uuid
             * @description The run that first found it.
             */
            run_id: string;
            /** @enum {string} */
            kind: "missing_locally" | "missing_at_provider" | "amount_mismatch" | "status_mismatch" | "currency_mismatch";
            /** @enum {string} */
            object_type: "payment" | "refund";
            /** @description Stripe's id (`pi_...`, `re_...`), else Herald's. */
            object_id: string;
            /** @description Herald's side (`id`, `amount`, `currency`, `status`, ...); null when missing here. Open, because it records the compared fields as they were. */
            local: {
                [key: string]: unknown;
            } | null;
            /** @description Stripe's side (`id`, `amount`, `currency`, `status`); null when missing there. Open, because it records the compared fields as they were. */
            provider: {
                [key: string]: unknown;
            } | null;
            /** Format: date-time */
            created_at: string;
        };
        ReconciliationRun: {
            /** @constant */
            object: "reconciliation_run";
            /** Format: uuid */
            id: string;
            /** @enum {string} */
            status: "queued" | "running" | "succeeded" | "failed";
            /** Format: date-time */
            since: string;
            /** Format: date-time */
            until: string;
            /**
             * Format: uuid
             * @description The admin; null for scheduled and shell runs.
             */
            requested_by: string | null;
            totals: components["schemas"]["ReconciliationTotals"];
            error: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            started_at: string | null;
            /** Format: date-time */
            finished_at: string | null;
            /** @description The period's differences (single run reads only). */
            items?: components["schemas"]["ReconciliationItem"][];
        };
        ReconcileJob: {
            /** @constant */
            object: "reconcile_job";
            /** Format: uuid */
            id: string;
            /** @enum {string} */
            kind: "payment_sync" | "refund_sync" | "ledger_run" | "housekeeping";
            subject_id: string;
            /** @enum {string} */
            status: "queued" | "running" | "done" | "failed";
        };
        /**
         * @description A dispute (chargeback) of a payment, as Stripe reports it through
         *     `charge.dispute.created`, `.updated` and `.closed`. Its status moves forward only:
         *     `needs_response` < `under_review` < `won` | `lost` (`warning_*` for inquiries).
         */
        Dispute: {
            /** @constant */
            object: "dispute";
            /** Format: uuid */
            id: string;
            /**
             * Format: uuid
             * @description The disputed payment (its status is `disputed`).
             */
            payment_id: string;
            /** @example stripe */
            provider: string;
            /** @example du_1NZ */
            provider_dispute_id: string;
            /** @description Disputed amount in minor units of `currency`. */
            amount: number;
            currency: string;
            /** @description The card network's reason (`fraudulent`, `product_not_received`, ...). */
            reason: string;
            /** @enum {string} */
            status: "warning_needs_response" | "warning_under_review" | "warning_closed" | "needs_response" | "under_review" | "won" | "lost";
            /**
             * Format: date-time
             * @description Evidence must reach Stripe before this time.
             */
            evidence_due_by: string | null;
            has_evidence: boolean;
            /** @description The evidence text an admin submitted. */
            evidence_text: string | null;
            /** Format: date-time */
            evidence_submitted_at: string | null;
            /** Format: date-time */
            closed_at: string | null;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
        };
        DisputeEvidence: {
            /**
             * @description What the merchant has to say (delivery proof, correspondence, policy), sent to
             *     Stripe as the dispute's `uncategorized_text` evidence and submitted for review.
             */
            text: string;
        };
    };
    responses: {
        /**
         * @description PostgreSQL or Redis is unavailable (`service_unavailable`, `timeout`); Stripe did not
         *     answer in time or is down (`provider_unavailable`, with `Retry-After`: retry the same
         *     request, with the same Idempotency-Key, nothing is charged twice); or payments are not
         *     configured on this server (`payments_not_configured`, `webhooks_not_configured`).
         */
        PaymentsUnavailable: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                /** @description Seconds to wait before retrying, when the provider is the cause. */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "type": "api_error",
                 *         "code": "provider_unavailable",
                 *         "message": "The payment provider did not answer (timeout) while creating the payment. Nothing is charged twice; retry the same request."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @constant */
                        type?: "api_error";
                        /** @enum {unknown} */
                        code?: "service_unavailable" | "timeout" | "provider_unavailable" | "payments_not_configured" | "webhooks_not_configured";
                    };
                };
            };
        };
        /**
         * @description The request is invalid: malformed JSON (`malformed_json`), JSON nested too deep
         *     (`json_too_deep`), or invalid fields (every one listed in `error.errors`). Also a 400
         *     `idempotency_error` when an `Idempotency-Key` is reused with a different body.
         */
        BadRequest: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        type?: "invalid_request_error" | "idempotency_error";
                    };
                };
            };
        };
        /**
         * @description A request body was sent (this operation takes none) and it is not valid JSON
         *     (`malformed_json`) or nests too deep (`json_too_deep`).
         */
        BadRequestBody: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "type": "invalid_request_error",
                 *         "code": "malformed_json",
                 *         "message": "The body is not valid JSON: string or '}' expected near 'bad' (line 1, column 4)."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @constant */
                        type?: "invalid_request_error";
                        /** @enum {unknown} */
                        code?: "malformed_json" | "json_too_deep";
                    };
                };
            };
        };
        /** @description No credentials, or an invalid or expired token or key. */
        Unauthorized: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "type": "authentication_error",
                 *         "code": "unauthorized",
                 *         "message": "A valid bearer token is required."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @constant */
                        type?: "authentication_error";
                    };
                };
            };
        };
        /** @description The payment was declined by the card issuer or the payment provider. */
        PaymentRequired: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "type": "card_error",
                 *         "code": "payment_failed",
                 *         "message": "The card was declined."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @constant */
                        type?: "card_error";
                    };
                };
            };
        };
        /**
         * @description Authenticated, but not allowed to do this (`forbidden`: for example, not an admin);
         *     or, with `HERALD_MFA_REQUIRED_FOR_ADMINS`, an admin's token from a sign-in without a
         *     second factor on an admin endpoint (`mfa_required`).
         */
        Forbidden: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "type": "permission_error",
                 *         "code": "forbidden",
                 *         "message": "Only admins can do this."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @constant */
                        type?: "permission_error";
                    };
                };
            };
        };
        /** @description No such resource (or route, or file). */
        NotFound: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "type": "invalid_request_error",
                 *         "code": "not_found",
                 *         "message": "No such route."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @constant */
                        type?: "invalid_request_error";
                    };
                };
            };
        };
        /** @description The path exists, but not with this method; `Allow` lists the methods it has. */
        MethodNotAllowed: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                Allow: components["headers"]["Allow"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "type": "invalid_request_error",
                 *         "code": "method_not_allowed",
                 *         "message": "DELETE is not allowed here; use GET."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @constant */
                        type?: "invalid_request_error";
                        /** @constant */
                        code?: "method_not_allowed";
                    };
                };
            };
        };
        /**
         * @description The request conflicts with the current state (for example, the e-mail address is
         *     already registered), or a request with the same `Idempotency-Key` is still running
         *     (`idempotency_error`).
         */
        Conflict: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "type": "invalid_request_error",
                 *         "code": "conflict",
                 *         "message": "This e-mail address is already registered.",
                 *         "param": "email"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        type?: "invalid_request_error" | "idempotency_error";
                    };
                };
            };
        };
        /** @description The request body is larger than the limit (`HERALD_MAX_BODY_BYTES`, 1 MiB by default). */
        PayloadTooLarge: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "type": "invalid_request_error",
                 *         "code": "body_too_large",
                 *         "message": "The request body is larger than 1048576 bytes."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @constant */
                        type?: "invalid_request_error";
                        /** @constant */
                        code?: "body_too_large";
                    };
                };
            };
        };
        /** @description A request body was sent that is not `application/json`. */
        UnsupportedMediaType: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "type": "invalid_request_error",
                 *         "code": "unsupported_media_type",
                 *         "message": "Request bodies must be application/json."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @constant */
                        type?: "invalid_request_error";
                        /** @constant */
                        code?: "unsupported_media_type";
                    };
                };
            };
        };
        /** @description The request is well-formed but cannot be carried out (for example, refunding more than was paid). */
        UnprocessableEntity: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "type": "invalid_request_error",
                 *         "code": "unprocessable",
                 *         "message": "The refund is larger than the payment.",
                 *         "param": "amount"
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @enum {unknown} */
                        type?: "invalid_request_error" | "card_error";
                    };
                };
            };
        };
        /**
         * @description Too many requests (`rate_limited`) from this client IP (IPv6: its /64), for this signed-in
         *     user or for this API key, in this route's group (see "Rate limits" above); wait
         *     `Retry-After` seconds. `RateLimit-Limit` is the limit that was exceeded.
         */
        TooManyRequests: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                "Retry-After": components["headers"]["Retry-After"];
                "RateLimit-Limit": components["headers"]["RateLimit-Limit"];
                "RateLimit-Remaining": components["headers"]["RateLimit-Remaining"];
                "RateLimit-Reset": components["headers"]["RateLimit-Reset"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "type": "rate_limit_error",
                 *         "code": "rate_limited",
                 *         "message": "Too many requests; retry in 30 seconds."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @constant */
                        type?: "rate_limit_error";
                    };
                };
            };
        };
        /**
         * @description The token of the e-mail is unknown, already used or expired (`invalid_token`, `param` =
         *     `token`), or the body is invalid (malformed JSON, or invalid fields, every one listed
         *     in `error.errors`).
         */
        InvalidOneTimeToken: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @constant */
                        type?: "invalid_request_error";
                    };
                };
            };
        };
        /** @description An unexpected server failure (a bug); the request id identifies it in the logs. */
        InternalError: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "type": "api_error",
                 *         "code": "internal_error",
                 *         "message": "Cannot render metrics."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @constant */
                        type?: "api_error";
                    };
                };
            };
        };
        /** @description PostgreSQL or Redis is unavailable, or timed out; retry later. */
        ServiceUnavailable: {
            headers: {
                "X-Request-Id": components["headers"]["X-Request-Id"];
                "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                /** @description Seconds to wait before trying again, when the server can tell. */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "type": "api_error",
                 *         "code": "service_unavailable",
                 *         "message": "The database is unavailable; retry later."
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @constant */
                        type?: "api_error";
                        /** @enum {unknown} */
                        code?: "service_unavailable" | "timeout";
                    };
                };
            };
        };
    };
    parameters: {
        /**
         * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
         *     response and logged. Invalid values are replaced by a generated UUID.
         * @example mobile-7f3c2a
         */
        RequestId: string;
        /**
         * @description Makes a creating `POST` safe to retry. The same key with the same body replays the
         *     first response; with a different body it is a 400 `idempotency_error`; while the first
         *     request is still running it is a 409. Kept at least 24 hours. A UUID v4 is a good key.
         * @example 5b0c7a0e-6a0e-4a5e-9d2b-3f1f6b1f2c11
         */
        IdempotencyKey: string;
        /**
         * @description How many items to return (1-100).
         * @example 20
         */
        Limit: number;
        /**
         * @description The `id` of the last item of the previous page: the page starts right after it (lists
         *     are newest first).
         * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
         */
        StartingAfter: string;
    };
    requestBodies: never;
    headers: {
        /**
         * @description The request id you sent (when valid) or a generated UUID.
         * @example 3f1f6b1f-2c11-4a5e-9d2b-5b0c7a0e6a0e
         */
        "X-Request-Id": string;
        /** @description Always `nosniff`. */
        "X-Content-Type-Options": "nosniff";
        /** @description API responses are never cached. */
        "Cache-Control-No-Store": "no-store";
        /**
         * @description Static content, cacheable by anyone for the given number of seconds.
         * @example public, max-age=300
         */
        "Cache-Control-Public": string;
        /**
         * @description Seconds to wait before trying again.
         * @example 5
         */
        "Retry-After": number;
        /**
         * @description The limit that was exceeded: requests allowed per window for this route group and
         *     client IP (an IPv6 client: its /64), signed-in user or API key.
         * @example 600
         */
        "RateLimit-Limit": number;
        /**
         * @description Requests left in the current window (0 on a 429).
         * @example 0
         */
        "RateLimit-Remaining": number;
        /**
         * @description Seconds until the current window ends (the same as `Retry-After`).
         * @example 42
         */
        "RateLimit-Reset": number;
        /**
         * @description The methods this path accepts, comma-separated.
         * @example GET, POST
         */
        Allow: string;
        /** @description Only this server's own scripts, styles and data; no framing. */
        "Content-Security-Policy": string;
    };
    pathItems: never;
};
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process is alive. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok",
                     *       "version": {
                     *         "version": "0.1.0",
                     *         "commit": "2fee9f5a1b2c",
                     *         "build_type": "RelWithDebInfo"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Health"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description PostgreSQL and Redis both answer. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ready",
                     *       "checks": {
                     *         "postgres": "ok",
                     *         "redis": "ok"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            /** @description PostgreSQL or Redis (or both) does not answer. */
            503: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "unavailable",
                     *       "checks": {
                     *         "postgres": "ok",
                     *         "redis": "down"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["NotReady"];
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The metrics. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example # HELP herald_http_requests_total HTTP requests by route, method and status.
                     *     # TYPE herald_http_requests_total counter
                     *     herald_http_requests_total{route="/healthz",method="GET",status="200"} 1
                     */
                    "text/plain": string;
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            500: components["responses"]["InternalError"];
        };
    };
    getOpenApiDocument: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI 3.1 document. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-Public"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "openapi": "3.1.0",
                     *       "info": {
                     *         "title": "Herald API",
                     *         "version": "0.1.0"
                     *       },
                     *       "paths": {}
                     *     }
                     */
                    "application/json": components["schemas"]["OpenApiDocument"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
        };
    };
    getOpenApiDocumentRoot: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI 3.1 document. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-Public"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "openapi": "3.1.0",
                     *       "info": {
                     *         "title": "Herald API",
                     *         "version": "0.1.0"
                     *       },
                     *       "paths": {}
                     *     }
                     */
                    "application/json": components["schemas"]["OpenApiDocument"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
        };
    };
    getOpenApiDocumentYaml: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI 3.1 document in YAML. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-Public"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example openapi: 3.1.0
                     *     info:
                     *       title: Herald API
                     */
                    "application/yaml": string;
                };
            };
            400: components["responses"]["BadRequestBody"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
        };
    };
    getDocsPage: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The page. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    "Content-Security-Policy": components["headers"]["Content-Security-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example <!DOCTYPE html>
                     *     <html lang="en"><head><title>Herald API reference</title></head>
                     *     <body><redoc spec-url="/api/v1/openapi.json"></redoc>
                     *     <script src="/docs/redoc.standalone.js"></script></body></html>
                     */
                    "text/html": string;
                };
            };
            400: components["responses"]["BadRequestBody"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
        };
    };
    getDocsAsset: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The file name.
                 * @example redoc.standalone.js
                 */
                file: "redoc.standalone.js" | "redoc.standalone.js.LICENSE.txt";
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The file. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-Public"];
                    [name: string]: unknown;
                };
                content: {
                    /** @example /*! For license information please see redoc.standalone.js.LICENSE.txt *\/ */
                    "application/javascript": string;
                    /** @example /*! @license DOMPurify | (c) Cure53 and other contributors *\/ */
                    "text/plain": string;
                };
            };
            400: components["responses"]["BadRequestBody"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
        };
    };
    getDemoPage: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The page. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    "Content-Security-Policy": components["headers"]["Content-Security-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example <!DOCTYPE html>
                     *     <html lang="en"><head><title>Herald inbox demo</title></head>
                     *     <body><herald-inbox></herald-inbox><script type="module" src="/demo/demo.js"></script></body></html>
                     */
                    "text/html": string;
                };
            };
            400: components["responses"]["BadRequestBody"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
        };
    };
    getDemoFile: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The file name.
                 * @example herald-inbox.js
                 */
                file: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The file. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    "Content-Security-Policy": components["headers"]["Content-Security-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                    /** @example export class HeraldClient{...} */
                    "text/javascript": string;
                    "application/json": {
                        [key: string]: unknown;
                    };
                    "text/css": string;
                    "image/svg+xml": string;
                    "image/png": string;
                };
            };
            400: components["responses"]["BadRequestBody"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
        };
    };
    register: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email": "ada@example.com",
                 *       "password": "correct horse battery staple",
                 *       "name": "Ada Lovelace",
                 *       "phone": "+14155550123",
                 *       "timezone": "Europe/London",
                 *       "locale": "en-GB"
                 *     }
                 */
                "application/json": components["schemas"]["RegisterRequest"];
            };
        };
        responses: {
            /**
             * @description Accepted: the account exists now (sign in), or already did (its owner is told by
             *     e-mail). The two cases get the same answer.
             */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Accepted"];
                };
            };
            400: components["responses"]["BadRequest"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    login: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email": "ada@example.com",
                 *       "password": "correct horse battery staple"
                 *     }
                 */
                "application/json": components["schemas"]["LoginRequest"];
            };
        };
        responses: {
            /** @description Signed in. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenPair"];
                };
            };
            /**
             * @description The password is right and the account has two-factor authentication: no tokens
             *     yet. Complete the sign-in at `POST /api/v1/auth/mfa/verify` with the challenge.
             */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MfaChallenge"];
                };
            };
            400: components["responses"]["BadRequest"];
            /** @description The e-mail address or the password is wrong (`invalid_credentials`). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "type": "authentication_error",
                     *         "code": "invalid_credentials",
                     *         "message": "The e-mail or password is wrong."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @constant */
                            type?: "authentication_error";
                            /** @constant */
                            code?: "invalid_credentials";
                        };
                    };
                };
            };
            /** @description The password is right but an admin disabled the account (`account_disabled`). */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "type": "permission_error",
                     *         "code": "account_disabled",
                     *         "message": "This account is disabled."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @constant */
                            type?: "permission_error";
                            /** @constant */
                            code?: "account_disabled";
                        };
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            /**
             * @description The account is locked after too many failed sign-ins (`account_locked`), or this
             *     client sent too many requests (`rate_limited`, which also carries `RateLimit-Limit`,
             *     `RateLimit-Remaining` and `RateLimit-Reset`). Wait `Retry-After` seconds.
             */
            429: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    "Retry-After": components["headers"]["Retry-After"];
                    /** @description With `rate_limited`, the limit that was exceeded. */
                    "RateLimit-Limit"?: number;
                    /** @description With `rate_limited`, 0. */
                    "RateLimit-Remaining"?: number;
                    /** @description With `rate_limited`, seconds until the window ends. */
                    "RateLimit-Reset"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @constant */
                            type?: "rate_limit_error";
                            /** @enum {unknown} */
                            code?: "account_locked" | "rate_limited";
                        };
                    };
                };
            };
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    refreshTokens: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "refresh_token": "rt_Qm9ndXNUb2tlbkZvckRvY3NPbmx5MDEyMzQ1Njc4OWFi"
                 *     }
                 */
                "application/json": components["schemas"]["RefreshTokenRequest"];
            };
        };
        responses: {
            /** @description A new token pair; the refresh token sent is now used. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenPair"];
                };
            };
            400: components["responses"]["BadRequest"];
            /** @description The refresh token is unknown, expired, revoked or already used (`invalid_refresh_token`). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "type": "authentication_error",
                     *         "code": "invalid_refresh_token",
                     *         "message": "The refresh token is invalid, expired or already used."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @constant */
                            type?: "authentication_error";
                            /** @constant */
                            code?: "invalid_refresh_token";
                        };
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    logout: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "refresh_token": "rt_Qm9ndXNUb2tlbkZvckRvY3NPbmx5MDEyMzQ1Njc4OWFi"
                 *     }
                 */
                "application/json": components["schemas"]["RefreshTokenRequest"];
            };
        };
        responses: {
            /** @description Signed out (or the token was not valid anyway). */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    requestPasswordReset: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "email": "ada@example.com"
                 *     }
                 */
                "application/json": components["schemas"]["PasswordResetRequest"];
            };
        };
        responses: {
            /** @description Accepted; an e-mail is on its way if the account exists. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "accepted"
                     *     }
                     */
                    "application/json": components["schemas"]["Accepted"];
                };
            };
            400: components["responses"]["BadRequest"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    confirmPasswordReset: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "token": "Zm9yLWRvY3Mtb25seS1ub3QtYS1yZWFsLXRva2VuLTAxMjM0NQ",
                 *       "new_password": "a brand new passphrase"
                 *     }
                 */
                "application/json": components["schemas"]["PasswordResetConfirmRequest"];
            };
        };
        responses: {
            /** @description The password is changed; sign in with it. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidOneTimeToken"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    verifyEmail: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "token": "Zm9yLWRvY3Mtb25seS1ub3QtYS1yZWFsLXRva2VuLTAxMjM0NQ"
                 *     }
                 */
                "application/json": components["schemas"]["VerifyEmailRequest"];
            };
        };
        responses: {
            /** @description The e-mail address is verified. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["InvalidOneTimeToken"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    resendVerificationEmail: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The e-mail is queued. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        object: "email_verification";
                        /** @constant */
                        status: "sent";
                    };
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getMe: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The user. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteMe: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The account is deleted. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateMe: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "Ada King",
                 *       "phone": "+442071234567",
                 *       "timezone": "Europe/London",
                 *       "locale": "en-GB"
                 *     }
                 */
                "application/json": components["schemas"]["UpdateMeRequest"];
            };
        };
        responses: {
            /** @description The updated user. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    changePassword: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "current_password": "correct horse battery staple",
                 *       "new_password": "a brand new passphrase"
                 *     }
                 */
                "application/json": components["schemas"]["ChangePasswordRequest"];
            };
        };
        responses: {
            /** @description The password is changed. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            /**
             * @description The current password is wrong (`incorrect_password`), or the credentials are an
             *     API key (`forbidden`).
             */
            403: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @constant */
                            type?: "permission_error";
                            /** @enum {unknown} */
                            code?: "incorrect_password" | "forbidden";
                        };
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    exportMe: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The export. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    /** @description Always `attachment; filename="herald-export.json"`. */
                    "Content-Disposition": "attachment; filename=\"herald-export.json\"";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserExport"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    verifyMfa: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "challenge": "mc_Qm9ndXNDaGFsbGVuZ2VGb3JEb2NzT25seTAxMjM0NTY3",
                 *       "code": "123456"
                 *     }
                 */
                "application/json": components["schemas"]["MfaVerifyRequest"];
            };
        };
        responses: {
            /** @description Signed in. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenPair"];
                };
            };
            400: components["responses"]["BadRequest"];
            /** @description The challenge is unknown, used, expired or had too many wrong codes (`invalid_challenge`), or the code is wrong or already used (`invalid_code`). */
            401: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "type": "authentication_error",
                     *         "code": "invalid_code",
                     *         "message": "The code is wrong, expired or already used."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @constant */
                            type?: "authentication_error";
                            /** @enum {unknown} */
                            code?: "invalid_challenge" | "invalid_code";
                        };
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listSessions: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The sessions. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionList"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    revokeAllSessions: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every session is ended. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    revokeSession: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The session's id (anything that is not a UUID is a 404).
                 * @example 6f3100c2-8f44-4886-829b-e5aa4c375510
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session is ended. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    enrolTotp: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A pending secret. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TotpEnrollment"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            /** @description Two-factor authentication is already on (`mfa_already_enabled`). */
            409: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "type": "invalid_request_error",
                     *         "code": "mfa_already_enabled",
                     *         "message": "Two-factor authentication is already on; disable it first."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @constant */
                            type?: "invalid_request_error";
                            /** @constant */
                            code?: "mfa_already_enabled";
                        };
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    confirmTotp: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "code": "123456"
                 *     }
                 */
                "application/json": components["schemas"]["TotpCodeRequest"];
            };
        };
        responses: {
            /** @description Two-factor authentication is on. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RecoveryCodes"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            /** @description No enrolment is pending (`mfa_not_pending`). */
            409: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "type": "invalid_request_error",
                     *         "code": "mfa_not_pending",
                     *         "message": "No enrolment is pending: start one with POST /api/v1/users/me/mfa/totp."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @constant */
                            type?: "invalid_request_error";
                            /** @constant */
                            code?: "mfa_not_pending";
                        };
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            /** @description The code is wrong, expired or already used (`invalid_code`). */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "type": "invalid_request_error",
                     *         "code": "invalid_code",
                     *         "message": "The code is wrong, expired or already used.",
                     *         "param": "code"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @constant */
                            type?: "invalid_request_error";
                            /** @constant */
                            code?: "invalid_code";
                        };
                    };
                };
            };
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    disableTotp: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "code": "123456"
                 *     }
                 */
                "application/json": components["schemas"]["TotpDisableRequest"];
            };
        };
        responses: {
            /** @description Two-factor authentication is off. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            /** @description Two-factor authentication is off (`mfa_not_enabled`). */
            409: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "type": "invalid_request_error",
                     *         "code": "mfa_not_enabled",
                     *         "message": "Two-factor authentication is off."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @constant */
                            type?: "invalid_request_error";
                            /** @constant */
                            code?: "mfa_not_enabled";
                        };
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            /** @description The code or recovery code is wrong or already used (`invalid_code`). */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "type": "invalid_request_error",
                     *         "code": "invalid_code",
                     *         "message": "The code is wrong, expired or already used.",
                     *         "param": "code"
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @constant */
                            type?: "invalid_request_error";
                            /** @constant */
                            code?: "invalid_code";
                        };
                    };
                };
            };
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listAdminUsers: {
        parameters: {
            query?: {
                /**
                 * @description Only addresses starting with this (case-insensitive; 1 to 254 bytes of UTF-8).
                 * @example ada@
                 */
                email?: string;
                /**
                 * @description Only this role.
                 * @example admin
                 */
                role?: "user" | "admin";
                /**
                 * @description Only this status.
                 * @example active
                 */
                status?: "active" | "disabled" | "deleted";
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of users. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getAdminUser: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The user's id (anything that is not a UUID is a 404).
                 * @example 1f7b874d-fddb-4e44-babf-d868c49fc2ce
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The user. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateAdminUser: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The user's id (anything that is not a UUID is a 404).
                 * @example 1f7b874d-fddb-4e44-babf-d868c49fc2ce
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "role": "admin",
                 *       "disabled": false
                 *     }
                 */
                "application/json": components["schemas"]["AdminUserUpdateRequest"];
            };
        };
        responses: {
            /** @description The updated user. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["User"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            /** @description An admin tried to demote or disable their own account (`cannot_demote_self`). */
            422: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "error": {
                     *         "type": "invalid_request_error",
                     *         "code": "cannot_demote_self",
                     *         "message": "Admins cannot demote or disable themselves."
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Error"] & {
                        error?: {
                            /** @constant */
                            type?: "invalid_request_error";
                            /** @constant */
                            code?: "cannot_demote_self";
                        };
                    };
                };
            };
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listApiKeys: {
        parameters: {
            query?: {
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of API keys. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createApiKey: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "billing-service"
                 *     }
                 */
                "application/json": components["schemas"]["ApiKeyCreateRequest"];
            };
        };
        responses: {
            /** @description The key, with its secret (shown this once). */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiKeyWithSecret"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteApiKey: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The key's id (anything that is not a UUID is a 404).
                 * @example 6f3100c2-8f44-4886-829b-e5aa4c375510
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The key is revoked. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listAuditLog: {
        parameters: {
            query?: {
                /**
                 * @description Only entries made by this user or API key.
                 * @example 7fbcee05-b645-4c2b-a4ed-291a2df4b57b
                 */
                actor_id?: string;
                /**
                 * @description Only this action, e.g. `auth.login_failed`, `user.role_changed`.
                 * @example auth.login_failed
                 */
                action?: string;
                /**
                 * @description Only entries about this object id.
                 * @example 1f7b874d-fddb-4e44-babf-d868c49fc2ce
                 */
                target_id?: string;
                /**
                 * @description Only entries at or after this time (RFC 3339).
                 * @example 2026-01-01T00:00:00Z
                 */
                created_gte?: string;
                /**
                 * @description Only entries at or before this time (RFC 3339).
                 * @example 2026-12-31T23:59:59Z
                 */
                created_lte?: string;
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of audit log entries. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listPayments: {
        parameters: {
            query?: {
                /**
                 * @description Only payments in this status.
                 * @example succeeded
                 */
                status?: "requires_payment_method" | "requires_confirmation" | "requires_action" | "processing" | "succeeded" | "canceled" | "failed" | "disputed";
                /**
                 * @description Only payments of this type.
                 * @example tournament_fee
                 */
                payment_type?: "tournament_fee" | "coaching_session" | "venue_booking" | "subscription" | "other";
                /**
                 * @description Only payments created at or after this time (RFC 3339).
                 * @example 2026-01-01T00:00:00Z
                 */
                created_gte?: string;
                /**
                 * @description Only payments created at or before this time (RFC 3339).
                 * @example 2027-01-01T00:00:00Z
                 */
                created_lte?: string;
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of payments. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    createPayment: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description Required here: the same key with the same body replays the first answer (with
                 *     `Idempotent-Replayed: true`), so a retry after a timeout can never pay twice; with
                 *     another body it is a 400 `idempotency_error`; while the first request runs, a 409.
                 *     The provider call carries a key derived from the payment's id as well.
                 * @example 5b0c7a0e-6a0e-4a5e-9d2b-3f1f6b1f2c11
                 */
                "Idempotency-Key": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "amount": 2500,
                 *       "currency": "USD",
                 *       "payment_type": "tournament_fee",
                 *       "description": "Spring open entry",
                 *       "metadata": {
                 *         "team": "Falcons"
                 *       },
                 *       "payment_method_id": "pm_card_visa",
                 *       "confirm": true
                 *     }
                 */
                "application/json": components["schemas"]["PaymentCreateRequest"];
            };
        };
        responses: {
            /** @description The payment, as it stands after the provider's answer. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Payment"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            402: components["responses"]["PaymentRequired"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    getPaymentConfig: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The providers. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PaymentConfig"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
        };
    };
    getPayment: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The payment and its refunds. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Payment"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    confirmPayment: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "payment_method_id": "pm_card_visa"
                 *     }
                 */
                "application/json": components["schemas"]["PaymentConfirmRequest"];
            };
        };
        responses: {
            /** @description The payment after the provider's answer. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Payment"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            402: components["responses"]["PaymentRequired"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    cancelPayment: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "cancellation_reason": "requested_by_customer"
                 *     }
                 */
                "application/json": components["schemas"]["PaymentCancelRequest"];
            };
        };
        responses: {
            /** @description The canceled payment. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Payment"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    getPaymentReceipt: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The receipt. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Receipt"];
                    "text/html": string;
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    listRefunds: {
        parameters: {
            query?: {
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of refunds. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    createRefund: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description Makes a creating `POST` safe to retry. The same key with the same body replays the
                 *     first response; with a different body it is a 400 `idempotency_error`; while the first
                 *     request is still running it is a 409. Kept at least 24 hours. A UUID v4 is a good key.
                 * @example 5b0c7a0e-6a0e-4a5e-9d2b-3f1f6b1f2c11
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "amount": 1000,
                 *       "reason": "requested_by_customer"
                 *     }
                 */
                "application/json": components["schemas"]["RefundCreateRequest"];
            };
        };
        responses: {
            /** @description The refund. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Refund"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    createRefundRequest: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description Makes a creating `POST` safe to retry. The same key with the same body replays the
                 *     first response; with a different body it is a 400 `idempotency_error`; while the first
                 *     request is still running it is a 409. Kept at least 24 hours. A UUID v4 is a good key.
                 * @example 5b0c7a0e-6a0e-4a5e-9d2b-3f1f6b1f2c11
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "amount": 1500,
                 *       "reason": "The coach did not come."
                 *     }
                 */
                "application/json": components["schemas"]["RefundRequestCreate"];
            };
        };
        responses: {
            /** @description The request, pending. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RefundRequest"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    listRefundRequests: {
        parameters: {
            query?: {
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
                /** @description Only requests in this status. */
                status?: "pending" | "approving" | "approved" | "rejected";
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of refund requests. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    approveRefundRequest: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The refund request's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "amount": 1000
                 *     }
                 */
                "application/json": components["schemas"]["RefundRequestApprove"];
            };
        };
        responses: {
            /** @description The request, approved, with its refund. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RefundRequest"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    rejectRefundRequest: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The refund request's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "reason": "The session took place."
                 *     }
                 */
                "application/json": components["schemas"]["RefundRequestReject"];
            };
        };
        responses: {
            /** @description The request, rejected. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RefundRequest"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    listPaymentMethods: {
        parameters: {
            query?: {
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of payment methods. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    createPaymentMethod: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description Makes a creating `POST` safe to retry. The same key with the same body replays the
                 *     first response; with a different body it is a 400 `idempotency_error`; while the first
                 *     request is still running it is a 409. Kept at least 24 hours. A UUID v4 is a good key.
                 * @example 5b0c7a0e-6a0e-4a5e-9d2b-3f1f6b1f2c11
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "provider_payment_method_id": "pm_card_visa"
                 *     }
                 */
                "application/json": components["schemas"]["PaymentMethodCreateRequest"];
            };
        };
        responses: {
            /** @description The saved payment method. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PaymentMethod"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    deletePaymentMethod: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The payment method's id (anything that is not a UUID is a 404).
                 * @example 2b7e1d4c-8a3f-4e6b-9c1d-5f0a7e3b2c19
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted; no body. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    setDefaultPaymentMethod: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The payment method's id (anything that is not a UUID is a 404).
                 * @example 2b7e1d4c-8a3f-4e6b-9c1d-5f0a7e3b2c19
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The payment method, now the default. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PaymentMethod"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    listPlans: {
        parameters: {
            query?: {
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of plans. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listAllPlans: {
        parameters: {
            query?: {
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of plans. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createPlan: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description Makes a creating `POST` safe to retry. The same key with the same body replays the
                 *     first response; with a different body it is a 400 `idempotency_error`; while the first
                 *     request is still running it is a 409. Kept at least 24 hours. A UUID v4 is a good key.
                 * @example 5b0c7a0e-6a0e-4a5e-9d2b-3f1f6b1f2c11
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "Club monthly",
                 *       "amount": 1500,
                 *       "currency": "USD",
                 *       "interval": "month",
                 *       "trial_days": 14
                 *     }
                 */
                "application/json": components["schemas"]["PlanCreateRequest"];
            };
        };
        responses: {
            /** @description The plan. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Plan"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    updatePlan: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The plan's id (anything that is not a UUID is a 404).
                 * @example 3c1f7a2e-9b4d-4e8a-b6c2-0d5e7f9a1b23
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "active": false
                 *     }
                 */
                "application/json": components["schemas"]["PlanUpdateRequest"];
            };
        };
        responses: {
            /** @description The plan. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Plan"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    listSubscriptions: {
        parameters: {
            query?: {
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of subscriptions. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createSubscription: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description Makes a creating `POST` safe to retry. The same key with the same body replays the
                 *     first response; with a different body it is a 400 `idempotency_error`; while the first
                 *     request is still running it is a 409. Kept at least 24 hours. A UUID v4 is a good key.
                 * @example 5b0c7a0e-6a0e-4a5e-9d2b-3f1f6b1f2c11
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "plan_id": "3c1f7a2e-9b4d-4e8a-b6c2-0d5e7f9a1b23"
                 *     }
                 */
                "application/json": components["schemas"]["SubscriptionCreateRequest"];
            };
        };
        responses: {
            /** @description The subscription. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Subscription"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    getSubscription: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The subscription's id (anything that is not a UUID is a 404).
                 * @example 7a9c2e4f-1b3d-4f6a-8c0e-2d4f6a8c0e13
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The subscription. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Subscription"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    cancelSubscription: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The subscription's id (anything that is not a UUID is a 404).
                 * @example 7a9c2e4f-1b3d-4f6a-8c0e-2d4f6a8c0e13
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "at_period_end": true
                 *     }
                 */
                "application/json": components["schemas"]["SubscriptionCancelRequest"];
            };
        };
        responses: {
            /** @description The subscription as Stripe answered. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Subscription"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    resumeSubscription: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The subscription's id (anything that is not a UUID is a 404).
                 * @example 7a9c2e4f-1b3d-4f6a-8c0e-2d4f6a8c0e13
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /** @example {} */
                "application/json": components["schemas"]["SubscriptionResumeRequest"];
            };
        };
        responses: {
            /** @description The subscription as Stripe answered. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Subscription"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    changeSubscriptionPlan: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The subscription's id (anything that is not a UUID is a 404).
                 * @example 7a9c2e4f-1b3d-4f6a-8c0e-2d4f6a8c0e13
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "plan_id": "3c1f7a2e-9b4d-4e8a-b6c2-0d5e7f9a1b23"
                 *     }
                 */
                "application/json": components["schemas"]["SubscriptionPlanRequest"];
            };
        };
        responses: {
            /** @description The subscription as Stripe answered. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Subscription"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    syncSubscription: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The subscription's id (anything that is not a UUID is a 404).
                 * @example 7a9c2e4f-1b3d-4f6a-8c0e-2d4f6a8c0e13
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The subscription as Stripe has it. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Subscription"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    receiveStripeWebhook: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description `t=<unix time>,v1=<hex HMAC-SHA256>` (more `v1` entries while secrets rotate).
                 * @example t=1735689600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
                 */
                "Stripe-Signature": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "id": "evt_1Q2w3E4r5T6y7U8i",
                 *       "object": "event",
                 *       "type": "payment_intent.succeeded",
                 *       "created": 1735689600,
                 *       "data": {
                 *         "object": {
                 *           "id": "pi_3Q2w3E4r5T6y7U8i",
                 *           "object": "payment_intent",
                 *           "status": "succeeded",
                 *           "amount": 2500
                 *         }
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["StripeEvent"];
            };
        };
        responses: {
            /** @description Received (applied, or a duplicate, or not about a known object). */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StripeWebhookReceipt"];
                };
            };
            400: components["responses"]["BadRequest"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    receiveMpesaCallback: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description HERALD_MPESA_CALLBACK_SECRET. M-Pesa does not sign its callbacks: this secret path
                 *     (and HERALD_MPESA_CALLBACK_ALLOW_IPS) lets them in; any other value is a 404.
                 * @example 6c1f0e0b2c6a4b7e9f3d8a1c5e7b9d2f
                 */
                secret: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "Body": {
                 *         "stkCallback": {
                 *           "MerchantRequestID": "29115-34620561-1",
                 *           "CheckoutRequestID": "ws_CO_191220191020363925",
                 *           "ResultCode": 0,
                 *           "ResultDesc": "The service request is processed successfully.",
                 *           "CallbackMetadata": {
                 *             "Item": [
                 *               {
                 *                 "Name": "Amount",
                 *                 "Value": 150
                 *               },
                 *               {
                 *                 "Name": "MpesaReceiptNumber",
                 *                 "Value": "NLJ7RT61SV"
                 *               },
                 *               {
                 *                 "Name": "PhoneNumber",
                 *                 "Value": 254708374149
                 *               }
                 *             ]
                 *           }
                 *         }
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["MpesaCallback"];
            };
        };
        responses: {
            /** @description Received (applied, unchanged, a duplicate, or not confirmed by M-Pesa). */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MpesaCallbackReceipt"];
                };
            };
            400: components["responses"]["BadRequest"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["PaymentsUnavailable"];
        };
    };
    listNotifications: {
        parameters: {
            query?: {
                /**
                 * @description Only unread (true) or read (false) ones.
                 * @example true
                 */
                unread?: boolean;
                /**
                 * @description Only this category.
                 * @example billing
                 */
                category?: string;
                /**
                 * @description Only this priority.
                 * @example high
                 */
                priority?: "low" | "normal" | "high" | "critical";
                /**
                 * @description Full-text search of title and body in the language of my locale (English,
                 *     German, French, Spanish, Portuguese, Italian, Dutch, Nordic languages, Russian,
                 *     Hungarian, Romanian, Turkish; `simple` otherwise), in web-search syntax: words,
                 *     `"a phrase"`, `-excluded`, `or`. Combines with every other filter.
                 * @example invoice
                 */
                q?: string;
                /** @description Only notifications created at or after this time (RFC 3339). */
                since?: string;
                /** @description Only notifications created before this time (RFC 3339, after `since`). */
                until?: string;
                /** @description true: only archived notifications; default false: the others. */
                archived?: boolean;
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of the feed. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NotificationFeed"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    sendNotification: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description Makes a creating `POST` safe to retry. The same key with the same body replays the
                 *     first response; with a different body it is a 400 `idempotency_error`; while the first
                 *     request is still running it is a 409. Kept at least 24 hours. A UUID v4 is a good key.
                 * @example 5b0c7a0e-6a0e-4a5e-9d2b-3f1f6b1f2c11
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SendNotificationRequest"];
            };
        };
        responses: {
            /** @description Accepted: the rows are committed and the queued ids pushed. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NotificationCreated"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getUnreadCount: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The count. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UnreadCount"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    streamNotifications: {
        parameters: {
            query?: {
                /**
                 * @description A single-use ticket from `POST /api/v1/notifications/stream-tickets`, instead of the Authorization header.
                 * @example XTZVm9Vboiofbir-WTXkETYqmYkrpsHZTpWucKzg6tQ
                 */
                ticket?: string;
                /**
                 * @description The same as the `Last-Event-ID` header (which wins when both are sent).
                 * @example 1042
                 */
                last_event_id?: string;
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description The `id` of the last event received; the stream replays the changes after it.
                 * @example 1042
                 */
                "Last-Event-ID"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The stream; it stays open until the client leaves or the server ends it. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    /** @description Streams are never cached. */
                    "Cache-Control": "no-cache";
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": components["schemas"]["NotificationStreamEvent"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createStreamTicket: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The ticket and the URL to open. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["StreamTicket"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    markAllNotificationsRead: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description How many were marked. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReadAllResult"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    clearNotifications: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description How many were removed. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ClearResult"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    sendBulkNotification: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description Makes a creating `POST` safe to retry. The same key with the same body replays the
                 *     first response; with a different body it is a 400 `idempotency_error`; while the first
                 *     request is still running it is a 409. Kept at least 24 hours. A UUID v4 is a good key.
                 * @example 5b0c7a0e-6a0e-4a5e-9d2b-3f1f6b1f2c11
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["BulkNotificationRequest"];
            };
        };
        responses: {
            /** @description Accepted: the fan-out runs in the background. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Broadcast"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getNotificationBatch: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The bulk send's id (anything that is not a UUID is a 404).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The bulk send. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Broadcast"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getNotification: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The notification's id (anything that is not a UUID is a 404).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The notification. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Notification"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteNotification: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The notification's id (anything that is not a UUID is a 404).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    markNotificationRead: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The notification's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The notification. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Notification"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    markNotificationUnread: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The notification's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The notification. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Notification"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    archiveNotification: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The notification's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The notification. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Notification"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    unarchiveNotification: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The notification's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The notification. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Notification"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listAnnouncements: {
        parameters: {
            query?: {
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of announcements. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createAnnouncement: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description Makes a creating `POST` safe to retry. The same key with the same body replays the
                 *     first response; with a different body it is a 400 `idempotency_error`; while the first
                 *     request is still running it is a 409. Kept at least 24 hours. A UUID v4 is a good key.
                 * @example 5b0c7a0e-6a0e-4a5e-9d2b-3f1f6b1f2c11
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AnnouncementRequest"];
            };
        };
        responses: {
            /** @description Accepted. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Broadcast"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getAnnouncement: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The announcement's id (anything that is not a UUID is a 404).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The announcement. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Broadcast"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateAnnouncement: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The announcement's id (anything that is not a UUID is a 404).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AnnouncementUpdateRequest"];
            };
        };
        responses: {
            /** @description The announcement. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Broadcast"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    withdrawAnnouncement: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The announcement's id (anything that is not a UUID is a 404).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The announcement, withdrawn. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Broadcast"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getPreferences: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The preferences. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NotificationPreferences"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updatePreferences: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PreferencesUpdateRequest"];
            };
        };
        responses: {
            /** @description The preferences now. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NotificationPreferences"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listTopics: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The topics. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TopicList"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createTopic: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TopicCreateRequest"];
            };
        };
        responses: {
            /** @description The topic. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Topic"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listMyTopics: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description My subscriptions. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TopicList"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    subscribeTopic: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The topic's key.
                 * @example releases
                 */
                key: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The topic, with subscribed_at. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Topic"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    unsubscribeTopic: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The topic's key.
                 * @example releases
                 */
                key: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Unsubscribed. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listDevices: {
        parameters: {
            query?: {
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of devices. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    registerDevice: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description Makes a creating `POST` safe to retry. The same key with the same body replays the
                 *     first response; with a different body it is a 400 `idempotency_error`; while the first
                 *     request is still running it is a 409. Kept at least 24 hours. A UUID v4 is a good key.
                 * @example 5b0c7a0e-6a0e-4a5e-9d2b-3f1f6b1f2c11
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DeviceRequest"];
            };
        };
        responses: {
            /** @description The token was known: refreshed (and now the caller's). */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Device"];
                };
            };
            /** @description Registered. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Device"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteDevice: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The device's id (another user's is a 404).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listMyWebhookEndpoints: {
        parameters: {
            query?: {
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of endpoints. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createMyWebhookEndpoint: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description Makes a creating `POST` safe to retry. The same key with the same body replays the
                 *     first response; with a different body it is a 400 `idempotency_error`; while the first
                 *     request is still running it is a 409. Kept at least 24 hours. A UUID v4 is a good key.
                 * @example 5b0c7a0e-6a0e-4a5e-9d2b-3f1f6b1f2c11
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookEndpointRequest"];
            };
        };
        responses: {
            /** @description Registered; the secret is shown this once. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpointWithSecret"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteMyWebhookEndpoint: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The endpoint's id (another user's is a 404).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    rotateMyWebhookEndpointSecret: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The endpoint's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The endpoint with its new secret. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpointWithSecret"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    enableMyWebhookEndpoint: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The endpoint's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Enabled. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpoint"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listAdminWebhookEndpoints: {
        parameters: {
            query?: {
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of endpoints. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createAdminWebhookEndpoint: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description Makes a creating `POST` safe to retry. The same key with the same body replays the
                 *     first response; with a different body it is a 400 `idempotency_error`; while the first
                 *     request is still running it is a 409. Kept at least 24 hours. A UUID v4 is a good key.
                 * @example 5b0c7a0e-6a0e-4a5e-9d2b-3f1f6b1f2c11
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookEndpointRequest"];
            };
        };
        responses: {
            /** @description Registered; the secret is shown this once. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpointWithSecret"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteAdminWebhookEndpoint: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The endpoint's id (a user's own is a 404 here).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    rotateAdminWebhookEndpointSecret: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The endpoint's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The endpoint with its new secret. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpointWithSecret"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    enableAdminWebhookEndpoint: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The endpoint's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Enabled. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpoint"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listTemplates: {
        parameters: {
            query?: {
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of templates. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createTemplate: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description Makes a creating `POST` safe to retry. The same key with the same body replays the
                 *     first response; with a different body it is a 400 `idempotency_error`; while the first
                 *     request is still running it is a 409. Kept at least 24 hours. A UUID v4 is a good key.
                 * @example 5b0c7a0e-6a0e-4a5e-9d2b-3f1f6b1f2c11
                 */
                "Idempotency-Key"?: components["parameters"]["IdempotencyKey"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TemplateRequest"];
            };
        };
        responses: {
            /** @description Created. */
            201: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Template"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getTemplate: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The template key (anything else is a 404).
                 * @example welcome
                 */
                key: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The template. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Template"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    replaceTemplate: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The template key (anything else is a 404).
                 * @example welcome
                 */
                key: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TemplateUpdateRequest"];
            };
        };
        responses: {
            /** @description The template now. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Template"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteTemplate: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The template key (anything else is a 404).
                 * @example welcome
                 */
                key: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    previewTemplate: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The template key (anything else is a 404).
                 * @example welcome
                 */
                key: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TemplatePreviewRequest"];
            };
        };
        responses: {
            /** @description The rendered channels. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TemplatePreview"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listQueues: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every queue. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listDeliveries: {
        parameters: {
            query?: {
                /**
                 * @description Only this status.
                 * @example dead
                 */
                status?: "queued" | "scheduled" | "processing" | "sent" | "failed" | "dead" | "skipped" | "held" | "digest" | "digested" | "throttled" | "capped";
                /**
                 * @description Only this channel.
                 * @example sms
                 */
                channel?: "in_app" | "email" | "sms" | "push" | "webhook";
                /**
                 * @description Only this recipient.
                 * @example 1f7b874d-fddb-4e44-babf-d868c49fc2ce
                 */
                user_id?: string;
                /**
                 * @description Only this notification's.
                 * @example 6ae98223-d6a7-4fb7-a874-27378e596f47
                 */
                notification_id?: string;
                /**
                 * @description Created at or after (RFC 3339).
                 * @example 2027-01-01T00:00:00Z
                 */
                created_gte?: string;
                /**
                 * @description Created at or before (RFC 3339).
                 * @example 2027-12-31T23:59:59Z
                 */
                created_lte?: string;
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of deliveries. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getDeliveryStats: {
        parameters: {
            query?: {
                /**
                 * @description RFC 3339.
                 * @example 2027-01-01T00:00:00Z
                 */
                since?: string;
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The counts. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeliveryStats"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    retryDelivery: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The delivery's id.
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The delivery, queued. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Delivery"];
                };
            };
            400: components["responses"]["BadRequestBody"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getUnsubscribePage: {
        parameters: {
            query: {
                /** @description The user the link was sent to. */
                user: string;
                /** @description The notification category the link turns off. */
                category: string;
                /**
                 * @description hex(HMAC-SHA256(key, user + "\n" + category)), the key derived from
                 *     `HERALD_UNSUBSCRIBE_SECRET` (or `HERALD_JWT_SECRET` when that is empty).
                 */
                sig: string;
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The page. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    "Content-Security-Policy": components["headers"]["Content-Security-Policy"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example <!DOCTYPE html>
                     *     <html lang="en"><head><title>Unsubscribe</title></head>
                     *     <body><form method="post" action="/api/v1/unsubscribe?..."><button>Unsubscribe</button></form></body></html>
                     */
                    "text/html": string;
                };
            };
            400: components["responses"]["BadRequest"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    unsubscribeOneClick: {
        parameters: {
            query: {
                /** @description The user the link was sent to. */
                user: string;
                /** @description The notification category the link turns off. */
                category: string;
                /**
                 * @description hex(HMAC-SHA256(key, user + "\n" + category)), the key derived from
                 *     `HERALD_UNSUBSCRIBE_SECRET` (or `HERALD_JWT_SECRET` when that is empty).
                 */
                sig: string;
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "List-Unsubscribe": "One-Click"
                 *     }
                 */
                "application/x-www-form-urlencoded": {
                    [key: string]: string;
                };
            };
        };
        responses: {
            /** @description E-mail of that category is off. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "object": "unsubscribe",
                     *       "category": "marketing",
                     *       "channel": "email",
                     *       "subscribed": false
                     *     }
                     */
                    "application/json": components["schemas"]["Unsubscribe"];
                };
            };
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    receiveSmsStatus: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /**
                 * @description base64 HMAC-SHA1 of the URL and the sorted form fields, keyed by the auth token.
                 * @example 0/KCTR6DLpKmkAf8muzZqo1nDgQ=
                 */
                "X-Twilio-Signature": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "MessageSid": "SM0123456789abcdef0123456789abcdef",
                 *       "MessageStatus": "delivered",
                 *       "AccountSid": "AC0123456789abcdef0123456789abcdef",
                 *       "To": "+14155550123",
                 *       "From": "+15005550006"
                 *     }
                 */
                "application/x-www-form-urlencoded": {
                    [key: string]: string;
                };
            };
        };
        responses: {
            /** @description Received (recorded, or not newer than what is recorded, or about an unknown message). */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    receiveInboundSms: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                /** @description base64 HMAC-SHA1 of the URL and the sorted form fields, keyed by the auth token. */
                "X-Twilio-Signature": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "From": "+14155550123",
                 *       "To": "+15005550006",
                 *       "Body": "STOP",
                 *       "MessageSid": "SM0123456789abcdef0123456789abcdef"
                 *     }
                 */
                "application/x-www-form-urlencoded": {
                    [key: string]: string;
                };
            };
        };
        responses: {
            /** @description Handled; the TwiML answer (a `<Message>` with the help text for HELP). */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    [name: string]: unknown;
                };
                content: {
                    /** @example <?xml version="1.0" encoding="UTF-8"?><Response><Message>Herald alerts: reply STOP to stop text messages, START to resume.</Message></Response> */
                    "application/xml": string;
                };
            };
            400: components["responses"]["BadRequest"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    receiveVonageReceipt: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "messageId": "0A0000000123ABCD1",
                 *       "status": "delivered",
                 *       "err-code": "0",
                 *       "msisdn": "447700900000",
                 *       "timestamp": "1764800000",
                 *       "nonce": "2b4c6d8e",
                 *       "sig": "6F0C2E5E2D0B3A1F0E9D8C7B6A5F4E3D2C1B0A99887766554433221100FFEEDD"
                 *     }
                 */
                "application/x-www-form-urlencoded": {
                    [key: string]: string;
                };
            };
        };
        responses: {
            /** @description Received (recorded, not newer, or about an unknown message). */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    receiveVonageInbound: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "msisdn": "14155550123",
                 *       "to": "447700900000",
                 *       "text": "HELP",
                 *       "timestamp": "1764800000",
                 *       "nonce": "2b4c6d8e",
                 *       "sig": "6F0C2E5E2D0B3A1F0E9D8C7B6A5F4E3D2C1B0A99887766554433221100FFEEDD"
                 *     }
                 */
                "application/x-www-form-urlencoded": {
                    [key: string]: string;
                };
            };
        };
        responses: {
            /** @description Handled (a keyword applied, or a text that is none). */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    receiveSendgridEvents: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
                "X-Twilio-Email-Event-Webhook-Signature": string;
                "X-Twilio-Email-Event-Webhook-Timestamp": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example [
                 *       {
                 *         "email": "gone@example.com",
                 *         "event": "bounce",
                 *         "type": "bounce",
                 *         "status": "5.1.1",
                 *         "reason": "550 5.1.1 The email account that you tried to reach does not exist",
                 *         "sg_event_id": "ZmFrZS1ldmVudC0x",
                 *         "timestamp": 1764800000
                 *       }
                 *     ]
                 */
                "application/json": ({
                    event: string;
                    email?: string;
                    type?: string;
                    reason?: string;
                    status?: string;
                    sg_event_id?: string;
                    delivery_id?: string;
                } & {
                    [key: string]: unknown;
                })[];
            };
        };
        responses: {
            /** @description Received; the undeliverable addresses are suppressed. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    receiveMailgunEvent: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "signature": {
                 *         "timestamp": "1764800000",
                 *         "token": "5f1c0a6b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f",
                 *         "signature": "0d6f8c0e4c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281"
                 *       },
                 *       "event-data": {
                 *         "event": "failed",
                 *         "severity": "permanent",
                 *         "recipient": "gone@example.com",
                 *         "id": "G9Bn5sl1TC6nu79C8C0bwg"
                 *       }
                 *     }
                 */
                "application/json": {
                    /** @description additionalProperties: Mailgun may add fields; they are ignored. */
                    signature: {
                        timestamp: string;
                        token: string;
                        signature: string;
                    } & {
                        [key: string]: unknown;
                    };
                } & {
                    [key: string]: unknown;
                };
            };
        };
        responses: {
            /** @description Received; an undeliverable address is suppressed. */
            204: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listReconciliations: {
        parameters: {
            query?: {
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of runs. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createReconciliation: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "since": "2026-01-01",
                 *       "until": "2026-01-02"
                 *     }
                 */
                "application/json": components["schemas"]["ReconciliationRequest"];
            };
        };
        responses: {
            /** @description The queued run. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReconciliationRun"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getReconciliation: {
        parameters: {
            query?: {
                /** @description Only items of this kind. */
                kind?: "missing_locally" | "missing_at_provider" | "amount_mismatch" | "status_mismatch" | "currency_mismatch";
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The run's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a41
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The run with its items. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReconciliationRun"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    syncPayment: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The payment's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The queued job. */
            202: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReconcileJob"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getPaymentSummary: {
        parameters: {
            query?: {
                /**
                 * @description Start of the period (RFC 3339, included).
                 * @example 2026-03-01T00:00:00Z
                 */
                from?: string;
                /**
                 * @description End of the period (RFC 3339, excluded).
                 * @example 2026-04-01T00:00:00Z
                 */
                to?: string;
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The figures. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PaymentSummary"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listDisputes: {
        parameters: {
            query?: {
                /**
                 * @description How many items to return (1-100).
                 * @example 20
                 */
                limit?: components["parameters"]["Limit"];
                /**
                 * @description The `id` of the last item of the previous page: the page starts right after it (lists
                 *     are newest first).
                 * @example 0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f
                 */
                starting_after?: components["parameters"]["StartingAfter"];
                /** @description Only disputes in this status. */
                status?: "warning_needs_response" | "warning_under_review" | "warning_closed" | "needs_response" | "under_review" | "won" | "lost";
            };
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of disputes. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["List"] & {
                        data?: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    submitDisputeEvidence: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Your id for this request (1-64 characters of `A-Z a-z 0-9 . _ : -`), echoed in the
                 *     response and logged. Invalid values are replaced by a generated UUID.
                 * @example mobile-7f3c2a
                 */
                "X-Request-Id"?: components["parameters"]["RequestId"];
            };
            path: {
                /**
                 * @description The dispute's id (anything that is not a UUID is a 404).
                 * @example 6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a42
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "text": "Delivered on 3 May to the customer's address, signed for."
                 *     }
                 */
                "application/json": components["schemas"]["DisputeEvidence"];
            };
        };
        responses: {
            /** @description The dispute, under review. */
            200: {
                headers: {
                    "X-Request-Id": components["headers"]["X-Request-Id"];
                    "X-Content-Type-Options": components["headers"]["X-Content-Type-Options"];
                    "Cache-Control": components["headers"]["Cache-Control-No-Store"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Dispute"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["UnprocessableEntity"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
}
