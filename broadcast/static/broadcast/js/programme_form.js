// The programme form, enhanced without a build step: times of day as chips (the text
// field stays the source of truth and works without JavaScript), and the fields that
// only matter for one repeat mode or one kind of content are hidden for the others.
(function () {
  "use strict";
  var form = document.querySelector(".bc-form");
  if (!form) return;
  var text = form.querySelector("input[data-bc-times]");
  var t = function (key) { return (form.dataset && form.dataset[key]) || key; };

  function parseTimes(value) {
    var found = {};
    (value || "").split(/[,;\s]+/).forEach(function (piece) {
      var m = /^([01]?\d|2[0-3])[:hH.]([0-5]\d)$/.exec(piece.trim());
      if (m) found[("0" + m[1]).slice(-2) + ":" + m[2]] = true;
    });
    return Object.keys(found).sort();
  }

  if (text) {
    var box = document.createElement("div");
    box.className = "bc-chips";
    var list = document.createElement("ul");
    list.className = "bc-chips__list";
    list.setAttribute("aria-label", text.labels && text.labels[0] ? text.labels[0].textContent : "");
    var adder = document.createElement("input");
    adder.type = "time";
    adder.className = "bc-chips__input";
    adder.id = text.id + "_add";
    adder.setAttribute("aria-label", t("bcAddLabel"));
    var add = document.createElement("button");
    add.type = "button";
    add.className = "button button-small button-secondary bc-chips__add";
    add.textContent = t("bcAdd");
    var live = document.createElement("p");
    live.className = "bc-sr-only";
    live.setAttribute("aria-live", "polite");
    box.appendChild(list);
    box.appendChild(adder);
    box.appendChild(add);
    box.appendChild(live);
    text.type = "hidden";
    text.parentNode.insertBefore(box, text.nextSibling);
    var label = form.querySelector('label[for="' + text.id + '"]');
    if (label) label.setAttribute("for", adder.id);

    var render = function () {
      var times = parseTimes(text.value);
      list.innerHTML = "";
      times.forEach(function (value) {
        var li = document.createElement("li");
        li.className = "bc-chip";
        li.appendChild(document.createTextNode(value + " "));
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "bc-chip__remove";
        remove.textContent = "×";
        remove.setAttribute("aria-label", t("bcRemove").replace("%s", value));
        remove.addEventListener("click", function () {
          text.value = parseTimes(text.value).filter(function (v) { return v !== value; }).join(", ");
          live.textContent = t("bcRemoved").replace("%s", value);
          render();
          adder.focus();
        });
        li.appendChild(remove);
        list.appendChild(li);
      });
    };
    var addTime = function () {
      var value = parseTimes(adder.value)[0];
      if (!value) return;
      text.value = parseTimes(text.value + "," + value).join(", ");
      adder.value = "";
      live.textContent = t("bcAdded").replace("%s", value);
      render();
    };
    add.addEventListener("click", addTime);
    adder.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); addTime(); }
    });
    // A time typed but not yet added still counts when the form is sent.
    form.addEventListener("submit", function () { if (adder.value) addTime(); });
    render();
  }

  function choice(name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : "";
  }
  function refresh() {
    form.querySelectorAll("[data-bc-show-for]").forEach(function (el) {
      var spec = el.getAttribute("data-bc-show-for").split(":");
      var shown = spec[1].split(" ").indexOf(choice(spec[0])) !== -1;
      el.hidden = !shown;
    });
  }
  form.addEventListener("change", refresh);
  refresh();

  var errors = document.getElementById("bc-errors");
  if (errors) errors.focus();
})();
