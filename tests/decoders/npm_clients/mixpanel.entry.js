// Drives mixpanel-browser the way a site's tag does. record.py loads the bundle (dist/mixpanel.js) into a
// page and calls window.eventpathMixpanel(scenario); every request the client makes is captured.
// track_pageview sends the page view itself; the batcher (on by default) sends on its flush interval.
import mixpanel from 'mixpanel-browser'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

window.eventpathMixpanel = async function run(scenario) {
  mixpanel.init(scenario.token, {
    track_pageview: true,
    persistence: 'localStorage',
    batch_flush_interval_ms: 500,
    ...(scenario.config || {}),
  })
  mixpanel.identify('user-4711')
  mixpanel.people.set({ $email: 'jane.doe@example.com', $phone: '+15555550123' })
  mixpanel.track('Order Completed', {
    order_id: 'ORD-1001',
    revenue: 59.9,
    currency: 'EUR',
    products: [{ product_id: 'SKU-1', price: 29.95, quantity: 2 }],
  })
  mixpanel.track('Add to Cart', { value: 12.5, currency: 'USD' })
  mixpanel.set_group('company', 'acme-inc')
  mixpanel.get_group('company', 'acme-inc').set({ name: 'Acme Inc' })
  mixpanel.alias('user-4711-alias')
  await sleep(scenario.settleMs || 1500)
  return 'done'
}
