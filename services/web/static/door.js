/* The door's scanner: decode a badge's QR code in the browser (ZXing, vendored), post it to
 * /door/scans and show the answer; while the network is down, keep the scans in localStorage
 * (each with its own id and time) and send them when it returns.
 *
 * Every way in (the camera, a photo, the typed code) ends in scan(text). A queued scan carries
 * `scan_id` and `scanned_at`: registration counts it for the day it was made and once, however
 * many times it is sent. */
(function () {
  "use strict";

  var root = document.getElementById("door");
  if (!root) return;
  var form = document.getElementById("door-form");
  var pointSelect = document.getElementById("point");
  var codeInput = document.getElementById("code");
  var photoInput = document.getElementById("photo");
  var video = document.getElementById("camera");
  var startButton = document.getElementById("camera-start");
  var stopButton = document.getElementById("camera-stop");
  var queueSection = document.getElementById("queue");
  var pendingText = document.getElementById("pending");
  var syncedList = document.getElementById("synced");
  var text = document.getElementById("door-text").dataset;
  var csrf = form.querySelector("input[name=csrf_token]").value;

  var QUEUE_KEY = "foro.door.queue";
  var POINT_KEY = "foro.door.point";
  var REPEAT_MS = 4000; // the camera sees the same badge many times a second
  var MAX_BACKOFF_MS = 60000;

  // The server's clock minus this device's: a queued scan's time is told in the server's clock.
  var clockOffset = Date.parse(root.dataset.serverTime) - Date.now() || 0;
  var lastSeen = { text: "", at: 0 };
  var syncing = false;
  var backoff = 1000;
  var retryTimer = null;

  document.getElementById("scanner").hidden = false;

  // --- the queue ---------------------------------------------------------------------------

  function readQueue() {
    try {
      var found = JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]");
      return Array.isArray(found) ? found : [];
    } catch (e) {
      return [];
    }
  }

  function writeQueue(items) {
    localStorage.setItem(QUEUE_KEY, JSON.stringify(items));
    showPending();
  }

  function enqueue(item) {
    var items = readQueue();
    if (!items.some(function (i) { return i.scan_id === item.scan_id; })) items.push(item);
    writeQueue(items);
  }

  function dequeue(scanId) {
    writeQueue(readQueue().filter(function (i) { return i.scan_id !== scanId; }));
  }

  function showPending() {
    var count = readQueue().length;
    pendingText.textContent = pendingText.dataset.template.replace("{count}", String(count));
    root.dataset.pending = String(count);
    if (count > 0 || syncedList.children.length > 0) queueSection.hidden = false;
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // --- showing an answer -------------------------------------------------------------------

  function show(outcome, fields) {
    var result = document.getElementById("result");
    result.dataset.outcome = outcome;
    document.getElementById("result-headline").textContent = fields.headline || "";
    document.getElementById("result-name").textContent = fields.name || "";
    var meta = document.getElementById("result-meta");
    meta.hidden = !fields.category;
    document.getElementById("result-category").textContent = fields.category || "";
    if (/^#[0-9A-Fa-f]{6}$/.test(fields.badge_colour || "")) {
      document.getElementById("result-colour").setAttribute("fill", fields.badge_colour);
    }
    document.getElementById("result-group").textContent = fields.delegation || fields.organisation || "";
    document.getElementById("result-detail").textContent = fields.detail || "";
    if (navigator.vibrate) {
      if (outcome === "refused") navigator.vibrate([200, 100, 200]);
      else if (outcome === "checked_in") navigator.vibrate(80);
    }
  }

  function showAnswer(answer) {
    if (answer.outcome === "checked_in" || answer.outcome === "already") {
      answer.detail = answer.replayed ? text.sent : "";
    }
    show(answer.outcome, answer);
  }

  function noteSynced(item, answer) {
    var li = document.createElement("li");
    li.dataset.outcome = answer.outcome;
    var what = answer.name ? answer.name + " · " + (answer.headline || "") : (answer.headline || "");
    if (answer.outcome === "refused" && answer.detail) what += " · " + answer.detail;
    li.textContent = text.sent + ": " + what;
    syncedList.insertBefore(li, syncedList.firstChild);
    while (syncedList.children.length > 20) syncedList.removeChild(syncedList.lastChild);
    queueSection.hidden = false;
  }

  // --- sending -------------------------------------------------------------------------------

  /* Post one scan. Resolves to {final, status, answer}: final answers (checked in, refused,
   * invalid) take the scan out of the queue; the others (offline, 5xx, sign-in expired) keep it. */
  function send(item) {
    var body = { token: item.token, point: item.point, scan_id: item.scan_id };
    if (item.queued) body.scanned_at = item.scanned_at;
    return fetch("/door/scans", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (answer.server_time) clockOffset = Date.parse(answer.server_time) - Date.now() || clockOffset;
        var final = response.status === 200 || response.status === 422;
        return { final: final, status: response.status, answer: answer };
      });
    }, function () {
      return { final: false, status: 0, answer: {} };
    });
  }

  function signInLink(answer) {
    if (answer.outcome === "sign_in" || answer.outcome === "expired") {
      show("refused", { headline: text.signIn, detail: answer.detail });
      return true;
    }
    return false;
  }

  function scan(raw) {
    var token = (raw || "").trim();
    if (!token) return;
    var point = pointSelect.value;
    var now = Date.now();
    if (token === lastSeen.text && now - lastSeen.at < REPEAT_MS) return;
    lastSeen = { text: token, at: now };
    var item = {
      scan_id: newId(),
      token: token,
      point: point,
      scanned_at: new Date(now + clockOffset).toISOString()
    };
    if (!navigator.onLine) return keep(item);
    show("sending", { headline: text.sending });
    send(item).then(function (sent) {
      if (sent.final) return showAnswer(sent.answer);
      if (sent.status === 0 || sent.status >= 500) return keep(item);
      if (!signInLink(sent.answer)) show("refused", { headline: text.refused, detail: sent.answer.detail });
      keep(item, true);
    });
  }

  function keep(item, quietly) {
    item.queued = true;
    enqueue(item);
    if (!quietly) show("pending", { headline: text.queued, detail: text.queuedDetail });
    scheduleRetry();
  }

  function scheduleRetry() {
    if (retryTimer) return;
    retryTimer = setTimeout(function () {
      retryTimer = null;
      sync();
    }, backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }

  /* Send the queued scans in order; stop at the first that cannot be sent and retry later. */
  function sync() {
    if (syncing || !navigator.onLine) return Promise.resolve();
    var items = readQueue();
    if (!items.length) return Promise.resolve();
    syncing = true;
    var index = 0;
    function next() {
      if (index >= items.length) return done(true);
      var item = items[index++];
      return send(item).then(function (sent) {
        if (!sent.final) {
          signInLink(sent.answer);
          return done(false);
        }
        dequeue(item.scan_id);
        noteSynced(item, sent.answer);
        return next();
      });
    }
    function done(all) {
      syncing = false;
      if (all) {
        backoff = 1000;
        if (readQueue().length) return sync(); // scanned while this round was sending
      } else {
        scheduleRetry();
      }
      showPending();
    }
    return next();
  }

  window.addEventListener("online", function () {
    backoff = 1000;
    if (retryTimer) {
      clearTimeout(retryTimer);
      retryTimer = null;
    }
    sync();
  });
  document.getElementById("sync-now").addEventListener("click", function () { sync(); });

  // --- decoding ------------------------------------------------------------------------------

  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });

  /* The QR code's text in `source` drawn with its longer side `side` pixels, or null. */
  function decode(source, width, height, side, pure) {
    var scale = side / Math.max(width, height);
    var w = Math.max(1, Math.round(width * scale));
    var h = Math.max(1, Math.round(height * scale));
    canvas.width = w;
    canvas.height = h;
    context.drawImage(source, 0, 0, w, h);
    var rgba = context.getImageData(0, 0, w, h).data;
    var luminance = new Uint8ClampedArray(w * h);
    for (var i = 0, j = 0; j < luminance.length; i += 4, j++) {
      luminance[j] = (rgba[i] * 299 + rgba[i + 1] * 587 + rgba[i + 2] * 114) / 1000;
    }
    var bitmap = new ZXing.BinaryBitmap(
      new ZXing.HybridBinarizer(new ZXing.RGBLuminanceSource(luminance, w, h))
    );
    var hints = new Map();
    hints.set(pure ? ZXing.DecodeHintType.PURE_BARCODE : ZXing.DecodeHintType.TRY_HARDER, true);
    try {
      return new ZXing.QRCodeReader().decode(bitmap, hints).getText();
    } catch (e) {
      return null; // no QR code found at this size
    }
  }

  /* A photo: ZXing's finder misses some codes at one size and finds them at another (it depends
   * on the pixels per module), so it is tried at a few sizes, then as a bare QR code image. */
  function decodeImage(source, width, height) {
    var natural = Math.min(Math.max(width, height), 1600);
    var sides = [natural, 1000, 700, 480, 320].filter(function (side, index, all) {
      return all.indexOf(side) === index && (index === 0 || side !== natural);
    });
    for (var i = 0; i < sides.length; i++) {
      var found = decode(source, width, height, sides[i], false);
      if (found) return found;
    }
    return decode(source, width, height, natural, true);
  }

  photoInput.addEventListener("change", function () {
    var file = photoInput.files && photoInput.files[0];
    if (!file) return;
    createImageBitmap(file).then(function (image) {
      var found = decodeImage(image, image.width, image.height);
      if (image.close) image.close();
      photoInput.value = "";
      lastSeen = { text: "", at: 0 }; // a photo chosen again is a scan again
      if (found) scan(found);
      else show("refused", { headline: text.noCode });
    }, function () {
      photoInput.value = "";
      show("refused", { headline: text.noCode });
    });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var typed = codeInput.value;
    codeInput.value = "";
    lastSeen = { text: "", at: 0 };
    scan(typed);
    codeInput.focus();
  });

  // --- the camera ----------------------------------------------------------------------------

  var stream = null;
  var frameTimer = null;

  function stopCamera() {
    if (frameTimer) clearInterval(frameTimer);
    frameTimer = null;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
    stopButton.hidden = true;
    startButton.hidden = false;
  }

  startButton.addEventListener("click", function () {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      show("refused", { headline: text.noCamera });
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (opened) {
        stream = opened;
        video.srcObject = opened;
        video.hidden = false;
        startButton.hidden = true;
        stopButton.hidden = false;
        stopButton.focus();
        return video.play();
      })
      .then(function () {
        frameTimer = setInterval(function () {
          if (!video.videoWidth) return;
          var side = Math.min(800, Math.max(video.videoWidth, video.videoHeight));
          var found = decode(video, video.videoWidth, video.videoHeight, side, false);
          if (found) scan(found);
        }, 250);
      })
      .catch(function () {
        stopCamera();
        show("refused", { headline: text.noCamera });
      });
  });
  stopButton.addEventListener("click", stopCamera);

  // --- start ---------------------------------------------------------------------------------

  var remembered = localStorage.getItem(POINT_KEY);
  if (remembered && !/[?&]point=/.test(location.search)) {
    for (var k = 0; k < pointSelect.options.length; k++) {
      if (pointSelect.options[k].value === remembered) pointSelect.value = remembered;
    }
  }
  pointSelect.addEventListener("change", function () {
    localStorage.setItem(POINT_KEY, pointSelect.value);
  });

  if ("serviceWorker" in navigator && root.dataset.serviceWorker) {
    navigator.serviceWorker.register(root.dataset.serviceWorker, { scope: "/door" }).catch(function () {});
  }

  showPending();
  sync();
})();
