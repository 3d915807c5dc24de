// Sign-in inside the DingTalk app (免登): ask DingTalk's JSAPI for a one-time auth code and post it
// with the state this page was given; the server exchanges the code for the person's userid. Without
// the JSAPI, or when DingTalk declines, an empty code is posted: the server logs and explains the refusal.
(function () {
  "use strict";
  var form = document.getElementById("dingtalk-signin");
  if (!form) { return; }
  var sent = false;

  function send(code) {
    if (sent) { return; }
    sent = true;
    form.elements.code.value = code || "";
    form.submit();
  }

  function ask() {
    var dd = window.dd;
    var corpId = form.dataset.corpId;
    try {
      if (dd && dd.runtime && dd.runtime.permission && dd.runtime.permission.requestAuthCode) {
        dd.runtime.permission.requestAuthCode({
          corpId: corpId,
          onSuccess: function (result) { send(result && result.code); },
          onFail: function () { send(""); }
        });
      } else if (dd && dd.requestAuthCode) {
        dd.requestAuthCode({
          corpId: corpId,
          clientId: form.dataset.clientId,
          success: function (result) { send(result && (result.code || result.authCode)); },
          fail: function () { send(""); }
        });
      } else {
        send("");
      }
    } catch (error) {
      send("");
    }
  }

  if (window.dd && typeof window.dd.ready === "function") {
    if (typeof window.dd.error === "function") { window.dd.error(function () { send(""); }); }
    window.dd.ready(ask);
  } else {
    ask();
  }
})();
