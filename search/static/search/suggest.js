/* Suggestions for the portal's search box (search/templates/search/search.html): as the
   reader types, headlines from the suggestion endpoint fill the input's <datalist>.
   A static file, not an inline script, so that the portal's Content-Security-Policy
   (script-src 'self') allows it. The endpoint comes from the input's data-suggest-url. */
(function () {
  "use strict";
  var input = document.getElementById("search-q");
  var list = document.getElementById("search-suggestions");
  var timer;
  if (!input || !list || !window.fetch || !input.dataset.suggestUrl) return;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (input.value.trim().length < 2) return;
      fetch(input.dataset.suggestUrl + "?q=" + encodeURIComponent(input.value), {
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : { suggestions: [] };
        })
        .then(function (data) {
          var options = data.suggestions.map(function (suggestion) {
            var option = document.createElement("option");
            option.value = suggestion.headline;
            return option;
          });
          list.replaceChildren.apply(list, options);
        })
        .catch(function () {});
    }, 200);
  });
})();
