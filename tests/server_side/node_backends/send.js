// A Node backend's calls made with a vendor's own SDK, once, then exit: `node send.js SDK TOKEN`.
// SDK: "meta" (facebook-nodejs-business-sdk: a Conversions API purchase) or "rudderstack"
// (@rudderstack/rudder-sdk-node: an Order Completed to its default data plane). TOKEN rides in the order
// ID, so a test finds the request among others. Nothing here knows about eventpath: both SDKs send with
// axios, which reads HTTPS_PROXY, and Node trusts the harness CA through NODE_EXTRA_CA_CERTS.
'use strict';

const [sdk, token] = process.argv.slice(2);

async function meta() {
  const bizSdk = require('facebook-nodejs-business-sdk');
  const { ServerEvent, EventRequest, UserData, CustomData, FacebookAdsApi } = bizSdk;
  FacebookAdsApi.init('node-sdk-test-token');
  const user = new UserData()
    .setEmails(['Joe@Example.com']) // the SDK normalises and hashes
    .setClientIpAddress('203.0.113.7')
    .setClientUserAgent('Mozilla/5.0 (Linux; Android 14)')
    .setFbc('fb.1.1554763741205.IwAR2nodeSdkTestFbclid');
  const custom = new CustomData().setCurrency('eur').setValue(64.5).setOrderId(token);
  const event = new ServerEvent()
    .setEventName('Purchase')
    .setEventTime(Math.floor(Date.now() / 1000))
    .setEventId(`evt-${token}`)
    .setEventSourceUrl('https://shop.example/thank-you')
    .setActionSource('website')
    .setUserData(user)
    .setCustomData(custom);
  const reply = await new EventRequest('node-sdk-test-token', '1402533720264604').setEvents([event]).execute();
  if (reply.events_received !== 1) throw new Error(`meta: ${JSON.stringify(reply)}`);
}

async function rudderstack() {
  const Analytics = require('@rudderstack/rudder-sdk-node');
  const client = new Analytics('rudder-node-sdk-write-key', { dataPlaneUrl: 'https://hosted.rudderlabs.com', flushAt: 1 });
  client.track({ userId: 'user-42', event: 'Order Completed', properties: { order_id: token, revenue: 42, currency: 'USD' } });
  await new Promise((resolve, reject) => client.flush((error) => (error ? reject(error) : resolve())));
}

const calls = { meta, rudderstack };
calls[sdk]().then(
  () => { console.log(`${sdk}: sent`); process.exit(0); },
  (error) => { console.error(`${sdk}: ${error && (error.stack || error.message || error)}`); process.exit(1); },
);
