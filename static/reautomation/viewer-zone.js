// Tell the server the browser's time zone, so call times render in the reader's zone
// (reautomation/viewer_zone.py). Reloads once when the zone was unknown or has changed.
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) { return; }
  var current = (document.cookie.match(/(?:^|; )viewer_tz=([^;]*)/) || [])[1];
  if (current && decodeURIComponent(current) === zone) { return; }
  // IANA names are letters, digits, "/", "_", "+" and "-": safe in a cookie as they are.
  document.cookie = "viewer_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
  var stored = (document.cookie.match(/(?:^|; )viewer_tz=([^;]*)/) || [])[1];
  if (stored && decodeURIComponent(stored) === zone && document.body.dataset.viewerZone !== zone) {
    window.location.reload();
  }
})();
