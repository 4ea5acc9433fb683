/* eventpath demo shop: a miniature tag stack that sends each vendor's REAL wire format.
 *
 * - Consent banner (a tiny CMP) + Google consent mode v2 in "advanced" mode: GA4 and Google Ads always
 *   send, cookieless (gcs=G100) until consent is granted; Meta, TikTok and UET wait (queued) for accept.
 * - Click-ID cookies written the way the vendors' own tags write them, on .shop.demo.test for 90 days.
 * - window.demoTags.track(name, data) maps one shop event to every vendor's event.
 *
 * window.EVENTPATH_DEMO (rendered by the server) says which page this is and which seed bugs are on.
 */
(function () {
  'use strict';
  var cfg = window.EVENTPATH_DEMO || {};
  var ids = cfg.ids || {};
  var bugs = {};
  (cfg.bugs || []).forEach(function (name) { bugs[name] = true; });

  var CLICK_ID_DAYS = 90;
  var GA4_ENDPOINT = 'https://region1.google-analytics.com/g/collect';
  var GTM_BUILD = '45je4ca0v9101234567za200';

  // ---------------------------------------------------------------- small helpers
  function nowSec() { return Math.floor(Date.now() / 1000); }
  function randomDigits(n) {
    var s = String(1 + Math.floor(Math.random() * 9));
    while (s.length < n) s += Math.floor(Math.random() * 10);
    return s;
  }
  function randomHex(n) {
    var s = '';
    while (s.length < n) s += Math.floor(Math.random() * 16).toString(16);
    return s;
  }
  function randomToken(n) {
    var abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    var s = '';
    while (s.length < n) s += abc.charAt(Math.floor(Math.random() * abc.length));
    return s;
  }
  function uuid() {
    var h = randomHex(32);
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-4' + h.slice(13, 16) + '-' +
      '89ab'.charAt(Math.floor(Math.random() * 4)) + h.slice(17, 20) + '-' + h.slice(20, 32);
  }
  function query(params) {
    return Object.keys(params).filter(function (k) {
      return params[k] !== undefined && params[k] !== null;
    }).map(function (k) {
      return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]);
    }).join('&');
  }
  function urlParam(name) { return new URL(location.href).searchParams.get(name); }
  function cookieDomain() {
    return /(^|\.)shop\.demo\.test$/.test(location.hostname) ? '; domain=.shop.demo.test' : '';
  }
  function getCookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      if (parts[i].slice(0, eq) === name) return parts[i].slice(eq + 1);
    }
    return null;
  }
  function setCookie(name, value, days) {
    document.cookie = name + '=' + value + cookieDomain() + '; path=/; max-age=' +
      Math.round(days * 86400) + '; SameSite=Lax';
  }
  var keepAlive = [];  // image pings must not be garbage-collected before they are sent
  function imagePing(url) {
    var img = new Image(1, 1);
    img.src = url;
    keepAlive.push(img);
  }
  function beacon(url, body) {
    var queued = body === undefined ? navigator.sendBeacon(url) : navigator.sendBeacon(url, body);
    if (!queued) fetch(url, { method: 'POST', body: body || '', keepalive: true, mode: 'no-cors', credentials: 'include' });
  }

  // ---------------------------------------------------------------- consent
  // Google consent mode v2. gcs = 'G1' + ad_storage + analytics_storage (1 granted, 0 denied).
  // gcd = '13' + A + '3' + B + '3' + C + '3' + D + '5l1', where A..D are ad_storage, analytics_storage,
  // ad_user_data and ad_personalization, each one letter saying how its state came about:
  //   l  not set                              p  denied by default, no update
  //   q  denied by default and by update      t  granted by default, no update
  //   r  denied by default, granted by update m  denied by update, no default
  //   n  granted by update, no default        u  granted by default, denied by update
  //   v  granted by default and by update
  // This shop's default is denied for all four, so it sends 13p3p3p3p5l1 before the banner is answered,
  // 13r3r3r3r5l1 after accept and 13q3q3q3q5l1 after reject (as real advanced-mode sites do).
  var CONSENT_COOKIE = 'shop_consent';
  var SIGNALS = ['ad_storage', 'analytics_storage', 'ad_user_data', 'ad_personalization'];
  var consent = getCookie(CONSENT_COOKIE);  // 'granted' | 'denied' | null = not answered yet
  var google = { defaults: {}, updates: {} };

  window.dataLayer = window.dataLayer || [];
  function gtag() {
    window.dataLayer.push(arguments);
    if (arguments[0] === 'consent') {
      var target = arguments[1] === 'default' ? google.defaults : google.updates;
      var states = arguments[2] || {};
      SIGNALS.forEach(function (s) { if (states[s]) target[s] = states[s]; });
    }
  }
  window.gtag = gtag;

  function signal(name) { return google.updates[name] || google.defaults[name] || 'denied'; }
  function gcs() {
    return 'G1' + (signal('ad_storage') === 'granted' ? '1' : '0') +
      (signal('analytics_storage') === 'granted' ? '1' : '0');
  }
  function gcdLetter(name) {
    var def = google.defaults[name], upd = google.updates[name];
    if (!def && !upd) return 'l';
    if (!def) return upd === 'granted' ? 'n' : 'm';
    if (!upd) return def === 'granted' ? 't' : 'p';
    if (def === 'granted') return upd === 'granted' ? 'v' : 'u';
    return upd === 'granted' ? 'r' : 'q';
  }
  function gcd() { return '13' + SIGNALS.map(gcdLetter).join('3') + '5l1'; }
  function googleConsentParams() {
    var personalised = signal('ad_personalization') === 'granted';
    return { gcs: gcs(), gcd: gcd(), dma: 0, npa: personalised ? 0 : 1, pscdl: personalised ? 'noapi' : 'denied' };
  }

  gtag('consent', 'default', {
    ad_storage: 'denied', analytics_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied'
  });
  if (consent) gtag('consent', 'update', allSignals(consent));

  function allSignals(choice) {
    var state = choice === 'granted' ? 'granted' : 'denied';
    return { ad_storage: state, analytics_storage: state, ad_user_data: state, ad_personalization: state };
  }

  // Meta, TikTok and UET wait for accept; with tags_before_consent they do not wait.
  var adQueue = [];
  function adsAllowed() { return consent === 'granted' || !!bugs.tags_before_consent; }
  function whenAdsAllowed(fire) {
    if (adsAllowed()) fire();
    else if (consent === null) adQueue.push(fire);
  }

  function answerConsent(choice) {
    consent = choice;
    setCookie(CONSENT_COOKIE, choice, 180);
    gtag('consent', 'update', allSignals(choice));
    hideBanner();
    if (choice === 'granted') {
      storeGoogleIds();
      storeAdIds();
      var queued = adQueue;
      adQueue = [];
      queued.forEach(function (fire) { fire(); });
    } else {
      adQueue = [];
    }
  }

  function hideBanner() {
    var banner = document.getElementById('consent-banner');
    if (banner) banner.hidden = true;
  }
  document.addEventListener('DOMContentLoaded', function () {
    var banner = document.getElementById('consent-banner');
    if (!banner) return;
    banner.hidden = consent !== null;
    document.getElementById('consent-accept').addEventListener('click', function () { answerConsent('granted'); });
    document.getElementById('consent-reject').addEventListener('click', function () { answerConsent('denied'); });
    // Closing answers nothing: the banner comes back on the next page and consent stays denied.
    document.getElementById('consent-close').addEventListener('click', hideBanner);
  });

  // ---------------------------------------------------------------- identifier cookies
  function storeGoogleIds() {
    // gtag's conversion linker, once ad_storage is granted: _gcl_aw = GCL.<seconds>.<gclid>.
    var gclid = urlParam('gclid');
    if (gclid && !bugs.click_ids_not_stored) setCookie('_gcl_aw', 'GCL.' + nowSec() + '.' + gclid, CLICK_ID_DAYS);
    if (!getCookie('_gcl_au')) setCookie('_gcl_au', '1.1.' + randomDigits(10) + '.' + nowSec(), CLICK_ID_DAYS);
  }
  function storeAdIds() {
    var fbclid = urlParam('fbclid'), ttclid = urlParam('ttclid'), msclkid = urlParam('msclkid');
    if (!bugs.click_ids_not_stored) {
      if (fbclid) setCookie('_fbc', 'fb.1.' + Date.now() + '.' + fbclid, CLICK_ID_DAYS);
      if (ttclid) setCookie('ttclid', ttclid, CLICK_ID_DAYS);
      if (msclkid) setCookie('_uetmsclkid', '_uet' + msclkid, CLICK_ID_DAYS);
    }
    if (!getCookie('_fbp')) setCookie('_fbp', 'fb.1.' + Date.now() + '.' + randomDigits(10), CLICK_ID_DAYS);
    if (!getCookie('_ttp')) setCookie('_ttp', randomToken(27), 390);
    if (!getCookie('_uetvid')) setCookie('_uetvid', randomHex(32), 390);
    if (!getCookie('_uetsid')) setCookie('_uetsid', randomHex(32), 1);
  }
  if (signal('ad_storage') === 'granted') storeGoogleIds();
  if (adsAllowed()) storeAdIds();

  // ---------------------------------------------------------------- GA4 (/g/collect, protocol v=2)
  var ga = { hits: 0, p: String(Date.now()), lastHit: Date.now(), batch: [], timer: null, cookieless: null };
  ga.cookieless = { cid: randomDigits(9) + '.' + nowSec(), sid: String(nowSec()) };

  function gaSession() {
    if (signal('analytics_storage') !== 'granted') {
      // Cookieless ping: nothing persists, so every page looks like a new visitor and session.
      return { cid: ga.cookieless.cid, sid: ga.cookieless.sid, newVisitor: true, newSession: true };
    }
    var client = getCookie('_ga'), newVisitor = !client;
    if (!client) { client = 'GA1.3.' + randomDigits(9) + '.' + nowSec(); setCookie('_ga', client, 400); }
    var sessionName = '_ga_' + ids.ga4.replace(/^G-/, '');
    var session = getCookie(sessionName), newSession = !session;
    var sid = session ? session.split('.')[2] : String(nowSec());
    setCookie(sessionName, 'GS1.1.' + sid + '.1.1.' + nowSec() + '.0.0.0', 400);
    return { cid: client.split('.').slice(2).join('.'), sid: sid, newVisitor: newVisitor, newSession: newSession };
  }

  function gaItem(item) {
    return ['id' + item.sku, 'nm' + item.name, 'br' + item.brand, 'ca' + item.category,
      'pr' + item.price, 'qt' + item.quantity].filter(function (part) {
      return !/undefined$/.test(part);
    }).join('~');
  }

  function gaEventParams(name, data) {
    var params = { en: name };
    var now = Date.now();
    if (name !== 'page_view') params._et = Math.max(1, now - ga.lastHit);
    ga.lastHit = now;
    data = data || {};
    if (data.currency) params.cu = data.currency;
    if (data.transaction_id) params['ep.transaction_id'] = data.transaction_id;
    if (typeof data.value === 'number') params['epn.value'] = data.value;
    (data.items || []).forEach(function (item, i) { params['pr' + (i + 1)] = gaItem(item); });
    return params;
  }

  function gaSend(events) {
    var session = gaSession();
    var shared = Object.assign({ v: 2, tid: ids.ga4, gtm: GTM_BUILD, _p: ga.p }, googleConsentParams(), {
      cid: session.cid, ul: (navigator.language || 'en-us').toLowerCase(), sr: screen.width + 'x' + screen.height,
      frm: 0, _s: ++ga.hits, sid: session.sid, sct: 1, seg: 1,
      dl: location.href, dr: document.referrer || undefined, dt: document.title
    });
    if (events[0].en === 'page_view' && session.newVisitor) events[0]._fv = 1;
    if (events[0].en === 'page_view' && session.newSession) { events[0]._nsi = 1; events[0]._ss = 1; }
    if (events.length === 1) {
      beacon(GA4_ENDPOINT + '?' + query(Object.assign(shared, events[0])));
    } else {
      // A batch: shared parameters in the URL, one event per body line.
      beacon(GA4_ENDPOINT + '?' + query(shared), events.map(query).join('\r\n'));
    }
  }

  function gaEvent(name, data, batched) {
    var params = gaEventParams(name, data);
    if (!batched) { gaSend([params]); return; }
    // Interaction events wait a moment so several can go in one request, as gtag does.
    ga.batch.push(params);
    clearTimeout(ga.timer);
    ga.timer = setTimeout(gaFlush, 5000);
  }

  function gaFlush() {
    clearTimeout(ga.timer);
    if (!ga.batch.length) return;
    var events = ga.batch;
    ga.batch = [];
    gaSend(events);
  }

  window.addEventListener('pagehide', function () {
    gaFlush();
    gaSend([{ en: 'user_engagement', _et: Math.max(1, Date.now() - ga.lastHit) }]);
  });

  // ---------------------------------------------------------------- Google Ads conversion
  function adsConversion(data, emailHash) {
    var aw = getCookie('_gcl_aw'), au = getCookie('_gcl_au');
    var params = Object.assign({
      random: Date.now(), cv: 11, fst: Date.now(), bg: 'ffffff', guid: 'ON', async: 1, gtm: GTM_BUILD
    }, googleConsentParams(), {
      frm: 0, label: ids.ads_purchase_label, value: data.value, currency_code: data.currency,
      oid: data.transaction_id, gclaw: aw ? aw.split('.').slice(2).join('.') : undefined,
      auid: au ? au.split('.').slice(2).join('.') : undefined,
      em: emailHash ? 'tv.1~em.' + emailHash : undefined,
      url: location.href, ref: document.referrer || undefined, tiba: document.title,
      hn: 'www.googleadservices.com'
    });
    imagePing('https://www.googleadservices.com/pagead/conversion/' + ids.ads_conversion_id + '/?' + query(params));
  }

  // ---------------------------------------------------------------- Meta Pixel (/tr image pings)
  var meta = { count: 0, init: Date.now() };
  function metaEvent(name, data, eventId, email) {
    whenAdsAllowed(function () {
      var params = {
        id: ids.meta_pixel, ev: name, dl: location.href, rl: document.referrer, if: false, ts: Date.now(),
        sw: screen.width, sh: screen.height, v: '2.9.156', r: 'stable', ec: meta.count++, o: 4124,
        fbp: getCookie('_fbp') || undefined, fbc: getCookie('_fbc') || undefined, cs_est: true,
        eid: eventId, it: meta.init, coo: false, rqm: 'GET'
      };
      if (data) {
        if (typeof data.value === 'number') params['cd[value]'] = data.value;
        if (data.currency) params['cd[currency]'] = data.currency;
        if (data.items) {
          params['cd[content_ids]'] = JSON.stringify(data.items.map(function (i) { return i.sku; }));
          params['cd[content_type]'] = 'product';
          params['cd[num_items]'] = data.items.reduce(function (n, i) { return n + i.quantity; }, 0);
        }
        if (data.transaction_id) params['cd[order_id]'] = data.transaction_id;
      }
      if (email) params['ud[em]'] = email;
      imagePing('https://www.facebook.com/tr/?' + query(params));
    });
  }

  // ---------------------------------------------------------------- TikTok pixel (/api/v2/pixel JSON)
  var tiktok = { session: Date.now() + '::' + randomToken(20), pageview: 'pageId-' + Date.now() + '-' + randomDigits(13) };
  function tiktokEvent(name, data, eventId) {
    whenAdsAllowed(function () {
      var properties = {};
      if (data) {
        if (typeof data.value === 'number') properties.value = data.value;
        if (data.currency) properties.currency = data.currency;
        if (data.items) {
          properties.content_type = 'product';
          properties.contents = data.items.map(function (i) {
            return { content_id: i.sku, content_name: i.name, price: i.price, quantity: i.quantity };
          });
        }
        if (data.transaction_id) properties.order_id = data.transaction_id;
      }
      var body = {
        event: name,
        message_id: 'messageId-' + Date.now() + '-' + randomDigits(13) + '-' + ids.tiktok_pixel,
        event_id: eventId,
        is_onsite: false,
        timestamp: new Date().toISOString(),
        context: {
          ad: { sdk_env: 'external', jsb_status: 2, callback: getCookie('ttclid') || urlParam('ttclid') || '' },
          user: { anonymous_id: getCookie('_ttp') || '' },
          pixel: { code: ids.tiktok_pixel },
          page: { url: location.href, referrer: document.referrer },
          library: { name: 'pixel.js', version: '2.2.1' },
          device: { platform: 'pc' },
          session_id: tiktok.session,
          pageview_id: tiktok.pageview,
          variation_id: 'default',
          userAgent: navigator.userAgent
        },
        _inspection: {},
        properties: properties
      };
      beacon('https://analytics.tiktok.com/api/v2/pixel', JSON.stringify(body));
    });
  }

  // ---------------------------------------------------------------- Microsoft UET (bat.bing.com)
  var uet = { mid: uuid(), lt: Math.round(performance.now()) };
  function uetEvent(fields) {
    whenAdsAllowed(function () {
      var stored = getCookie('_uetmsclkid');
      var params = Object.assign({
        ti: ids.uet, tm: 'gtm002', Ver: 2, mid: uet.mid, bo: 1,
        sid: (getCookie('_uetsid') || randomHex(32)).slice(0, 32), vid: (getCookie('_uetvid') || randomHex(32)).slice(0, 32),
        vids: 0, msclkid: stored ? stored.replace(/^_uet/, '') : (urlParam('msclkid') || 'N'),
        pi: 918639831, lg: navigator.language, sw: screen.width, sh: screen.height, sc: 24,
        tl: document.title, p: location.href, r: document.referrer, lt: uet.lt,
        asc: consent === 'granted' ? 'G' : 'D', sv: 1, rn: randomDigits(6)
      }, fields);
      imagePing('https://bat.bing.com/action/0?' + query(params));
    });
  }

  // ---------------------------------------------------------------- one shop event -> every vendor
  function purchase(order) {
    var data = Object.assign({}, order);
    if (bugs.missing_value) delete data.value;
    if (bugs.missing_currency) delete data.currency;
    var emailHash = data.email ? window.sha256Hex(data.email.trim().toLowerCase()) : undefined;
    gaEvent('purchase', data);
    adsConversion(data, emailHash);
    if (!bugs.missing_tag) {
      metaEvent('Purchase', data, order.event_id, bugs.raw_email_in_hit ? data.email : emailHash);
    }
    tiktokEvent('CompletePayment', data, order.event_id);
    uetEvent({ evt: 'custom', ea: 'purchase', ec: 'ecommerce', gv: data.value, gc: data.currency });
  }

  function track(name, data) {
    data = data || {};
    var eventId = data.event_id || uuid();
    switch (name) {
      case 'page_view':
        gaEvent('page_view');
        metaEvent('PageView', null, uuid());
        tiktokEvent('Pageview', null, uuid());
        uetEvent({ evt: 'pageLoad' });
        break;
      case 'view_item':
        gaEvent('view_item', data);
        metaEvent('ViewContent', data, eventId);
        tiktokEvent('ViewContent', data, eventId);
        break;
      case 'add_to_cart':
        gaEvent('add_to_cart', data, true);
        metaEvent('AddToCart', data, eventId);
        tiktokEvent('AddToCart', data, eventId);
        break;
      case 'begin_checkout':
        gaEvent('begin_checkout', data, true);
        metaEvent('InitiateCheckout', data, eventId);
        tiktokEvent('InitiateCheckout', data, eventId);
        break;
      case 'purchase':
        purchase(data);
        break;
      case 'generate_lead':
        var emailHash = data.email ? window.sha256Hex(data.email.trim().toLowerCase()) : undefined;
        gaEvent('generate_lead', { value: data.value, currency: data.currency });
        metaEvent('Lead', { value: data.value, currency: data.currency }, eventId, emailHash);
        tiktokEvent('SubmitForm', null, eventId);
        uetEvent({ evt: 'custom', ea: 'submit_lead_form', ec: 'lead' });
        break;
    }
  }

  window.demoTags = {
    track: track,
    flush: gaFlush,
    consent: function () { return consent; },
    answerConsent: answerConsent,
    uuid: uuid,
    getCookie: getCookie
  };
})();
