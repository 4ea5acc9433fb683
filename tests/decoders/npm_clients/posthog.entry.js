// Drives posthog-js the way a site's tag does. record.py loads the bundle (dist/posthog.js) into a page and
// calls window.eventpathPosthog(scenario); every request the client makes is captured. The client sends
// the page view itself; its flags call (/flags/) and remote config are answered by record.py. Session
// recording, surveys and autocapture are off, so what it sends is the calls below.
import posthog from 'posthog-js'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

window.eventpathPosthog = async function run(scenario) {
  await new Promise((resolve) => {
    posthog.init(scenario.token, {
      api_host: scenario.apiHost,
      // posthog-js drops every event from a "HeadlessChrome" user agent as a bot; this is its documented
      // switch for end-to-end tests.
      opt_out_useragent_filter: true,
      autocapture: false,
      capture_pageview: true,
      capture_pageleave: false,
      disable_session_recording: true,
      disable_surveys: true,
      person_profiles: 'identified_only',
      request_queue_config: { flush_interval_ms: 300 },
      loaded: resolve,
      ...(scenario.config || {}),
    })
  })
  posthog.identify('user-4711', { email: 'jane.doe@example.com', phone: '+15555550123' })
  posthog.capture('Order Completed', {
    order_id: 'ORD-1001',
    revenue: 59.9,
    currency: 'EUR',
    products: [{ product_id: 'SKU-1', price: 29.95, quantity: 2 }],
  })
  posthog.capture('Add to Cart', { value: 12.5, currency: 'USD' })
  posthog.group('company', 'acme-inc', { name: 'Acme Inc' })
  posthog.alias('user-4711-alias')
  await sleep(scenario.settleMs || 1200)
  return 'done'
}
