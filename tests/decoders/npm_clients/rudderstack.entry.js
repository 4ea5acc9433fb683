// Drives @rudderstack/analytics-js (v3) the way a site's tag does. record.py loads the bundle
// (dist/rudderstack.js) into a page and calls window.eventpathRudderstack(scenario); every request the
// client makes is captured. The `bundled` build carries its plugins (XhrQueue and the rest) inside the
// bundle, so the SDK loads none from RudderStack's CDN; its source config (fetched from
// api.rudderstack.com) is answered by record.py.
import { RudderAnalytics } from '@rudderstack/analytics-js/bundled'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

window.eventpathRudderstack = async function run(scenario) {
  const analytics = new RudderAnalytics()
  const loadOptions = {
    logLevel: 'ERROR',
    // No device-mode destinations: nothing is loaded from destSDKBaseURL / pluginsSDKBaseURL.
    loadIntegration: false,
    destSDKBaseURL: 'https://cdn.rudderlabs.invalid/v3/modern/js-integrations',
    pluginsSDKBaseURL: 'https://cdn.rudderlabs.invalid/v3/modern/plugins',
    ...(scenario.loadOptions || {}),
  }
  await new Promise((resolve) => {
    analytics.ready(resolve)
    analytics.load(scenario.writeKey, scenario.dataPlaneUrl, loadOptions)
  })
  analytics.page('Checkout', { path_label: 'checkout' })
  analytics.identify('user-4711', { email: 'jane.doe@example.com', phone: '+15555550123' })
  analytics.track('Order Completed', {
    order_id: 'ORD-1001',
    revenue: 59.9,
    currency: 'EUR',
    products: [{ product_id: 'SKU-1', price: 29.95, quantity: 2 }],
  })
  analytics.track('Add to Cart', { value: 12.5, currency: 'USD' })
  analytics.group('acme-inc', { name: 'Acme Inc' })
  analytics.alias('user-4711-alias')
  // The XHR queue sends from a timer (and batches, when asked to, on size or interval): let it drain.
  await sleep(scenario.settleMs || 1500)
  return 'done'
}
