/* The main navigation's "Categories" menu is a native <details> disclosure: it opens and
   closes with Enter or Space and without script, and browsers expose its <summary> as a
   button that is expanded or collapsed. This adds what a menu button also does: Escape
   closes it and puts the focus back on the button, and a click or focus outside closes it.
   A static file, not an inline script (the portal's Content-Security-Policy is
   script-src 'self'). */
(function () {
  "use strict";
  var menu = document.querySelector(".site-nav__categories");
  if (!menu) return;
  var button = menu.querySelector("summary");
  function close(refocus) {
    if (!menu.open) return;
    menu.open = false;
    if (refocus) button.focus();
  }
  menu.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      close(true);
    }
  });
  document.addEventListener("click", function (event) {
    if (!menu.contains(event.target)) close(false);
  });
  document.addEventListener("focusin", function (event) {
    if (!menu.contains(event.target)) close(false);
  });
})();
