'use strict';
// What the server says about itself on /metrics (Prometheus text): its own count of 5xx answers,
// and its event-loop delay. prom-client resets the event-loop histogram on every scrape, so a
// scrape before a scenario and one after give the delay during that scenario.
const LAG_RESOLUTION_S = 0.01; // prom-client's monitorEventLoopDelay resolution: an idle loop reads 10 ms

async function scrape(baseUrl) {
  const response = await globalThis.fetch(`${baseUrl}/metrics`);
  if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

function labelsOf(text) {
  return Object.fromEntries([...text.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

/** 5xx answers by "METHOD route status" (bastion_http_requests_total). */
function errors5xx(text) {
  const byRoute = {};
  for (const match of text.matchAll(/^bastion_http_requests_total\{([^}]*)\} (\d+)/gm)) {
    const labels = labelsOf(match[1]);
    if (Number(labels.status) >= 500) byRoute[`${labels.method} ${labels.route} ${labels.status}`] = Number(match[2]);
  }
  return byRoute;
}

/** Event-loop delay since the previous scrape, in ms beyond the sampling interval. */
function eventLoopLag(text) {
  const read = (name) => {
    const match = text.match(new RegExp(`^bastion_nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? ([0-9.e+-]+)`, 'm'));
    return match ? Math.round(Math.max(0, Number(match[1]) - LAG_RESOLUTION_S) * 1e5) / 100 : null;
  };
  return { p50: read('p50'), p99: read('p99'), max: read('max') };
}

module.exports = { errors5xx, eventLoopLag, scrape };
