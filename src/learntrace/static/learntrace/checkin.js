// The check-in confirmation on the phone: asks for the location when the meeting has a
// geofence, and takes a finger-drawn signature when the meeting wants one.
(function () {
  "use strict";
  var form = document.getElementById("checkin-form");
  if (!form) { return; }
  var button = document.getElementById("checkin-button");
  var canvas = document.getElementById("signature-pad");
  var drawn = false;

  if (form.getAttribute("data-needs-location") === "1" && navigator.geolocation) {
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.latitude.value = position.coords.latitude;
      form.elements.longitude.value = position.coords.longitude;
      button.disabled = false;
    }, function () { button.disabled = false; }, { enableHighAccuracy: true, timeout: 15000 });
  }

  if (canvas) {
    var context = canvas.getContext("2d");
    context.lineWidth = 2.5;
    context.lineCap = "round";
    var drawing = false;
    var point = function (event) {
      var box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
    };
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      var p = point(event);
      context.beginPath();
      context.moveTo(p[0], p[1]);
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var p = point(event);
      context.lineTo(p[0], p[1]);
      context.stroke();
      drawn = true;
    });
    canvas.addEventListener("pointerup", function () { drawing = false; });
    document.getElementById("signature-clear").addEventListener("click", function () {
      context.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
    });
  }

  form.addEventListener("submit", function () {
    if (canvas && drawn) { form.elements.signature.value = canvas.toDataURL("image/png"); }
  });
  // Says the pad listens: a stroke drawn before this script ran would be lost.
  form.setAttribute("data-ready", "1");
})();
