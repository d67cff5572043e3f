/* Keyholder: passkeys and security keys (WebAuthn) in the browser.
 *
 * The ceremonies are the JSON API's (/api/passkeys/registration, /api/session/passkey,
 * /api/session/passwordless): this script asks for options, hands them to
 * navigator.credentials with their base64url fields decoded, and sends the answer back
 * with its binary fields base64url-encoded. Elements marked data-needs-webauthn stay hidden
 * in a browser without WebAuthn (or without this script).
 *
 * - form[data-passkey-register]: fields "name" and "password"; on success, goes to data-done.
 * - button[data-passkey-signin]: signs in with a passkey alone; goes to data-next, or the
 *   desk for staff and the accounts page for everyone else.
 * - button[data-passkey-verify]: passes the second factor of this session (or steps it up);
 *   goes to data-next.
 * Each shows what went wrong in the element named by its data-error (an id).
 */
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i += 1) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeDescriptors(list) {
    return (list || []).map(function (each) {
      var copy = Object.assign({}, each);
      copy.id = toBytes(each.id);
      return copy;
    });
  }

  function creationOptions(options) {
    var copy = Object.assign({}, options);
    copy.challenge = toBytes(options.challenge);
    copy.user = Object.assign({}, options.user, {id: toBytes(options.user.id)});
    copy.excludeCredentials = decodeDescriptors(options.excludeCredentials);
    return copy;
  }

  function requestOptions(options) {
    var copy = Object.assign({}, options);
    copy.challenge = toBytes(options.challenge);
    copy.allowCredentials = decodeDescriptors(options.allowCredentials);
    return copy;
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {clientDataJSON: toText(response.clientDataJSON)},
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || null
    };
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      if (response.userHandle) { out.response.userHandle = toText(response.userHandle); }
    }
    return out;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify(body || {})
    }).then(function (answer) {
      if (answer.status === 204) { return null; }
      return answer.json().catch(function () { return {}; }).then(function (data) {
        if (!answer.ok) {
          throw new Error(data.detail || "Something went wrong (" + answer.status + ").");
        }
        return data;
      });
    });
  }

  function sentence(text) {
    text = String(text || "").trim();
    if (!text) { return "Something went wrong."; }
    text = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?]$/.test(text) ? text : text + ".";
  }

  function reporter(element) {
    var box = document.getElementById(element.getAttribute("data-error") || "");
    return function (error) {
      var message = error && error.name === "NotAllowedError"
        ? "The passkey request was cancelled or timed out. Try again."
        : sentence(error && error.message);
      if (!box) { window.alert(message); return; }
      box.hidden = false;
      box.textContent = message;
      box.focus();
    };
  }

  function register(form) {
    var report = reporter(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var name = form.elements.name.value;
      var password = form.elements.password.value;
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      post("/api/passkeys/registration", {password: password}).then(function (begun) {
        return navigator.credentials.create({publicKey: creationOptions(begun.options)})
          .then(function (credential) {
            return post("/api/passkeys/registration/finish", {
              ceremony: begun.ceremony, name: name, credential: credentialJSON(credential)
            });
          });
      }).then(function () {
        window.location.assign(form.getAttribute("data-done") || "/account/security");
      }).catch(function (error) {
        button.disabled = false;
        report(error);
      });
    });
  }

  function assert(button, begin, finish, landing) {
    var report = reporter(button);
    button.addEventListener("click", function () {
      button.disabled = true;
      post(begin).then(function (begun) {
        return navigator.credentials.get({publicKey: requestOptions(begun.options)})
          .then(function (credential) {
            return post(finish, {ceremony: begun.ceremony, credential: credentialJSON(credential)});
          });
      }).then(function (answer) {
        window.location.assign(landing(answer));
      }).catch(function (error) {
        button.disabled = false;
        report(error);
      });
    });
  }

  if (!window.PublicKeyCredential || !navigator.credentials) { return; }
  Array.prototype.forEach.call(document.querySelectorAll("[data-needs-webauthn]"), function (el) {
    el.hidden = false;
  });
  Array.prototype.forEach.call(document.querySelectorAll("form[data-passkey-register]"), register);
  Array.prototype.forEach.call(document.querySelectorAll("button[data-passkey-signin]"), function (b) {
    assert(b, "/api/session/passwordless", "/api/session/passwordless/finish", function (user) {
      var next = b.getAttribute("data-next");
      if (next) { return next; }
      return user && user.staff_role ? "/desk" : "/accounts";
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("button[data-passkey-verify]"), function (b) {
    assert(b, "/api/session/passkey", "/api/session/passkey/finish", function () {
      return b.getAttribute("data-next") || "/";
    });
  });
}());
