/* eventpath demo shop: page behaviour (cart, checkout, thank-you, lead form) and when each tag fires.
 * Seed bugs that change WHEN tags fire (wrong_trigger, duplicate_trigger, lead_form_without_click_id)
 * live here; bugs that change WHAT a tag sends live in tags.js. */
(function () {
  'use strict';
  var cfg = window.EVENTPATH_DEMO || {};
  var tags = window.demoTags;
  var bugs = {};
  (cfg.bugs || []).forEach(function (name) { bugs[name] = true; });
  var CART_KEY = 'demo_cart';
  var TRACKED_KEY = 'demo_tracked_orders';

  function apiBase() {
    // The backend is its own host next to the site; on any other host name the site serves it too.
    if (!/(^|\.)shop\.demo\.test$/.test(location.hostname)) return location.origin;
    return location.protocol + '//api.shop.demo.test' + (location.port ? ':' + location.port : '');
  }
  function byId(id) { return document.getElementById(id); }
  function readJson(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }

  // ---------------------------------------------------------------- cart
  function cartLines() {
    return readJson(CART_KEY, []).filter(function (line) { return cfg.products[line.sku]; }).map(function (line) {
      var p = cfg.products[line.sku];
      return { sku: p.sku, name: p.name, price: p.price, category: p.category, brand: p.brand, quantity: line.quantity };
    });
  }
  function addToCart(sku) {
    var cart = readJson(CART_KEY, []);
    var line = cart.filter(function (l) { return l.sku === sku; })[0];
    if (line) line.quantity += 1; else cart.push({ sku: sku, quantity: 1 });
    localStorage.setItem(CART_KEY, JSON.stringify(cart));
  }
  function cartData() {
    var items = cartLines();
    var value = items.reduce(function (sum, i) { return sum + i.price * i.quantity; }, 0);
    return { value: Math.round(value * 100) / 100, currency: cfg.currency, items: items };
  }
  function renderCart() {
    var list = byId('cart-items');
    if (!list) return;
    var data = cartData();
    list.innerHTML = '';
    data.items.forEach(function (i) {
      var li = document.createElement('li');
      li.textContent = i.quantity + ' x ' + i.name + ' (' + i.price.toFixed(2) + ' ' + cfg.currency + ')';
      list.appendChild(li);
    });
    byId('cart-total').textContent = data.value.toFixed(2);
  }
  function goToCheckout() {
    tags.track('begin_checkout', cartData());
    tags.flush();  // send the pending GA4 batch before the page goes away
    location.href = '/checkout';
  }

  // ---------------------------------------------------------------- pages
  var pages = {
    product: function () {
      var product = cfg.product;
      var one = { value: product.price, currency: cfg.currency, items: [Object.assign({ quantity: 1 }, product)] };
      tags.track('view_item', one);
      byId('add-to-cart').addEventListener('click', function () {
        addToCart(product.sku);
        tags.track('add_to_cart', one);
        byId('added-to-cart').hidden = false;
      });
      byId('checkout-now').addEventListener('click', function () {
        if (!cartLines().length) addToCart(product.sku);
        goToCheckout();
      });
    },

    cart: function () {
      renderCart();
      byId('checkout').addEventListener('click', goToCheckout);
    },

    checkout: function () {
      renderCart();
      if (bugs.wrong_trigger) tags.track('purchase', Object.assign(cartData(), { event_id: tags.uuid() }));
      byId('checkout-form').addEventListener('submit', function (event) {
        event.preventDefault();
        var button = byId('place-order');
        button.disabled = true;
        var field = function (id) { return byId(id).value.trim(); };
        var payload = {
          items: cartLines().map(function (i) { return { sku: i.sku, quantity: i.quantity }; }),
          email: field('email'), phone: field('phone'), first_name: field('first-name'),
          last_name: field('last-name'), address: field('address'), postcode: field('postcode'),
          city: field('city'), country: field('country')
        };
        fetch(apiBase() + '/api/checkout', {
          method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(payload)
        }).then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) throw new Error(body.error || 'checkout failed');
            location.href = body.thank_you_url;
          });
        }).catch(function (err) {
          button.disabled = false;
          var box = byId('checkout-error');
          box.textContent = err.message;
          box.hidden = false;
        });
      });
    },

    thank_you: function () {
      var order = cfg.purchase;
      if (!order) return;
      localStorage.removeItem(CART_KEY);
      if (bugs.wrong_trigger) return;  // it already fired on the checkout page
      var data = {
        transaction_id: order.order_id, value: order.value, currency: order.currency,
        event_id: order.event_id, email: order.email,
        items: order.items.map(function (i) {
          var p = cfg.products[i.sku] || {};
          return { sku: i.sku, name: i.name, price: i.price, quantity: i.quantity, category: p.category, brand: p.brand };
        })
      };
      if (bugs.duplicate_trigger) {
        // Two triggers (page code and a dataLayer listener) and no once-per-order guard.
        tags.track('purchase', data);
        tags.track('purchase', data);
        return;
      }
      var tracked = readJson(TRACKED_KEY, []);
      if (tracked.indexOf(order.order_id) !== -1) return;  // a reload must not count the order again
      tracked.push(order.order_id);
      localStorage.setItem(TRACKED_KEY, JSON.stringify(tracked));
      tags.track('purchase', data);
    },

    lead: function () {
      var aw = tags.getCookie('_gcl_aw'), ms = tags.getCookie('_uetmsclkid');
      if (!bugs.lead_form_without_click_id) {
        byId('lead-gclid').value = aw ? aw.split('.').slice(2).join('.') : '';
        byId('lead-fbc').value = tags.getCookie('_fbc') || '';
        byId('lead-ttclid').value = tags.getCookie('ttclid') || '';
        byId('lead-msclkid').value = ms ? ms.replace(/^_uet/, '') : '';
      }
      byId('lead-form').addEventListener('submit', function (event) {
        event.preventDefault();
        var payload = { page_url: location.href };
        ['name', 'email', 'phone', 'gclid', 'fbc', 'ttclid', 'msclkid'].forEach(function (key) {
          payload[key] = byId('lead-' + key).value.trim();
        });
        byId('lead-submit').disabled = true;
        fetch(apiBase() + '/api/lead', {
          method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(payload)
        }).then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) throw new Error(body.error || 'sending failed');
            byId('lead-id').textContent = body.lead_id;
            byId('lead-done').hidden = false;
            tags.track('generate_lead', { email: payload.email, value: 25, currency: cfg.currency, event_id: body.event_id });
          });
        }).catch(function (err) {
          byId('lead-submit').disabled = false;
          byId('lead-error').textContent = err.message;
          byId('lead-error').hidden = false;
        });
      });
    }
  };

  tags.track('page_view');
  if (pages[cfg.page]) pages[cfg.page]();
})();
