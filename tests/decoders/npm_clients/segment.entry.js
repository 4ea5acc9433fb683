// Drives @segment/analytics-next the way a site's tag does. record.py loads the bundle (dist/segment.js)
// into a page and calls window.eventpathSegment(scenario); every request the client makes is captured.
import { AnalyticsBrowser } from '@segment/analytics-next'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

window.eventpathSegment = async function run(scenario) {
  const [analytics] = await AnalyticsBrowser.load({ writeKey: scenario.writeKey })
  await analytics.page('Checkout', { path_label: 'checkout' })
  await analytics.identify('user-4711', { email: 'jane.doe@example.com', phone: '+15555550123' })
  await analytics.track('Order Completed', {
    order_id: 'ORD-1001',
    revenue: 59.9,
    currency: 'EUR',
    products: [{ product_id: 'SKU-1', price: 29.95, quantity: 2 }],
  })
  await analytics.track('Add to Cart', { value: 12.5, currency: 'USD' })
  await analytics.group('acme-inc', { name: 'Acme Inc' })
  await analytics.alias('user-4711-alias')
  // Batching (when the settings ask for it) flushes on a timer; give it time to send.
  await sleep(scenario.settleMs || 300)
  return 'done'
}
