// Drives @amplitude/analytics-browser (Browser SDK 2) the way a site's tag does. record.py loads the bundle
// (dist/amplitude.js) into a page and calls window.eventpathAmplitude(scenario); every request the client
// makes is captured. Default tracking sends the page view, the session start and the attribution identify
// (UTMs and click IDs of the landing URL) itself; remote configuration is off, so nothing is fetched from
// Amplitude before the events.
import * as amplitude from '@amplitude/analytics-browser'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

window.eventpathAmplitude = async function run(scenario) {
  await amplitude.init(scenario.apiKey, {
    logLevel: amplitude.Types.LogLevel.None,
    fetchRemoteConfig: false,
    enableDiagnostics: false,
    autocapture: {
      attribution: true,
      pageViews: true,
      sessions: true,
      formInteractions: false,
      fileDownloads: false,
      elementInteractions: false,
      frustrationInteractions: false,
      webVitals: false,
      networkTracking: false,
      pageUrlEnrichment: false,
    },
    ...(scenario.options || {}),
  }).promise
  amplitude.setUserId('user-4711')
  amplitude.identify(new amplitude.Identify().set('email', 'jane.doe@example.com').set('phone', '+15555550123'))
  // The HTTP API's revenue fields, on a custom event...
  amplitude.track(
    'Order Completed',
    { order_id: 'ORD-1001', products: [{ product_id: 'SKU-1', price: 29.95, quantity: 2 }] },
    { revenue: 59.9, price: 29.95, quantity: 2, productId: 'SKU-1', revenueType: 'purchase', currency: 'EUR' },
  )
  // ...and the Revenue API (event revenue_amount, $-prefixed event properties).
  amplitude.revenue(
    new amplitude.Revenue()
      .setProductId('SKU-1')
      .setPrice(29.95)
      .setQuantity(2)
      .setRevenue(59.9)
      .setRevenueType('purchase')
      .setCurrency('EUR')
      .setEventProperties({ order_id: 'ORD-1001' }),
  )
  amplitude.track('Add to Cart', { value: 12.5, currency: 'USD' })
  amplitude.setGroup('company', 'acme-inc')
  await amplitude.flush().promise
  await sleep(scenario.settleMs || 300)
  return 'done'
}
