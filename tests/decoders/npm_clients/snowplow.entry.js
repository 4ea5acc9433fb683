// Drives @snowplow/browser-tracker the way a site's tag does. record.py loads the bundle
// (dist/snowplow.js) into a page and calls window.eventpathSnowplow(scenario).
import {
  newTracker,
  setUserId,
  trackPageView,
  trackStructEvent,
  trackSelfDescribingEvent,
  enableActivityTracking,
  flushBuffer,
} from '@snowplow/browser-tracker'
import { SnowplowEcommercePlugin, trackTransaction } from '@snowplow/browser-plugin-snowplow-ecommerce'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

window.eventpathSnowplow = async function run(scenario) {
  const name = scenario.name
  newTracker(name, scenario.collector, {
    appId: scenario.appId,
    eventMethod: scenario.eventMethod,
    postPath: scenario.postPath,
    bufferSize: scenario.bufferSize || 1,
    encodeBase64: scenario.encodeBase64,
    plugins: [SnowplowEcommercePlugin()],
    contexts: { webPage: true },
  })
  const trackers = [name]
  if (scenario.activity) {
    enableActivityTracking({ minimumVisitLength: 1, heartbeatDelay: 1 }, trackers)
  }
  setUserId('jane.doe@example.com', trackers)
  trackPageView({ title: 'Checkout' }, trackers)
  trackStructEvent({ category: 'checkout', action: 'add-to-basket', label: 'SKU-1', property: 'red', value: 29.95 }, trackers)
  trackSelfDescribingEvent({
    event: {
      schema: 'iglu:com.example-shop/newsletter_signup/jsonschema/1-0-0',
      data: { list: 'weekly', value: 0 },
    },
  }, trackers)
  trackTransaction({
    transaction_id: 'ORD-2002',
    revenue: 59.9,
    currency: 'EUR',
    payment_method: 'card',
    total_quantity: 2,
    products: [{ id: 'SKU-1', name: 'Red shirt', price: 29.95, currency: 'EUR', quantity: 2 }],
  }, trackers)
  if (scenario.activity) {
    await sleep(2500) // page pings need activity (record.py moves the mouse) and the heartbeat
  }
  flushBuffer({}, trackers)
  await sleep(scenario.settleMs || 500)
  return 'done'
}
