'use strict';
// autocannon request generators for the credential routes, which cannot replay one fixed request.

/** Logins round-robin over the pool; each answer's refresh token goes to `harvest` (up to 2 000). */
function loginRequests(emails, password, harvest = []) {
  let next = 0;
  return [
    {
      method: 'POST',
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ email: emails[next++ % emails.length], password }) }),
      onResponse: (status, body) => {
        if (status === 200 && harvest.length < 2_000) harvest.push(JSON.parse(body).refreshToken);
      },
    },
  ];
}

/**
 * Refresh tokens rotate: each may be presented once. A shared queue hands every request an unused
 * token and takes back its successor (autocannon resets per-connection context after each request,
 * so a connection cannot keep its own chain). With at least one token per connection the queue
 * never runs dry; if it does, the request is sent with a dud token and counts as an error.
 */
function refreshRequests(pool) {
  return [
    {
      method: 'POST',
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ refreshToken: pool.shift() || 'exhausted' }) }),
      onResponse: (status, body) => {
        if (status === 200) pool.push(JSON.parse(body).refreshToken);
      },
    },
  ];
}

module.exports = { loginRequests, refreshRequests };
