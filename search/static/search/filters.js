/* The search page's filters (search/templates/search/search.html) are folded in a
   <details> so that on a phone the results come right after the search box. From 64rem
   (where portal.css puts them beside the results) they start open. Only at load: a
   reader who closes them keeps them closed. A static file for the Content-Security-Policy. */
(function () {
  "use strict";
  var panel = document.querySelector("details.search-filters[data-open-wide]");
  if (!panel || !window.matchMedia) return;
  if (window.matchMedia("(min-width: 64rem)").matches) panel.open = true;
})();
